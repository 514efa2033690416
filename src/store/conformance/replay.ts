import { describe, expect, it } from 'vitest';
import type { DeadLetterSummary } from '../../core/dead-letter.ts';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import {
  DEFAULT_CANARY_TIMEOUT_MS,
  REPLAY_HEADERS,
  type ReplayJob,
  type ReplayJobSettings,
} from '../../core/replay.ts';
import type { Store } from '../store.ts';
import {
  attemptOf,
  claimOne,
  createQueues,
  deathRecord,
  expectStats,
  killOne,
  message,
  nextId,
  queueRecord,
  type StoreContext,
  T0,
} from './fixtures.ts';

const SETTINGS: ReplayJobSettings = {
  destination: null,
  ratePerSecond: null,
  batchSize: 100,
  canarySize: 0,
  canaryMaxFailureRate: 0.2,
};

/** Creates a job held by `holder` (running), as a foreground replay does. */
function createHeldJob(
  store: Store,
  options: { holder?: string; now?: number; settings?: Partial<ReplayJobSettings>; planned?: number } = {},
): Promise<ReplayJob> {
  return store.replayJobCreate({
    id: nextId('job'),
    selector: { queue: 'orders' },
    settings: { ...SETTINGS, ...options.settings },
    planned: options.planned ?? 3,
    actor: 'ada',
    now: options.now ?? T0,
    holder: { holder: options.holder ?? 'runner-1', leaseMs: 30_000 },
  });
}

/** The newest-first cursor of the last of these dead letters. */
function positionOf(rows: DeadLetterSummary[]): { diedAt: number; id: string } {
  const last = rows[rows.length - 1] as DeadLetterSummary;
  return { diedAt: last.diedAt, id: last.id };
}

/** Dead letters of `queue`, newest first. */
async function deadOf(store: Store, queue: string): Promise<DeadLetterSummary[]> {
  return store.deadLetterList({ queue, limit: 1000 });
}

