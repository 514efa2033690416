import { describe, expect, it } from 'vitest';
import type { Store } from '../store.ts';
import {
  attemptOf,
  claimOne,
  createQueues,
  deathRecord,
  killOne,
  message,
  queueRecord,
  type StoreContext,
  T0,
} from './fixtures.ts';

/** Dead-letters a replayed message (replay of `previousId`, replayed `replayCount` times) at `diedAt`. */
async function killReplayed(
  store: Store,
  spec: { queue: string; diedAt: number; previousId: string; replayCount: number },
): Promise<string> {
  const m = message({
    visibleAt: spec.diedAt - 10,
    replayOf: spec.previousId,
    replayCount: spec.replayCount,
  });
  await store.messageInsertBatch({ queue: spec.queue, messages: [m], now: spec.diedAt - 10 });
  const claimed = await claimOne(store, spec.queue, spec.diedAt - 5);
  const death = deathRecord('g-loop');
  await store.messageFail({
    items: [
      { ...claimed, attempt: attemptOf(claimed, spec.diedAt - 5, death.error), outcome: 'dead', death },
    ],
    now: spec.diedAt,
  });
  return m.id;
}

/** Counts for `dlq review` (inflow, who replayed and discarded) and `dlq doctor` (replay limit). */
export function describeTriageCounts(ctx: StoreContext): void {
  describe('triage counts', () => {
    it('counts the dead letters that died in a window, wherever they went since', async () => {
      await createQueues(ctx.store, 'orders', 'emails');
      const before = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 5 });
      const a = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10 });
      const b = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 20 });
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 30 });
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 40 });
      await killOne(ctx.store, { queue: 'emails', diedAt: T0 + 20 });
      await ctx.store.deadLetterDiscard({ ids: [a, before], reason: 'r', actor: 'ada', now: T0 + 100 });
      const job = await ctx.store.replayJobCreate({
        id: 'job-counts',
        selector: { ids: [b] },
        settings: {
          destination: null,
          ratePerSecond: null,
          batchSize: 10,
          canarySize: 0,
          canaryMaxFailureRate: 0,
        },
        planned: 1,
        actor: 'bob',
        now: T0 + 200,
        holder: { holder: 'runner', leaseMs: 30_000 },
      });
      await ctx.store.deadLetterReplayBatch({
        jobId: job.id,
        holder: 'runner',
        items: [{ id: b, messageId: 'replay-of-b' }],
        destination: null,
        position: { diedAt: T0 + 20, id: b },
        canary: false,
        actor: 'bob',
        now: T0 + 200,
      });

      // Window [T0+10, T0+40): a (discarded), b (replayed), the one at T0+30 (dead).
      expect(
        await ctx.store.deadLetterCountDied({ queue: 'orders', since: T0 + 10, until: T0 + 40 }),
      ).toEqual({
        dead: 1,
        replayed: 1,
        discarded: 1,
      });
      expect(
        await ctx.store.deadLetterCountOutcomes({ queue: 'orders', since: T0 + 150, until: T0 + 300 }),
      ).toEqual({
        replayed: [{ actor: 'bob', count: 1 }],
        discarded: [],
      });
      expect(await ctx.store.deadLetterCountDied({ queue: 'emails', since: T0, until: T0 + 1_000 })).toEqual({
        dead: 1,
        replayed: 0,
        discarded: 0,
      });
      expect(await ctx.store.deadLetterCountDied({ queue: 'nope', since: T0, until: T0 + 1_000 })).toEqual({
        dead: 0,
        replayed: 0,
        discarded: 0,
      });
    });

    it('counts replays and discards in a window per actor and reason', async () => {
      await createQueues(ctx.store, 'orders');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await killOne(ctx.store, { queue: 'orders', diedAt: T0 + i }));
      const [a, b, c, d] = ids as [string, string, string, string];
      await ctx.store.deadLetterDiscard({ ids: [a, b], reason: 'duplicates', actor: 'ada', now: T0 + 100 });
      await ctx.store.deadLetterDiscard({ ids: [c], reason: 'test data', actor: 'bob', now: T0 + 200 });
      await ctx.store.deadLetterDiscard({ ids: [d], reason: 'late', actor: 'bob', now: T0 + 900 });
      expect(
        await ctx.store.deadLetterCountOutcomes({ queue: 'orders', since: T0 + 100, until: T0 + 900 }),
      ).toEqual({
        replayed: [],
        discarded: [
          { actor: 'ada', reason: 'duplicates', count: 2 },
          { actor: 'bob', reason: 'test data', count: 1 },
        ],
      });
    });

    it('finds the dead letters that came back from replays up to the queue replay limit', async () => {
      await ctx.store.queueCreate({ queue: queueRecord('orders', { replayLimit: 2 }) });
      await createQueues(ctx.store, 'emails');
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 1 });
      await killReplayed(ctx.store, { queue: 'orders', diedAt: T0 + 10, previousId: 'p1', replayCount: 1 });
      const atLimit = await killReplayed(ctx.store, {
        queue: 'orders',
        diedAt: T0 + 20,
        previousId: 'p2',
        replayCount: 2,
      });
      const over = await killReplayed(ctx.store, {
        queue: 'orders',
        diedAt: T0 + 30,
        previousId: 'p3',
        replayCount: 3,
      });
      await killReplayed(ctx.store, { queue: 'emails', diedAt: T0 + 40, previousId: 'p4', replayCount: 2 });

      expect(await ctx.store.deadLetterListAtReplayLimit({ sampleSize: 5 })).toEqual([
        { queue: 'orders', count: 2, sampleIds: [over, atLimit] },
      ]);
      expect(await ctx.store.deadLetterListAtReplayLimit({ sampleSize: 1 })).toEqual([
        { queue: 'orders', count: 2, sampleIds: [over] },
      ]);
    });
  });
}
