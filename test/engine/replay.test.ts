import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import {
  ConflictError,
  MalformedError,
  NotFoundError,
  PermanentError,
  TransientError,
  ValidationError,
} from '../../src/core/errors.ts';
import type { Json } from '../../src/core/message.ts';
import { REPLAY_HEADERS, type ReplayJob } from '../../src/core/replay.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { tempDir } from '../support/temp-dir.ts';

type Kind = 'bug' | 'declined' | 'malformed' | 'flaky' | 'ok';
interface Body {
  kind: Kind;
  n: number;
  customer?: { country: string };
}

let tmp: ReturnType<typeof tempDir>;
let storeUrl: string;
let clock: ManualClock;
let dl: Deadletter;
let second: Deadletter | undefined;
/** Every wait the runners asked for, in ms. */
let sleeps: number[];
/** Runs during each wait of a runner: the test's chance to act "meanwhile". */
let onSleep: (() => Promise<void>) | undefined;
/** Kinds that no longer fail: the bug was fixed. */
let fixed: Set<Kind>;

function handler(message: { body: Body }): void {
  const { kind, n } = message.body;
  if (fixed.has(kind) || kind === 'ok') return;
  if (kind === 'bug') throw new TypeError("Cannot read properties of undefined (reading 'email')");
  if (kind === 'declined') throw new PermanentError(`card declined for order ${n}`);
  if (kind === 'malformed') throw new MalformedError(`order ${n} is not valid JSON`);
  throw new TransientError('upstream returned 503');
}

/** A handle on the test's store: manual clock, waits that move it, no maintenance unless started. */
function open(): Promise<Deadletter> {
  return Deadletter.open({
    store: storeUrl,
    clock,
    maintenance: false,
    actor: 'ada',
    replay: {
      holdLease: 30_000,
      canaryPollInterval: 1_000,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.advance(ms);
        await onSleep?.();
      },
    },
  });
}

/** Lets a worker handle everything in the queue (failures die at once: maxReceives 1). */
async function work(queue = 'orders', handle = dl): Promise<void> {
  const worker = await handle.work<Body>(queue, handler, { drain: true, pollInterval: 5, concurrency: 10 });
  await worker.stopped;
}

/** Sends bodies (with idempotency keys `order-<n>`) and lets them all fail once. */
async function killAll(bodies: Body[], queue = 'orders'): Promise<void> {
  await dl.sendBatch(
    queue,
    bodies.map((body) => ({
      body: body as unknown as Json,
      idempotencyKey: `order-${body.n}`,
      headers: { tenant: 'acme' },
    })),
  );
  clock.advance(1_000);
  await work(queue);
  clock.advance(1_000);
}

function bodies(kind: Kind, from: number, count: number, extra: Partial<Body> = {}): Body[] {
  return Array.from({ length: count }, (_, k) => ({ kind, n: from + k, ...extra }));
}

async function deadIds(filter: Parameters<Deadletter['listDeadLetters']>[0] = {}): Promise<string[]> {
  return (await dl.listDeadLetters({ ...filter, limit: 1000 })).items.map((item) => item.id);
}

async function statsOf(queue: string) {
  const row = (await dl.stats()).find((s) => s.queue === queue);
  if (!row) throw new Error(`no stats for ${queue}`);
  return row;
}

beforeEach(async () => {
  tmp = tempDir();
  storeUrl = `sqlite:${join(tmp.dir, 'replay.db')}`;
  clock = new ManualClock(Date.UTC(2026, 10, 25, 8, 0, 0));
  sleeps = [];
  onSleep = undefined;
  fixed = new Set();
  dl = await open();
  await dl.createQueue('orders', { maxReceives: 1, backoff: 'fixed:0' });
  await dl.createQueue('orders-retry', { maxReceives: 1, backoff: 'fixed:0' });
});

afterEach(async () => {
  await second?.close();
  second = undefined;
  await dl.close();
  tmp.remove();
});

