import { describe, expect, it } from 'vitest';
import type { QueueSample } from '../store.ts';
import { createQueues, killOne, type StoreContext, T0 } from './fixtures.ts';

const MINUTE = 60_000;

function sample(queue: string, minute: number, depth: number, inflow = 0): QueueSample {
  return { queue, at: T0 + minute * MINUTE, depth, inflow, deadTotal: depth + 100 };
}

/** The per-minute time series of each DLQ's depth and inflow. */
export function describeQueueSamples(ctx: StoreContext): void {
  describe('queue samples', () => {
    it('lists one queue’s samples in time order within [since, until)', async () => {
      await ctx.store.queueSampleInsert({
        samples: [sample('b', 0, 7), sample('a', 2, 3, 1), sample('a', 0, 1), sample('a', 1, 2, 1)],
      });
      await ctx.store.queueSampleInsert({ samples: [] });
      expect(await ctx.store.queueSampleList({ queue: 'a' })).toEqual([
        sample('a', 0, 1),
        sample('a', 1, 2, 1),
        sample('a', 2, 3, 1),
      ]);
      const middle = await ctx.store.queueSampleList({
        queue: 'a',
        since: T0 + MINUTE,
        until: T0 + 2 * MINUTE,
      });
      expect(middle).toEqual([sample('a', 1, 2, 1)]);
      expect(await ctx.store.queueSampleList({ queue: 'a', since: T0 + 2 * MINUTE })).toEqual([
        sample('a', 2, 3, 1),
      ]);
      expect(await ctx.store.queueSampleList({ queue: 'missing' })).toEqual([]);
    });

    it('keeps the first sample of a minute when two samplers race', async () => {
      await ctx.store.queueSampleInsert({ samples: [sample('a', 0, 1)] });
      await ctx.store.queueSampleInsert({ samples: [sample('a', 0, 9, 9), sample('a', 1, 2)] });
      expect((await ctx.store.queueSampleList({ queue: 'a' })).map((s) => s.depth)).toEqual([1, 2]);
    });

    it('deletes samples older than a time across queues', async () => {
      await ctx.store.queueSampleInsert({
        samples: [sample('a', 0, 1), sample('a', 1, 1), sample('b', 0, 1), sample('b', 5, 1)],
      });
      expect(await ctx.store.queueSampleDeleteBefore({ before: T0 + MINUTE })).toEqual({ deleted: 2 });
      expect((await ctx.store.queueSampleList({ queue: 'a' })).map((s) => s.at)).toEqual([T0 + MINUTE]);
      expect((await ctx.store.queueSampleList({ queue: 'b' })).map((s) => s.at)).toEqual([T0 + 5 * MINUTE]);
      expect(await ctx.store.queueSampleDeleteBefore({ before: T0 })).toEqual({ deleted: 0 });
    });
  });

  describe('group counts by status (metrics)', () => {
    it('counts every group by its triage status', async () => {
      expect(await ctx.store.groupCountByStatus()).toEqual({});
      await createQueues(ctx.store, 'orders');
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 1, groupId: 'gA', tier: 'transient' });
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 2, groupId: 'gA', tier: 'transient' });
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 3, groupId: 'gB', tier: 'permanent' });
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 4, groupId: 'gC', tier: 'permanent' });
      await ctx.store.groupStatusSet({ id: 'gC', status: 'ignored', now: T0 + 5 });
      expect(await ctx.store.groupCountByStatus()).toEqual({ new: 2, ignored: 1 });
    });
  });
}
