import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ShownWithLineage } from '../../src/cli/commands/show.ts';
import type { DeadLetterSummary } from '../../src/core/dead-letter.ts';
import type { QueueRecord } from '../../src/core/queue-settings.ts';
import { REPLAY_HEADERS, type ReplayJob, type ReplayPlan, type ReplaySkip } from '../../src/core/replay.ts';
import type { ReplayOutcome } from '../../src/engine/replays.ts';
import type { QueueStats } from '../../src/store/store.ts';
import { type CliFixture, cliFixture } from './harness.ts';
import { seedDeadLetters } from './seed.ts';

interface Page {
  items: DeadLetterSummary[];
}

let cli: CliFixture;
/** Dead letters: 4 in group g-bug (DE customers), 2 in g-declined, 1 malformed; all in `orders`. */
let ids: string[];

beforeEach(async () => {
  cli = cliFixture('dlq-replay-');
  expect((await cli.run(['queue', 'create', 'orders'])).code).toBe(0);
  expect((await cli.run(['queue', 'create', 'orders-retry', '--replay-limit', '1'])).code).toBe(0);
  ids = await seedDeadLetters(cli.storeUrl, [
    ...Array.from({ length: 4 }, (_, n) => ({
      queue: 'orders',
      groupId: 'g-bug',
      body: { n, customer: { country: n < 3 ? 'DE' : 'FR' } },
    })),
    ...Array.from({ length: 2 }, () => ({ queue: 'orders', groupId: 'g-declined' })),
    { queue: 'orders', groupId: 'g-malformed', tier: 'malformed' as const },
  ]);
});
afterEach(() => cli.remove());

async function deadIds(args: string[] = []): Promise<string[]> {
  return (await cli.json<Page>(['list', ...args])).items.map((item) => item.id);
}