describe('replay dry run', () => {
  it('answers how many, per group, tier and queue, samples, destination and replays before, changing nothing', async () => {
    await killAll([...bodies('bug', 0, 6), ...bodies('declined', 10, 3), ...bodies('malformed', 20, 2)]);
    const before = await statsOf('orders');
    const plan = await dl.replayDryRun({ queue: 'orders' });
    expect(plan.total).toBe(11);
    expect(plan.destination).toBeNull();
    expect(plan.destinations).toEqual([{ queue: 'orders', count: 11 }]);
    expect(plan.byTier).toEqual([
      { tier: 'permanent', count: 9 },
      { tier: 'malformed', count: 2 },
    ]);
    expect(plan.byGroup.map((g) => g.count)).toEqual([6, 3, 2]);
    expect(plan.byQueue).toEqual([{ queue: 'orders', count: 11, replayLimit: 3 }]);
    expect(plan.samples).toHaveLength(5);
    expect(plan.alreadyReplayed).toEqual([]);
    expect(plan.atReplayLimit).toBe(0);
    const toRetry = await dl.replayDryRun({ tier: 'malformed' }, { to: 'orders-retry' });
    expect(toRetry).toMatchObject({ total: 2, destination: 'orders-retry' });
    expect(toRetry.destinations).toEqual([{ queue: 'orders-retry', count: 2 }]);
    expect(await statsOf('orders')).toEqual(before);
    expect(await dl.listReplayJobs()).toEqual([]);
  });

  it('counts earlier replays and those the replay limit would skip', async () => {
    await dl.updateQueue('orders', { replayLimit: 1 });
    await killAll(bodies('bug', 0, 3));
    await dl.replay({ ids: [(await deadIds())[0] as string] });
    await work();
    const plan = await dl.replayDryRun({ queue: 'orders' });
    expect(plan.total).toBe(3);
    expect(plan.alreadyReplayed).toEqual([{ times: 1, count: 1 }]);
    expect(plan.atReplayLimit).toBe(1);
    expect(plan.byQueue).toEqual([{ queue: 'orders', count: 3, replayLimit: 1 }]);
  });
});