/** Replay jobs, the replay batch, the dry run's counts, the history and lineage. */
export function describeReplay(ctx: StoreContext): void {
  describe('replay jobs', () => {
    it('creates a pending job (or one held by its runner) and audits it', async () => {
      const pending = await ctx.store.replayJobCreate({
        id: 'job-a',
        selector: { groupId: 'g1', where: [{ path: ['customer', 'country'], value: 'DE' }] },
        settings: { ...SETTINGS, destination: 'orders-retry', ratePerSecond: 50, canarySize: 10 },
        planned: 42,
        actor: 'ada',
        now: T0,
        details: { byTier: { permanent: 42 } },
      });
      expect(pending).toEqual({
        id: 'job-a',
        status: 'pending',
        createdAt: T0,
        createdBy: 'ada',
        updatedAt: T0,
        finishedAt: null,
        selector: { groupId: 'g1', where: [{ path: ['customer', 'country'], value: 'DE' }] },
        destination: 'orders-retry',
        ratePerSecond: 50,
        batchSize: 100,
        canarySize: 10,
        canaryMaxFailureRate: 0.2,
        canary: { timeoutMs: DEFAULT_CANARY_TIMEOUT_MS, messages: [], waitingSince: null, outcome: null },
        planned: 42,
        replayed: 0,
        skipped: 0,
        position: null,
        holder: null,
        holderExpiresAt: null,
        message: null,
      });
      expect(await ctx.store.replayJobGet({ id: 'job-a' })).toEqual(pending);
      const held = await createHeldJob(ctx.store, { now: T0 + 10 });
      expect(held).toMatchObject({ status: 'running', holder: 'runner-1', holderExpiresAt: T0 + 30_010 });

      const [entry] = await ctx.store.auditList({ targetId: 'job-a', limit: 10 });
      expect(entry).toMatchObject({
        actor: 'ada',
        action: 'replay.create',
        targetType: 'replay_job',
        details: { selector: { groupId: 'g1' }, destination: 'orders-retry', planned: 42, canarySize: 10 },
      });
      expect(entry?.details.byTier).toEqual({ permanent: 42 });
      await expect(
        ctx.store.replayJobCreate({
          id: 'job-a',
          selector: {},
          settings: SETTINGS,
          planned: 1,
          actor: 'bob',
          now: T0,
        }),
      ).rejects.toBeInstanceOf(ConflictError);
    });

    it('lists jobs newest first, optionally by status', async () => {
      const a = await createHeldJob(ctx.store, { now: T0 });
      const b = await createHeldJob(ctx.store, { now: T0 + 1 });
      const c = await createHeldJob(ctx.store, { now: T0 + 2 });
      await ctx.store.replayJobUpdate({ id: b.id, actor: 'ada', now: T0 + 3, status: 'paused' });
      expect((await ctx.store.replayJobList({ limit: 10 })).map((j) => j.id)).toEqual([c.id, b.id, a.id]);
      expect((await ctx.store.replayJobList({ limit: 2 })).map((j) => j.id)).toEqual([c.id, b.id]);
      const paused = await ctx.store.replayJobList({ statuses: ['paused', 'completed'], limit: 10 });
      expect(paused.map((j) => j.id)).toEqual([b.id]);
    });

    it('pauses, resumes and cancels with audit entries, and refuses invalid transitions', async () => {
      const job = await createHeldJob(ctx.store);
      const paused = await ctx.store.replayJobUpdate({
        id: job.id,
        actor: 'bob',
        now: T0 + 5,
        status: 'paused',
      });
      // A job nobody works on is let go at once.
      expect(paused).toMatchObject({
        status: 'paused',
        holder: null,
        holderExpiresAt: null,
        updatedAt: T0 + 5,
      });
      const resumed = await ctx.store.replayJobUpdate({
        id: job.id,
        actor: 'cy',
        now: T0 + 6,
        status: 'pending',
      });
      expect(resumed.status).toBe('pending');
      const cancelled = await ctx.store.replayJobUpdate({
        id: job.id,
        actor: 'dee',
        now: T0 + 7,
        status: 'cancelled',
        message: 'wrong selection',
      });
      expect(cancelled).toMatchObject({
        status: 'cancelled',
        finishedAt: T0 + 7,
        message: 'wrong selection',
      });
      await expect(
        ctx.store.replayJobUpdate({ id: job.id, actor: 'ada', now: T0 + 8, status: 'running' }),
      ).rejects.toBeInstanceOf(ConflictError);
      await expect(
        ctx.store.replayJobUpdate({ id: 'no-such-job', actor: 'ada', now: T0 + 8, status: 'paused' }),
      ).rejects.toBeInstanceOf(NotFoundError);

      const entries = await ctx.store.auditList({ targetId: job.id, limit: 10 });
      expect(entries.map((e) => [e.action, e.actor])).toEqual([
        ['replay.cancel', 'dee'],
        ['replay.resume', 'cy'],
        ['replay.pause', 'bob'],
        ['replay.create', 'ada'],
      ]);
      expect(entries[0]?.details).toMatchObject({
        from: 'pending',
        to: 'cancelled',
        message: 'wrong selection',
      });
      expect((await ctx.store.replayJobGet({ id: job.id }))?.status).toBe('cancelled');
    });

    it('finishes with a replay.finish entry; running ⇄ canary is not audited', async () => {
      const job = await createHeldJob(ctx.store);
      await ctx.store.replayJobUpdate({
        id: job.id,
        actor: 'ada',
        now: T0 + 1,
        status: 'canary',
        holder: 'runner-1',
      });
      await ctx.store.replayJobUpdate({
        id: job.id,
        actor: 'ada',
        now: T0 + 2,
        status: 'running',
        holder: 'runner-1',
      });
      const done = await ctx.store.replayJobUpdate({
        id: job.id,
        actor: 'ada',
        now: T0 + 3,
        status: 'completed',
        holder: 'runner-1',
      });
      expect(done).toMatchObject({ status: 'completed', finishedAt: T0 + 3, holder: null });
      const actions = (await ctx.store.auditList({ targetId: job.id, limit: 10 })).map((e) => e.action);
      expect(actions).toEqual(['replay.finish', 'replay.create']);
    });

    it('fences changes by holder', async () => {
      const job = await createHeldJob(ctx.store, { holder: 'runner-1' });
      await expect(
        ctx.store.replayJobUpdate({
          id: job.id,
          actor: 'ada',
          now: T0 + 1,
          status: 'completed',
          holder: 'runner-2',
        }),
      ).rejects.toBeInstanceOf(ConflictError);
      expect((await ctx.store.replayJobGet({ id: job.id }))?.status).toBe('running');
      const released = await ctx.store.replayJobUpdate({
        id: job.id,
        actor: 'ada',
        now: T0 + 2,
        holder: 'runner-1',
        release: true,
      });
      expect(released).toMatchObject({ status: 'running', holder: null, holderExpiresAt: null });
    });

    it('acquires free jobs, never one whose holder is alive, and takes over a dead holder', async () => {
      const held = await createHeldJob(ctx.store, { holder: 'runner-1', now: T0 });
      expect(
        await ctx.store.replayJobAcquire({ holder: 'runner-2', leaseMs: 10_000, now: T0 + 1_000 }),
      ).toBeUndefined();
      expect(
        await ctx.store.replayJobAcquire({
          holder: 'runner-2',
          leaseMs: 10_000,
          now: T0 + 1_000,
          jobId: held.id,
        }),
      ).toBeUndefined();
      // runner-1 renews; later it dies and its lease runs out.
      expect(
        await ctx.store.replayJobRenew({
          id: held.id,
          holder: 'runner-1',
          leaseMs: 30_000,
          now: T0 + 20_000,
        }),
      ).toBe(true);
      expect(
        await ctx.store.replayJobAcquire({ holder: 'runner-2', leaseMs: 10_000, now: T0 + 40_000 }),
      ).toBeUndefined();
      const taken = await ctx.store.replayJobAcquire({
        holder: 'runner-2',
        leaseMs: 10_000,
        now: T0 + 50_000,
      });
      expect(taken).toMatchObject({
        id: held.id,
        status: 'running',
        holder: 'runner-2',
        holderExpiresAt: T0 + 60_000,
      });
      expect(
        await ctx.store.replayJobRenew({
          id: held.id,
          holder: 'runner-1',
          leaseMs: 30_000,
          now: T0 + 50_001,
        }),
      ).toBe(false);

      const pending = await ctx.store.replayJobCreate({
        id: nextId('job'),
        selector: {},
        settings: SETTINGS,
        planned: 1,
        actor: 'ada',
        now: T0 + 50_002,
      });
      const next = await ctx.store.replayJobAcquire({
        holder: 'runner-3',
        leaseMs: 10_000,
        now: T0 + 50_003,
      });
      expect(next).toMatchObject({ id: pending.id, status: 'running', holder: 'runner-3' });
      expect(
        await ctx.store.replayJobAcquire({ holder: 'runner-4', leaseMs: 10_000, now: T0 + 50_004 }),
      ).toBeUndefined();

      // Final and paused jobs are never acquired.
      await ctx.store.replayJobUpdate({ id: pending.id, actor: 'ada', now: T0 + 50_005, status: 'paused' });
      await ctx.store.replayJobUpdate({ id: held.id, actor: 'ada', now: T0 + 50_005, status: 'cancelled' });
      expect(
        await ctx.store.replayJobAcquire({ holder: 'runner-4', leaseMs: 10_000, now: T0 + 99_999 }),
      ).toBeUndefined();
      expect(
        await ctx.store.replayJobAcquire({
          holder: 'runner-4',
          leaseMs: 10_000,
          now: T0 + 99_999,
          jobId: held.id,
        }),
      ).toBeUndefined();
    });
  });

  describe('deadLetterReplayBatch', () => {
    it('sends each dead letter back as a new message and moves it to the replay history, in one step', async () => {
      await createQueues(ctx.store, 'orders');
      const first = await ctx.store.messageInsertBatch({
        queue: 'orders',
        messages: [
          message({
            id: 'dl-1',
            body: { order: 1, customer: { country: 'DE' } },
            headers: { tenant: 'acme' },
            idempotencyKey: 'order-1',
            visibleAt: T0,
          }),
        ],
        now: T0,
      });
      expect(first[0]?.id).toBe('dl-1');
      const claimed = await claimOne(ctx.store, 'orders', T0 + 1);
      const death = deathRecord('g1');
      await ctx.store.messageFail({
        items: [{ ...claimed, attempt: attemptOf(claimed, T0 + 1, death.error), outcome: 'dead', death }],
        now: T0 + 2,
      });
      const other = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 100, groupId: 'g1' });
      const kept = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 200, groupId: 'g2' });

      const job = await createHeldJob(ctx.store, { now: T0 + 300 });
      const rows = (await deadOf(ctx.store, 'orders')).filter((r) => r.id !== kept);
      const result = await ctx.store.deadLetterReplayBatch({
        jobId: job.id,
        holder: 'runner-1',
        items: rows.map((r) => ({ id: r.id, messageId: `new-${r.id}` })),
        destination: null,
        position: positionOf(rows),
        canary: false,
        actor: 'ada',
        now: T0 + 400,
      });
      expect(result.replayed).toEqual([
        { id: other, messageId: `new-${other}`, queue: 'orders' },
        { id: 'dl-1', messageId: 'new-dl-1', queue: 'orders' },
      ]);
      expect(result.skipped).toEqual([]);
      expect(result.job).toMatchObject({
        replayed: 2,
        skipped: 0,
        position: { diedAt: T0 + 2, id: 'dl-1' },
        updatedAt: T0 + 400,
      });

      const replay = await ctx.store.messageGet({ id: 'new-dl-1' });
      expect(replay).toMatchObject({
        queue: 'orders',
        state: 'waiting',
        body: { order: 1, customer: { country: 'DE' } },
        idempotencyKey: 'order-1',
        enqueuedAt: T0 + 400,
        visibleAt: T0 + 400,
        receives: 0,
        attempts: [],
        replayOf: 'dl-1',
        replayCount: 1,
      });
      expect(replay?.headers).toEqual({
        tenant: 'acme',
        [REPLAY_HEADERS.replayOf]: 'dl-1',
        [REPLAY_HEADERS.job]: job.id,
        [REPLAY_HEADERS.count]: '1',
      });
      expect(await ctx.store.deadLetterGet({ id: 'dl-1' })).toBeUndefined();
      const history = await ctx.store.deadLetterFindReplayed({ id: 'dl-1' });
      expect(history).toMatchObject({
        id: 'dl-1',
        queue: 'orders',
        body: { order: 1, customer: { country: 'DE' } },
        headers: { tenant: 'acme' },
        groupId: 'g1',
        diedAt: T0 + 2,
        replayCount: 0,
        replayedAt: T0 + 400,
        replayedBy: 'ada',
        replayJobId: job.id,
        replayedTo: 'new-dl-1',
        destination: 'orders',
      });
      expect(history?.attempts).toHaveLength(1);
      expect(await ctx.store.deadLetterFindReplayed({ id: kept })).toBeUndefined();
      expect((await deadOf(ctx.store, 'orders')).map((r) => r.id)).toEqual([kept]);
      expect((await ctx.store.groupGet({ id: 'g1' }))?.deadCount).toBe(0);
      expect((await ctx.store.groupGet({ id: 'g1' }))?.count).toBe(2);
      expect((await ctx.store.groupGet({ id: 'g2' }))?.deadCount).toBe(1);
      // Three sent and died; two of them replayed as two new waiting messages.
      await expectStats(ctx.store, 'orders', T0 + 400, {
        sent: 5,
        waiting: 2,
        delayed: 0,
        leased: 0,
        done: 0,
        dead: 1,
        dropped: 0,
        replayed: 2,
      });
    });

    it('takes a replayed dead letter out of every DLQ read and change, and keeps it as history', async () => {
      await createQueues(ctx.store, 'orders');
      const gone = await killOne(ctx.store, {
        queue: 'orders',
        diedAt: T0 + 100,
        groupId: 'g1',
        tier: 'permanent',
      });
      const kept = await killOne(ctx.store, {
        queue: 'orders',
        diedAt: T0 + 50,
        groupId: 'g1',
        tier: 'permanent',
      });
      const job = await createHeldJob(ctx.store, { now: T0 + 300 });
      await ctx.store.deadLetterReplayBatch({
        jobId: job.id,
        holder: 'runner-1',
        items: [{ id: gone, messageId: `new-${gone}` }],
        destination: null,
        position: { diedAt: T0 + 100, id: gone },
        canary: false,
        actor: 'ada',
        now: T0 + 400,
      });
      // Every list filter (each has its own index), the positions-only walk and the counts.
      for (const filter of [
        {},
        { queue: 'orders' },
        { tier: 'permanent' as const },
        { groupId: 'g1' },
        { since: T0 },
      ]) {
        expect((await ctx.store.deadLetterList({ ...filter, limit: 10 })).map((r) => r.id)).toEqual([kept]);
        expect(await ctx.store.deadLetterListKeys({ ...filter, limit: 10 })).toEqual([
          { diedAt: T0 + 50, id: kept },
        ]);
      }
      expect(await ctx.store.deadLetterList({ ids: [gone, kept], limit: 10 })).toHaveLength(1);
      expect(await ctx.store.deadLetterCountBy({ queue: 'orders', by: 'group' })).toEqual([
        { key: 'g1', count: 1 },
      ]);
      expect(await ctx.store.deadLetterCountDied({ queue: 'orders', since: T0, until: T0 + 1_000 })).toEqual({
        dead: 1,
        replayed: 1,
        discarded: 0,
      });
      expect((await ctx.store.queueStats({ now: T0 + 500 }))[0]?.oldestDeadAt).toBe(T0 + 50);
      // Not dead any more: no edit, discard or second replay.
      await expect(
        ctx.store.deadLetterEdit({ id: gone, body: { x: 1 }, actor: 'ada', now: T0 + 500 }),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect(
        await ctx.store.deadLetterDiscard({ ids: [gone], reason: 'r', actor: 'ada', now: T0 + 500 }),
      ).toEqual({
        discarded: [],
        missing: [gone],
      });
      const again = await ctx.store.deadLetterReplayBatch({
        jobId: job.id,
        holder: 'runner-1',
        items: [{ id: gone, messageId: `again-${gone}` }],
        destination: null,
        position: { diedAt: T0 + 100, id: gone },
        canary: false,
        actor: 'ada',
        now: T0 + 500,
      });
      expect(again.skipped).toEqual([{ id: gone, reason: 'gone' }]);
      expect(await ctx.store.messageGet({ id: `again-${gone}` })).toBeUndefined();
      expect(await ctx.store.deadLetterFindReplayed({ id: gone })).toMatchObject({
        id: gone,
        replayedTo: `new-${gone}`,
        replayedBy: 'ada',
      });
      // The positions walk pages like the list.
      const all = await ctx.store.deadLetterListKeys({ limit: 1, cursor: { diedAt: T0 + 60, id: '' } });
      expect(all).toEqual([{ diedAt: T0 + 50, id: kept }]);
    });

    it('sends to another queue when given a destination, and refuses an unknown one', async () => {
      await createQueues(ctx.store, 'orders', 'orders-retry');
      const id = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10 });
      const job = await createHeldJob(ctx.store, { settings: { destination: 'orders-retry' } });
      const position = { diedAt: T0 + 10, id };
      await expect(
        ctx.store.deadLetterReplayBatch({
          jobId: job.id,
          holder: 'runner-1',
          items: [{ id, messageId: 'm-1' }],
          destination: 'nope',
          position,
          canary: false,
          actor: 'ada',
          now: T0 + 20,
        }),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect(await ctx.store.deadLetterGet({ id })).toBeDefined();
      const result = await ctx.store.deadLetterReplayBatch({
        jobId: job.id,
        holder: 'runner-1',
        items: [{ id, messageId: 'm-1' }],
        destination: 'orders-retry',
        position,
        canary: false,
        actor: 'ada',
        now: T0 + 20,
      });
      expect(result.replayed).toEqual([{ id, messageId: 'm-1', queue: 'orders-retry' }]);
      expect((await ctx.store.messageGet({ id: 'm-1' }))?.queue).toBe('orders-retry');
      expect((await ctx.store.deadLetterFindReplayed({ id }))?.destination).toBe('orders-retry');
      // The source counts it replayed; the destination counts a new waiting message.
      await expectStats(ctx.store, 'orders', T0 + 20, {
        sent: 1,
        waiting: 0,
        delayed: 0,
        leased: 0,
        done: 0,
        dead: 0,
        dropped: 0,
        replayed: 1,
      });
      await expectStats(ctx.store, 'orders-retry', T0 + 20, {
        sent: 1,
        waiting: 1,
        delayed: 0,
        leased: 0,
        done: 0,
        dead: 0,
        dropped: 0,
      });
    });

    it('changes nothing for a job it does not hold or that is not running', async () => {
      await createQueues(ctx.store, 'orders');
      const id = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10 });
      const job = await createHeldJob(ctx.store, { holder: 'runner-1' });
      const batch = (holder: string) =>
        ctx.store.deadLetterReplayBatch({
          jobId: job.id,
          holder,
          items: [{ id, messageId: nextId('m') }],
          destination: null,
          position: { diedAt: T0 + 10, id },
          canary: false,
          actor: 'ada',
          now: T0 + 20,
        });
      await expect(batch('runner-2')).rejects.toBeInstanceOf(ConflictError);
      await ctx.store.replayJobUpdate({ id: job.id, actor: 'bob', now: T0 + 15, status: 'paused' });
      await expect(batch('runner-1')).rejects.toBeInstanceOf(ConflictError);
      expect(await ctx.store.deadLetterGet({ id })).toBeDefined();
      expect(await ctx.store.replayJobGet({ id: job.id })).toMatchObject({ replayed: 0, position: null });
    });

    it('skips dead letters at the replay limit, with a live duplicate key, or gone, and says why', async () => {
      await ctx.store.queueCreate({ queue: queueRecord('orders', { replayLimit: 1 }) });
      // A lineage at its limit: replayed once, died again.
      const original = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10, groupId: 'g1' });
      const first = await createHeldJob(ctx.store, { now: T0 + 20 });
      await ctx.store.deadLetterReplayBatch({
        jobId: first.id,
        holder: 'runner-1',
        items: [{ id: original, messageId: 'again-1' }],
        destination: null,
        position: { diedAt: T0 + 10, id: original },
        canary: false,
        actor: 'ada',
        now: T0 + 30,
      });
      const claimed = await claimOne(ctx.store, 'orders', T0 + 40);
      expect(claimed).toMatchObject({ id: 'again-1', replayOf: original, replayCount: 1 });
      const death = deathRecord('g1');
      await ctx.store.messageFail({
        items: [{ ...claimed, attempt: attemptOf(claimed, T0 + 40, death.error), outcome: 'dead', death }],
        now: T0 + 50,
      });
      const diedAgain = await ctx.store.deadLetterGet({ id: 'again-1' });
      expect(diedAgain).toMatchObject({ replayCount: 1, previousId: original });

      // A dead letter whose idempotency key is held by a live message of the queue.
      await ctx.store.messageInsertBatch({
        queue: 'orders',
        messages: [message({ id: 'keyed', idempotencyKey: 'k-1', visibleAt: T0 + 60 })],
        now: T0 + 60,
      });
      const keyedClaim = await claimOne(ctx.store, 'orders', T0 + 61);
      await ctx.store.messageFail({
        items: [
          { ...keyedClaim, attempt: attemptOf(keyedClaim, T0 + 61, death.error), outcome: 'dead', death },
        ],
        now: T0 + 62,
      });
      await ctx.store.messageInsertBatch({
        queue: 'orders',
        messages: [message({ id: 'live', idempotencyKey: 'k-1', visibleAt: T0 + 9_999 })],
        now: T0 + 63,
      });

      const job = await createHeldJob(ctx.store, { now: T0 + 70 });
      const result = await ctx.store.deadLetterReplayBatch({
        jobId: job.id,
        holder: 'runner-1',
        items: [
          { id: 'keyed', messageId: 'm-keyed' },
          { id: 'again-1', messageId: 'm-again' },
          { id: 'never-was', messageId: 'm-gone' },
        ],
        destination: null,
        position: { diedAt: T0 + 50, id: 'again-1' },
        canary: false,
        actor: 'ada',
        now: T0 + 80,
      });
      expect(result.replayed).toEqual([]);
      expect(result.skipped).toEqual([
        { id: 'keyed', reason: 'duplicate_key', detail: 'live' },
        { id: 'again-1', reason: 'replay_limit', detail: 1 },
        { id: 'never-was', reason: 'gone' },
      ]);
      expect(result.job).toMatchObject({ replayed: 0, skipped: 3 });
      expect(await ctx.store.deadLetterGet({ id: 'again-1' })).toBeDefined();
      expect(await ctx.store.deadLetterGet({ id: 'keyed' })).toBeDefined();
      expect(await ctx.store.messageGet({ id: 'm-again' })).toBeUndefined();
      const [skip] = await ctx.store.auditList({ targetId: job.id, action: 'replay.skip', limit: 5 });
      expect(skip?.details.skipped).toEqual(result.skipped);
    });

    it('sends one of two dead letters with the same key in one batch, and skips the other', async () => {
      await createQueues(ctx.store, 'orders');
      const death = deathRecord('g1');
      for (const [k, id] of ['twin-a', 'twin-b'].entries()) {
        await ctx.store.messageInsertBatch({
          queue: 'orders',
          messages: [message({ id, idempotencyKey: 'same-key', visibleAt: T0 + k * 10 })],
          now: T0 + k * 10,
        });
        const claimed = await claimOne(ctx.store, 'orders', T0 + k * 10 + 1);
        await ctx.store.messageFail({
          items: [
            { ...claimed, attempt: attemptOf(claimed, T0 + k * 10 + 1, death.error), outcome: 'dead', death },
          ],
          now: T0 + k * 10 + 2,
        });
      }
      const job = await createHeldJob(ctx.store, { now: T0 + 100 });
      const result = await ctx.store.deadLetterReplayBatch({
        jobId: job.id,
        holder: 'runner-1',
        items: [
          { id: 'twin-b', messageId: 'new-b' },
          { id: 'twin-a', messageId: 'new-a' },
        ],
        destination: null,
        position: { diedAt: T0 + 2, id: 'twin-a' },
        canary: false,
        actor: 'ada',
        now: T0 + 110,
      });
      expect(result.replayed).toEqual([{ id: 'twin-b', messageId: 'new-b', queue: 'orders' }]);
      expect(result.skipped).toEqual([{ id: 'twin-a', reason: 'duplicate_key', detail: 'new-b' }]);
      expect(await ctx.store.deadLetterGet({ id: 'twin-a' })).toBeDefined();
      expect(await ctx.store.messageGet({ id: 'new-a' })).toBeUndefined();
    });

    it('replays the edited body and keeps the one it died with in the history', async () => {
      await createQueues(ctx.store, 'orders');
      const id = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10, body: { email: 'nobody' } });
      await ctx.store.deadLetterEdit({ id, body: { email: 'ada@example.com' }, actor: 'ada', now: T0 + 20 });
      const job = await createHeldJob(ctx.store, { now: T0 + 30 });
      await ctx.store.deadLetterReplayBatch({
        jobId: job.id,
        holder: 'runner-1',
        items: [{ id, messageId: 'fixed' }],
        destination: null,
        position: { diedAt: T0 + 10, id },
        canary: false,
        actor: 'ada',
        now: T0 + 40,
      });
      expect((await ctx.store.messageGet({ id: 'fixed' }))?.body).toEqual({ email: 'ada@example.com' });
      expect(await ctx.store.deadLetterFindReplayed({ id })).toMatchObject({
        body: { email: 'ada@example.com' },
        originalBody: { email: 'nobody' },
      });
    });

    it('records canary messages in the job', async () => {
      await createQueues(ctx.store, 'orders');
      const a = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10 });
      const b = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 20 });
      const job = await createHeldJob(ctx.store, { settings: { canarySize: 2, canaryTimeoutMs: 60_000 } });
      expect(job.canary).toEqual({ timeoutMs: 60_000, messages: [], waitingSince: null, outcome: null });
      const batch = (id: string, messageId: string, diedAt: number) =>
        ctx.store.deadLetterReplayBatch({
          jobId: job.id,
          holder: 'runner-1',
          items: [{ id, messageId }],
          destination: null,
          position: { diedAt, id },
          canary: true,
          actor: 'ada',
          now: T0 + 30,
        });
      await batch(b, 'cb', T0 + 20);
      const after = await batch(a, 'ca', T0 + 10);
      expect(after.job.canary).toEqual({
        timeoutMs: 60_000,
        messages: [
          { deadLetterId: b, messageId: 'cb' },
          { deadLetterId: a, messageId: 'ca' },
        ],
        waitingSince: null,
        outcome: null,
      });
    });
  });

  describe('deadLetterCountBy', () => {
    it('counts a selection per group, tier, queue and replay count, most first', async () => {
      await createQueues(ctx.store, 'orders', 'emails');
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 1, groupId: 'g1', tier: 'permanent' });
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 2, groupId: 'g2', tier: 'transient' });
      await killOne(ctx.store, { queue: 'emails', diedAt: T0 + 3, groupId: 'g2', tier: 'transient' });
      await killOne(ctx.store, {
        queue: 'orders',
        diedAt: T0 + 4,
        groupId: 'g2',
        tier: 'transient',
        body: { customer: { country: 'DE' } },
      });
      expect(await ctx.store.deadLetterCountBy({ by: 'group' })).toEqual([
        { key: 'g2', count: 3 },
        { key: 'g1', count: 1 },
      ]);
      expect(await ctx.store.deadLetterCountBy({ by: 'tier', queue: 'orders' })).toEqual([
        { key: 'transient', count: 2 },
        { key: 'permanent', count: 1 },
      ]);
      expect(await ctx.store.deadLetterCountBy({ by: 'queue', groupId: 'g2', since: T0 + 3 })).toEqual([
        { key: 'emails', count: 1 },
        { key: 'orders', count: 1 },
      ]);
      expect(await ctx.store.deadLetterCountBy({ by: 'replayCount' })).toEqual([{ key: '0', count: 4 }]);
      expect(
        await ctx.store.deadLetterCountBy({
          by: 'group',
          where: [{ path: ['customer', 'country'], value: 'DE' }],
        }),
      ).toEqual([{ key: 'g2', count: 1 }]);
      expect(await ctx.store.deadLetterCountBy({ by: 'group', queue: 'nope' })).toEqual([]);
    });
  });

  describe('deadLetterCountBy replay counts', () => {
    it('counts dead letters replayed before by how many times, and the rest as 0', async () => {
      await createQueues(ctx.store, 'orders', 'emails');
      const first = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 1 });
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 2 });
      await killOne(ctx.store, { queue: 'emails', diedAt: T0 + 3 });
      const job = await createHeldJob(ctx.store, { now: T0 + 10 });
      await ctx.store.deadLetterReplayBatch({
        jobId: job.id,
        holder: 'runner-1',
        items: [{ id: first, messageId: 'again' }],
        destination: null,
        position: { diedAt: T0 + 1, id: first },
        canary: false,
        actor: 'ada',
        now: T0 + 20,
      });
      const claimed = await claimOne(ctx.store, 'orders', T0 + 30);
      const death = deathRecord('group-a');
      await ctx.store.messageFail({
        items: [{ ...claimed, attempt: attemptOf(claimed, T0 + 30, death.error), outcome: 'dead', death }],
        now: T0 + 40,
      });
      expect(await ctx.store.deadLetterCountBy({ by: 'replayCount' })).toEqual([
        { key: '0', count: 2 },
        { key: '1', count: 1 },
      ]);
      expect(
        await ctx.store.deadLetterCountBy({ by: 'replayCount', queue: 'orders', since: T0 + 2 }),
      ).toEqual([
        { key: '0', count: 1 },
        { key: '1', count: 1 },
      ]);
      expect(await ctx.store.deadLetterCountBy({ by: 'replayCount', queue: 'emails' })).toEqual([
        { key: '0', count: 1 },
      ]);
      expect(await ctx.store.deadLetterCountBy({ by: 'replayCount', queue: 'nope' })).toEqual([]);
    });
  });

  describe('deadLetterLineage', () => {
    it('links a dead letter, the message it was replayed to, and that message dying again', async () => {
      await createQueues(ctx.store, 'orders');
      const original = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10 });
      expect(await ctx.store.deadLetterLineage({ id: original })).toEqual({
        self: { id: original, state: 'dead', queue: 'orders', at: T0 + 10, replayCount: 0 },
        previous: null,
        next: null,
      });
      const job = await createHeldJob(ctx.store, { now: T0 + 20 });
      await ctx.store.deadLetterReplayBatch({
        jobId: job.id,
        holder: 'runner-1',
        items: [{ id: original, messageId: 'second' }],
        destination: null,
        position: { diedAt: T0 + 10, id: original },
        canary: false,
        actor: 'ada',
        now: T0 + 30,
      });
      const waiting = { id: 'second', state: 'waiting', queue: 'orders', at: T0 + 30, replayCount: 1 };
      const replayedSelf = { id: original, state: 'replayed', queue: 'orders', at: T0 + 10, replayCount: 0 };
      expect(await ctx.store.deadLetterLineage({ id: original })).toEqual({
        self: replayedSelf,
        previous: null,
        next: waiting,
      });
      expect(await ctx.store.deadLetterLineage({ id: 'second' })).toEqual({
        self: waiting,
        previous: replayedSelf,
        next: null,
      });
      const claimed = await claimOne(ctx.store, 'orders', T0 + 40);
      const death = deathRecord('group-a');
      await ctx.store.messageFail({
        items: [{ ...claimed, attempt: attemptOf(claimed, T0 + 40, death.error), outcome: 'dead', death }],
        now: T0 + 50,
      });
      const dead = { id: 'second', state: 'dead', queue: 'orders', at: T0 + 50, replayCount: 1 };
      expect(await ctx.store.deadLetterLineage({ id: original })).toMatchObject({ next: dead });
      expect(await ctx.store.deadLetterLineage({ id: 'second' })).toEqual({
        self: dead,
        previous: replayedSelf,
        next: null,
      });
      await expect(ctx.store.deadLetterLineage({ id: 'nothing' })).rejects.toBeInstanceOf(NotFoundError);
    });
  });
}