describe('dlq replay --dry-run', () => {
  it('answers how many, per group and tier, samples and the destination, and changes nothing', async () => {
    const plan = await cli.json<ReplayPlan & { dryRun: true }>(['replay', '--queue', 'orders', '--dry-run']);
    expect(plan).toMatchObject({ dryRun: true, total: 7, destination: null, atReplayLimit: 0 });
    expect(plan.byGroup).toEqual([
      { groupId: 'g-bug', count: 4 },
      { groupId: 'g-declined', count: 2 },
      { groupId: 'g-malformed', count: 1 },
    ]);
    expect(plan.byTier).toEqual([
      { tier: 'permanent', count: 6 },
      { tier: 'malformed', count: 1 },
    ]);
    expect(plan.samples).toHaveLength(5);

    const text = await cli.run([
      'replay',
      '--where',
      'body.customer.country=DE',
      '--to',
      'orders-retry',
      '--dry-run',
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^would replay 3 dead letters to queue orders-retry \(dry run: nothing was changed\)/,
    );
    expect(text.stdout).toMatch(/by group:\n {4}g-bug +3/);
    expect(text.stdout).toMatch(/replayed before: none/);
    expect(await deadIds()).toHaveLength(7);
    expect(await cli.json<ReplayJob[]>(['replay', 'list'])).toEqual([]);
  });

  it('says so when nothing matches', async () => {
    const result = await cli.run(['replay', '--grep', 'no such error', '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('no dead letter matches the selection: nothing would be replayed\n');
  });
});

describe('dlq replay', () => {
  it('replays a group as a job and prints what it did', async () => {
    const outcome = await cli.json<ReplayOutcome>(['replay', '--group', 'g-bug', '--actor', 'ada']);
    expect(outcome.job).toMatchObject({
      status: 'completed',
      createdBy: 'ada',
      planned: 4,
      replayed: 4,
      skipped: 0,
    });
    expect(await deadIds(['--group', 'g-bug'])).toEqual([]);
    const stats = await cli.json<QueueStats[]>(['stats']);
    expect(stats.find((s) => s.queue === 'orders')).toMatchObject({ dead: 3, replayed: 4, waiting: 4 });

    const text = await cli.run(['replay', '--group', 'g-declined', '--batch-size', '1', '--rate', '1000']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^replay job \S+ completed: replayed 2 of 2 dead letters back to their source queues\n/,
    );
    const audit = await cli.json<{ items: { action: string; actor: string }[] }>([
      'audit',
      '--target',
      outcome.job.id,
    ]);
    expect(audit.items.map((e) => e.action)).toEqual(['replay.finish', 'replay.create']);
  });

  it('sends to --to, and `dlq show` gives the replay headers and the lineage', async () => {
    const [first] = ids;
    const outcome = await cli.json<ReplayOutcome>([
      'replay',
      '--ids',
      first as string,
      '--to',
      'orders-retry',
    ]);
    expect(outcome.job).toMatchObject({ destination: 'orders-retry', replayed: 1 });
    const replayed = await cli.json<ShownWithLineage>(['show', first as string]);
    if (replayed.kind !== 'replayed-dead-letter')
      throw new Error(`expected the replay history, got ${replayed.kind}`);
    expect(replayed.deadLetter).toMatchObject({
      id: first,
      destination: 'orders-retry',
      replayJobId: outcome.job.id,
    });
    const messageId = replayed.deadLetter.replayedTo;
    expect(replayed.lineage).toMatchObject({ previous: null, next: { id: messageId, state: 'waiting' } });

    const message = await cli.json<ShownWithLineage>(['show', messageId]);
    if (message.kind !== 'message') throw new Error('expected a message');
    expect(message.message).toMatchObject({ queue: 'orders-retry', replayOf: first, replayCount: 1 });
    expect(message.message.headers).toMatchObject({
      [REPLAY_HEADERS.replayOf]: first,
      [REPLAY_HEADERS.job]: outcome.job.id,
      [REPLAY_HEADERS.count]: '1',
    });
    const text = await cli.run(['show', messageId]);
    expect(text.stdout).toMatch(
      new RegExp(`\\nlineage\\n {2}replay of +${first} \\(replayed in orders, died `),
    );
    const history = await cli.run(['show', first as string]);
    expect(history.stdout).toMatch(
      new RegExp(`^dead letter ${first} was replayed by \\S+ at \\S+ as message ${messageId}`),
    );
  });

  it('creates a detached job, and pauses, resumes and cancels jobs by id', async () => {
    const detached = await cli.json<ReplayOutcome>([
      'replay',
      '--queue',
      'orders',
      '--tier',
      'permanent',
      '--detach',
    ]);
    const id = detached.job.id;
    expect(detached.job).toMatchObject({ status: 'pending', planned: 6, replayed: 0 });
    const note = await cli.run(['replay', '--tier', 'malformed', '--detach']);
    expect(note.stdout).toMatch(/created \(pending, 1 dead letters\).*dlq replay resume/);

    expect(await cli.json<ReplayJob>(['replay', 'pause', id])).toMatchObject({ status: 'paused' });
    const status = await cli.run(['replay', 'status', id]);
    expect(status.stdout).toMatch(new RegExp(`^replay job ${id}\\n {2}status +paused\\n`));
    expect(status.stdout).toMatch(/\n {2}selector +queue=orders tier=permanent\n/);
    expect(status.stdout).toMatch(/\n {2}progress +replayed 0 of 6, skipped 0\n/);

    const pending = await cli.json<{ job: ReplayJob }>(['replay', 'resume', id, '--detach']);
    expect(pending.job.status).toBe('pending');
    const resumed = await cli.json<{ job: ReplayJob }>(['replay', 'resume', id]);
    expect(resumed.job).toMatchObject({ status: 'completed', replayed: 6 });
    const list = await cli.json<ReplayJob[]>(['replay', 'list', '--status', 'completed']);
    expect(list.map((job) => job.id)).toEqual([id]);

    const [other] = await cli.json<ReplayJob[]>(['replay', 'list', '--status', 'pending']);
    expect((await cli.json<ReplayJob>(['replay', 'cancel', other?.id as string])).status).toBe('cancelled');
    const again = await cli.run(['replay', 'cancel', other?.id as string]);
    expect(again.code).toBe(0);
    const finished = await cli.run(['replay', 'resume', id]);
    expect(finished.code).toBe(2);
    expect(finished.stderr).toMatch(/is completed: it cannot be resumed/);
    const table = await cli.run(['replay', 'list']);
    expect(table.stdout).toMatch(/^JOB\s+STATUS\s+CREATED\s+BY\s+REPLAYED\s+SKIPPED\s+PLANNED\s+SELECTOR\n/);
  });

  it('says which dead letters it skipped at the replay limit', async () => {
    // orders-retry allows one replay: a dead letter of it that came back once is at its limit.
    await cli.run(['replay', '--ids', ids[0] as string, '--to', 'orders-retry']);
    const seeded = await seedDeadLetters(cli.storeUrl, [{ queue: 'orders-retry', groupId: 'g-bug' }]);
    const limited = await cli.json<ReplayOutcome>(['replay', '--queue', 'orders-retry', '--dry-run']);
    expect(limited).toMatchObject({ total: 1, atReplayLimit: 0 });
    await cli.run(['replay', '--ids', seeded[0] as string]);
    // Its replay (count 1) is claimed and dies again through the store, then replayed: skipped.
    const { openStore } = await import('../../src/store/open.ts');
    const { attemptOf, deathRecord } = await import('../../src/store/conformance/fixtures.ts');
    const store = await openStore(cli.storeUrl);
    const claimed = await store.messageClaim({
      queue: 'orders-retry',
      limit: 10,
      now: Date.now(),
      leaseMs: 30_000,
      worker: { workerId: 'w', workerVersion: '1', host: 'h' },
    });
    const death = deathRecord('g-bug');
    const retried = claimed.find((message) => message.replayOf === seeded[0]);
    if (!retried) throw new Error('expected the replay of the seeded dead letter');
    await store.messageFail({
      items: [{ ...retried, attempt: attemptOf(retried, Date.now(), death.error), outcome: 'dead', death }],
      now: Date.now(),
    });
    await store.close();
    const plan = await cli.json<ReplayPlan>(['replay', '--queue', 'orders-retry', '--dry-run']);
    expect(plan).toMatchObject({ total: 1, atReplayLimit: 1, alreadyReplayed: [{ times: 1, count: 1 }] });
    const result = await cli.run(['replay', '--queue', 'orders-retry']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /completed: replayed 0 of 1 dead letter back to their source queues; skipped 1\n/,
    );
    expect(result.stdout).toMatch(
      new RegExp(`\\n {4}${retried.id} +at its queue replay limit \\(replayed once\\)\\n`),
    );
    const [job] = await cli.json<ReplayJob[]>(['replay', 'list']);
    const status = await cli.json<{ skipped: ReplaySkip[] }>(['replay', 'status', job?.id as string]);
    expect(status.skipped).toEqual([{ id: retried.id, reason: 'replay_limit', detail: 1 }]);
  });

  it('stops on its canary and exits 1 when the outcome is not known in time', async () => {
    const result = await cli.run([
      'replay',
      '--group',
      'g-bug',
      '--canary',
      '2',
      '--canary-timeout',
      '1ms',
      '--json',
    ]);
    expect(result.code).toBe(1);
    const outcome = JSON.parse(result.stdout) as ReplayOutcome;
    expect(outcome.job).toMatchObject({ status: 'canary_failed', replayed: 2 });
    expect(outcome.job.canary?.outcome?.verdict).toBe('timed_out');
    expect(result.stderr).toMatch(/did not complete: it is canary_failed/);
    expect(await deadIds(['--group', 'g-bug'])).toHaveLength(2);
  });
});

describe('dlq replay refuses bad input with exit 2 and changes nothing', () => {
  it.each([
    [['replay', '--queue', 'orders', '--to', 'nowhere'], /unknown destination queue "nowhere"/],
    [['replay', '--where', 'customer.country=DE'], /invalid --where "customer.country=DE"/],
    [['replay', '--where', 'body..x=1'], /invalid --where/],
    [['replay', '--queue', 'orders', '--grep', 'no such error'], /no dead letter matches the selection/],
    [['replay'], /select the dead letters to replay/],
    [['replay', '--ids', 'ghost-1,ghost-2'], /unknown dead letters: ghost-1, ghost-2/],
    [['replay', '--group', 'no-such-group'], /unknown group "no-such-group"/],
    [['replay', '--queue', 'orders', '--rate', '0'], /invalid --rate "0"/],
    [['replay', '--queue', 'orders', '--canary', '0'], /invalid --canary "0"/],
    [['replay', '--queue', 'orders', '--canary-max-failure-rate', '0.5'], /need --canary/],
    [
      ['replay', '--queue', 'orders', '--canary', '2', '--canary-max-failure-rate', '150%'],
      /invalid --canary-max/,
    ],
    [['replay', '--queue', 'orders', '--batch-size', '0'], /invalid --batch-size "0"/],
    [['replay', 'status', 'no-such-job'], /unknown replay job "no-such-job"/],
    [['replay', 'list', '--status', 'done'], /unknown replay job status "done"/],
  ])('%j', async (args, reason) => {
    const result = await cli.run(args);
    expect(result.stderr).toMatch(reason);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(await deadIds()).toHaveLength(7);
    expect(await cli.json<ReplayJob[]>(['replay', 'list'])).toEqual([]);
  });

  it('a discarded dead letter, and one replayed already', async () => {
    const [a, b] = ids;
    expect((await cli.run(['discard', '--ids', a as string, '--reason', 'duplicate'])).code).toBe(0);
    const discarded = await cli.run(['replay', '--ids', `${a},${b}`]);
    expect(discarded.code).toBe(2);
    expect(discarded.stderr).toMatch(
      new RegExp(`dead letter ${a} \\(discarded by .*duplicate.*\\) was discarded and cannot be replayed`),
    );
    await cli.run(['replay', '--ids', b as string]);
    const again = await cli.run(['replay', '--ids', b as string]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      new RegExp(`dead letter ${b} \\(as message \\S+ to orders, .*\\) was already replayed`),
    );
    expect(await cli.json<ReplayJob[]>(['replay', 'list'])).toHaveLength(1);
  });

  it('a queue with a bad --replay-limit', async () => {
    const result = await cli.run(['queue', 'update', 'orders', '--replay-limit', '101']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/invalid --replay-limit "101"/);
    const updated = await cli.json<QueueRecord>(['queue', 'update', 'orders', '--replay-limit', '0']);
    expect(updated.replayLimit).toBe(0);
  });
});