describe('replay', () => {
  it('replays a group back to its queue with the replay headers and the idempotency key, as an audited job', async () => {
    await killAll([...bodies('bug', 0, 4), ...bodies('declined', 10, 2)]);
    const [bugGroup] = (await dl.listGroups()).filter((g) => g.errorName === 'TypeError');
    const selected = await deadIds({ groupId: bugGroup?.id as string });
    expect(selected).toHaveLength(4);

    const { job, plan, skipped } = await dl.replay({ groupId: bugGroup?.id as string }, { actor: 'bob' });
    expect(plan.total).toBe(4);
    expect(skipped).toEqual([]);
    expect(job).toMatchObject({
      status: 'completed',
      createdBy: 'bob',
      planned: 4,
      replayed: 4,
      skipped: 0,
      holder: null,
      message: 'replayed 4, skipped 0',
    });
    expect(await deadIds({ groupId: bugGroup?.id as string })).toEqual([]);
    expect(await deadIds()).toHaveLength(2);
    for (const id of selected) {
      const history = await dl.findReplayedDeadLetter(id);
      expect(history).toMatchObject({ replayedBy: 'bob', replayJobId: job.id, destination: 'orders' });
      const message = await dl.getMessage(history?.replayedTo as string);
      const original = history?.body as unknown as Body;
      expect(message).toMatchObject({
        queue: 'orders',
        state: 'waiting',
        body: original,
        idempotencyKey: `order-${original.n}`,
        replayOf: id,
        replayCount: 1,
      });
      expect(message.headers).toEqual({
        tenant: 'acme',
        [REPLAY_HEADERS.replayOf]: id,
        [REPLAY_HEADERS.job]: job.id,
        [REPLAY_HEADERS.count]: '1',
      });
    }
    expect(await statsOf('orders')).toMatchObject({ waiting: 4, dead: 2, replayed: 4 });
    expect((await dl.getGroup(bugGroup?.id as string)).deadCount).toBe(0);
    const audit = await dl.store.auditList({ targetId: job.id, limit: 10 });
    expect(audit.map((e) => [e.action, e.actor])).toEqual([
      ['replay.finish', 'bob'],
      ['replay.create', 'bob'],
    ]);
    expect(audit[1]?.details).toMatchObject({ planned: 4, selector: { groupId: bugGroup?.id } });
    expect(audit[0]?.details).toMatchObject({ to: 'completed', replayed: 4 });
  });

  it('selects by ids, by tier and by a body field', async () => {
    await killAll([
      ...bodies('bug', 0, 3, { customer: { country: 'DE' } }),
      ...bodies('bug', 10, 3, { customer: { country: 'FR' } }),
      ...bodies('malformed', 20, 2),
    ]);
    const de = await deadIds({ where: [{ path: ['customer', 'country'], value: 'DE' }] });
    expect(de).toHaveLength(3);
    const byWhere = await dl.replay({ where: [{ path: ['customer', 'country'], value: 'DE' }] });
    expect(byWhere.job.replayed).toBe(3);
    for (const id of de) expect(await dl.findReplayedDeadLetter(id)).toBeDefined();

    const byTier = await dl.replay({ tier: 'malformed' });
    expect(byTier.job.replayed).toBe(2);
    const [one, two] = await deadIds();
    const byIds = await dl.replay({ ids: [one as string, two as string] });
    expect(byIds.job.replayed).toBe(2);
    expect(await deadIds()).toHaveLength(1);
  });

  it('sends to another queue with --to', async () => {
    await killAll(bodies('declined', 0, 3));
    const { job } = await dl.replay({ queue: 'orders' }, { to: 'orders-retry' });
    expect(job).toMatchObject({ destination: 'orders-retry', replayed: 3 });
    expect(await statsOf('orders')).toMatchObject({ dead: 0, replayed: 3, waiting: 0 });
    expect(await statsOf('orders-retry')).toMatchObject({ waiting: 3 });
  });

  it('links a replay that dies again to its previous dead letter, and skips it at the replay limit', async () => {
    await dl.updateQueue('orders', { replayLimit: 2 });
    await killAll(bodies('bug', 0, 1));
    const [first] = await deadIds();
    await dl.replay({ queue: 'orders' });
    await work();
    const [second] = await deadIds();
    expect(second).not.toBe(first);
    const again = await dl.getDeadLetter(second as string);
    expect(again).toMatchObject({ previousId: first, replayCount: 1, idempotencyKey: 'order-0' });
    expect(await dl.getLineage(second as string)).toMatchObject({
      self: { id: second, state: 'dead' },
      previous: { id: first, state: 'replayed' },
      next: null,
    });
    expect(await dl.getLineage(first as string)).toMatchObject({ next: { id: second, state: 'dead' } });

    await dl.replay({ queue: 'orders' });
    await work();
    const [third] = await deadIds();
    expect(await dl.getDeadLetter(third as string)).toMatchObject({ previousId: second, replayCount: 2 });
    // Two replays: the limit. The next replay skips it and says so.
    const limited = await dl.replay({ queue: 'orders' });
    expect(limited.job).toMatchObject({ status: 'completed', replayed: 0, skipped: 1 });
    expect(limited.skipped).toEqual([{ id: third, reason: 'replay_limit', detail: 2 }]);
    expect(await dl.listReplaySkips(limited.job.id)).toEqual(limited.skipped);
    expect(await deadIds()).toEqual([third]);
  });

  it('keeps to a rate limit, waiting on the injected sleep', async () => {
    await killAll(bodies('declined', 0, 100));
    const batches: number[] = [];
    let last = 0;
    const { job } = await dl.replay(
      { queue: 'orders' },
      {
        rate: 40,
        onProgress: (j) => {
          if (j.replayed !== last) batches.push(j.replayed - last);
          last = j.replayed;
        },
      },
    );
    expect(job.replayed).toBe(100);
    // A quarter second of messages per batch, and 90 messages after the first batch at 40/s.
    expect(batches).toEqual(Array(10).fill(10));
    expect(sleeps.reduce((a, b) => a + b, 0)).toBe(2_250);
  });

  it('runs a canary first and goes on when it passes', async () => {
    await killAll(bodies('bug', 0, 20));
    fixed.add('bug');
    // While the runner waits for the canary, a worker handles what was replayed.
    onSleep = () => work();
    const { job } = await dl.replay({ queue: 'orders' }, { canary: 5, batchSize: 4 });
    expect(job).toMatchObject({ status: 'completed', replayed: 20, canarySize: 5 });
    expect(job.canary?.messages).toHaveLength(5);
    expect(job.canary?.outcome).toMatchObject({ verdict: 'passed', done: 5, died: [], failureRate: 0 });
    expect(await deadIds()).toEqual([]);
  });

  it('counts a canary message that succeeded and was deleted by a done retention of 0 as done', async () => {
    await dl.updateQueue('orders', { doneRetention: 0 });
    await killAll(bodies('bug', 0, 8));
    fixed.add('bug');
    // The replayed messages succeed, and their done rows are deleted before the canary looks.
    onSleep = async () => {
      await work();
      await dl.pruneDoneMessages();
    };
    const { job } = await dl.replay({ queue: 'orders' }, { canary: 4, batchSize: 4 });
    expect(job.canary?.outcome).toMatchObject({ verdict: 'passed', done: 4, died: [], failureRate: 0 });
    expect(job).toMatchObject({ status: 'completed', replayed: 8 });
    const [first] = job.canary?.messages ?? [];
    await expect(dl.getMessage(first?.messageId ?? '')).rejects.toThrow(/succeeded and was pruned/);
  });

  it('stops the job by itself when too many canary messages die again, and reports it', async () => {
    await killAll(bodies('bug', 0, 20));
    onSleep = () => work();
    const { job } = await dl.replay({ queue: 'orders' }, { canary: 4, canaryMaxFailureRate: 0.5 });
    expect(job).toMatchObject({ status: 'canary_failed', replayed: 4, holder: null });
    expect(job.canary?.outcome).toMatchObject({ verdict: 'failed', done: 0, failureRate: 1 });
    expect(job.canary?.outcome?.died).toHaveLength(4);
    expect(job.message).toMatch(/canary failed: 4 of 4 replayed messages died again \(100% > 50%\)/);
    // The other 16 were never replayed; the 4 died again as new dead letters.
    expect(await statsOf('orders')).toMatchObject({ dead: 20, replayed: 4 });
    const [finish] = await dl.store.auditList({ targetId: job.id, action: 'replay.finish', limit: 1 });
    expect(finish?.details).toMatchObject({ to: 'canary_failed', canary: { verdict: 'failed' } });
  });

  it('stops when the canary outcome is not known in time', async () => {
    await killAll(bodies('bug', 0, 3));
    const { job } = await dl.replay({ queue: 'orders' }, { canary: 2, canaryTimeout: '5s' });
    expect(job.status).toBe('canary_failed');
    expect(job.canary?.outcome).toMatchObject({ verdict: 'timed_out', pending: 2 });
    expect(job.message).toMatch(/canary timed out/);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBe(5_000);
  });

  it('is paused, resumed and cancelled from a second handle', async () => {
    await killAll(bodies('declined', 0, 40));
    second = await open();
    const other = second;
    let paused: ReplayJob | undefined;
    onSleep = async () => {
      if (paused) return;
      const [running] = await other.listReplayJobs({ status: 'running' });
      paused = await other.pauseReplay(running?.id as string, { actor: 'cy' });
    };
    const first = await dl.replay({ queue: 'orders' }, { rate: 40 });
    expect(first.job).toMatchObject({ status: 'paused', replayed: 10, holder: null });
    expect(await deadIds()).toHaveLength(30);

    onSleep = undefined;
    const resumed = await other.resumeReplay(first.job.id, { actor: 'dee' });
    expect(resumed.job).toMatchObject({ status: 'completed', replayed: 40 });
    expect(await deadIds()).toEqual([]);
    const actions = (await dl.store.auditList({ targetId: first.job.id, limit: 10 })).map((e) => [
      e.action,
      e.actor,
    ]);
    expect(actions).toEqual([
      ['replay.finish', 'dee'],
      ['replay.resume', 'dee'],
      ['replay.pause', 'cy'],
      ['replay.create', 'ada'],
    ]);

    // (The worker also handles the 40 replays of the first job: they die again.)
    await killAll(bodies('declined', 100, 40));
    const deadBefore = (await deadIds()).length;
    onSleep = async () => {
      const [running] = await other.listReplayJobs({ status: 'running' });
      if (running) await other.cancelReplay(running.id, { actor: 'cy' });
    };
    const cancelled = await dl.replay({ queue: 'orders' }, { rate: 40 });
    expect(cancelled.job).toMatchObject({ status: 'cancelled', replayed: 10 });
    expect(await deadIds()).toHaveLength(deadBefore - 10);
    await expect(other.resumeReplay(cancelled.job.id)).rejects.toBeInstanceOf(ConflictError);
    await expect(other.pauseReplay(cancelled.job.id)).rejects.toBeInstanceOf(ConflictError);
  });

  it('pauses on an abort (Ctrl-C) and resumes where it stopped', async () => {
    await killAll(bodies('declined', 0, 30));
    const abort = new AbortController();
    onSleep = async () => abort.abort();
    const { job } = await dl.replay({ queue: 'orders' }, { rate: 40, signal: abort.signal });
    expect(job).toMatchObject({ status: 'paused', replayed: 10 });
    expect(job.message).toContain(`dlq replay resume ${job.id}`);
    onSleep = undefined;
    const resumed = await dl.resumeReplay(job.id);
    expect(resumed.job).toMatchObject({ status: 'completed', replayed: 30, skipped: 0 });
  });

  it('takes over a job whose runner died, once its hold has run out', async () => {
    await killAll(bodies('declined', 0, 10));
    const { job } = await dl.replay({ queue: 'orders' }, { detach: true });
    expect(job).toMatchObject({ status: 'pending', holder: null });
    // A runner takes it and dies at once.
    await dl.store.replayJobAcquire({ holder: 'ghost', leaseMs: 30_000, now: clock.now(), jobId: job.id });
    second = await open();
    await expect(second.resumeReplay(job.id)).rejects.toThrow(/being run by ghost/);
    clock.advance(30_001);
    const resumed = await second.resumeReplay(job.id);
    expect(resumed.job).toMatchObject({ status: 'completed', replayed: 10 });
  });

  it('takes over a job whose runner died after its canary batch, and waits for that canary first', async () => {
    await killAll(bodies('bug', 0, 6));
    fixed.add('bug');
    const { job } = await dl.replay({ queue: 'orders' }, { detach: true, canary: 2, batchSize: 2 });
    // A runner takes it, replays the canary's two messages, and dies before it starts waiting.
    await dl.store.replayJobAcquire({ holder: 'ghost', leaseMs: 30_000, now: clock.now(), jobId: job.id });
    const [a, b] = (await dl.listDeadLetters({ queue: 'orders', limit: 2 })).items;
    await dl.store.deadLetterReplayBatch({
      jobId: job.id,
      holder: 'ghost',
      items: [
        { id: a?.id as string, messageId: 'canary-1' },
        { id: b?.id as string, messageId: 'canary-2' },
      ],
      destination: null,
      position: { diedAt: b?.diedAt as number, id: b?.id as string },
      canary: true,
      actor: 'ghost',
      now: clock.now(),
    });
    clock.advance(30_001);
    onSleep = () => work();
    const resumed = await dl.resumeReplay(job.id);
    expect(resumed.job).toMatchObject({ status: 'completed', replayed: 6 });
    expect(resumed.job.canary?.messages.map((m) => m.messageId)).toEqual(['canary-1', 'canary-2']);
    expect(resumed.job.canary?.outcome).toMatchObject({ verdict: 'passed', done: 2 });
  });

  it('leaves a detached job to the replay runner service', async () => {
    await killAll(bodies('declined', 0, 10));
    const { job } = await dl.replay({ queue: 'orders' }, { detach: true });
    second = await Deadletter.open({ store: storeUrl, clock, maintenance: { tickMs: 10 } });
    second.startMaintenance();
    const deadline = Date.now() + 10_000;
    let current = job;
    while (current.status !== 'completed' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      current = await dl.getReplayJob(job.id);
    }
    expect(current).toMatchObject({ status: 'completed', replayed: 10 });
    const [finish] = await dl.store.auditList({ targetId: job.id, action: 'replay.finish', limit: 1 });
    expect(finish?.actor).toBe('system');
  });
});

describe('replay refuses bad input and changes nothing', () => {
  it('an unknown destination, an empty selection, no selection, unknown ids', async () => {
    await killAll(bodies('declined', 0, 2));
    const [id] = await deadIds();
    await expect(dl.replay({ queue: 'orders' }, { to: 'nope' })).rejects.toThrow(
      /unknown destination queue "nope"/,
    );
    await expect(dl.replay({ queue: 'orders', grep: 'no such error' })).rejects.toThrow(
      /no dead letter matches the selection/,
    );
    await expect(dl.replay({})).rejects.toBeInstanceOf(ValidationError);
    await expect(dl.replay({ ids: [id as string, 'ghost-1', 'ghost-2'] })).rejects.toThrow(
      /unknown dead letters: ghost-1, ghost-2/,
    );
    await expect(dl.replay({ groupId: 'no-group' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(dl.replay({ queue: 'orders' }, { rate: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(dl.replay({ queue: 'orders' }, { canary: 5_000 })).rejects.toBeInstanceOf(ValidationError);
    await expect(dl.replay({ queue: 'orders' }, { canaryMaxFailureRate: 2 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(await dl.listReplayJobs()).toEqual([]);
    expect(await deadIds()).toHaveLength(2);
  });

  it('a discarded or an already replayed dead letter', async () => {
    await killAll(bodies('declined', 0, 3));
    const [a, b, c] = await deadIds();
    await dl.discard({ ids: [a as string] }, { reason: 'duplicate order' });
    const discarded = dl.replay({ ids: [a as string, c as string] });
    await expect(discarded).rejects.toBeInstanceOf(ValidationError);
    await expect(dl.replay({ ids: [a as string] })).rejects.toThrow(/was discarded/);
    const { job } = await dl.replay({ ids: [b as string] });
    const newId = (await dl.findReplayedDeadLetter(b as string))?.replayedTo;
    const again = dl.replay({ ids: [b as string] });
    await expect(again).rejects.toBeInstanceOf(ConflictError);
    await expect(dl.replay({ ids: [b as string] })).rejects.toThrow(
      new RegExp(`as message ${newId} .*already replayed`),
    );
    expect((await dl.listReplayJobs()).map((j) => j.id)).toEqual([job.id]);
    expect(await deadIds()).toEqual([c]);
  });
});
