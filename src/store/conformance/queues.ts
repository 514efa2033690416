import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import { queueRecord, type StoreContext, T0 } from './fixtures.ts';

/** Queues: create, get, list, update, conflicts and unknown names. */
export function describeQueues(ctx: StoreContext): void {
  describe('queues', () => {
    it('creates a queue and reads it back', async () => {
      const queue = queueRecord('orders', {
        maxReceives: 3,
        visibilityTimeoutMs: 5_000,
        backoff: { type: 'fixed', delayMs: 250 },
        deadLetter: false,
        retentionDays: 7.5,
        doneRetentionMs: 0,
      });
      expect(await ctx.store.queueCreate({ queue })).toEqual(queue);
      expect(await ctx.store.queueGet({ name: 'orders' })).toEqual(queue);
    });

    it('returns undefined for an unknown queue', async () => {
      expect(await ctx.store.queueGet({ name: 'nope' })).toBeUndefined();
    });

    it('lists queues in name order', async () => {
      for (const name of ['payments', 'emails', 'orders']) {
        await ctx.store.queueCreate({ queue: queueRecord(name) });
      }
      const names = (await ctx.store.queueList()).map((q) => q.name);
      expect(names).toEqual(['emails', 'orders', 'payments']);
    });

    it('refuses to create a queue twice with ConflictError and keeps the first', async () => {
      await ctx.store.queueCreate({ queue: queueRecord('orders', { maxReceives: 2 }) });
      const second = ctx.store.queueCreate({ queue: queueRecord('orders', { maxReceives: 9 }) });
      await expect(second).rejects.toBeInstanceOf(ConflictError);
      expect((await ctx.store.queueGet({ name: 'orders' }))?.maxReceives).toBe(2);
      expect(await ctx.store.queueList()).toHaveLength(1);
    });

    it('updates only the given settings and stamps updatedAt', async () => {
      const created = await ctx.store.queueCreate({ queue: queueRecord('orders') });
      const updated = await ctx.store.queueUpdate({
        name: 'orders',
        patch: { maxReceives: 8, backoff: { type: 'fixed', delayMs: 0 }, doneRetentionMs: 600_000 },
        now: T0 + 1_000,
      });
      const expected = {
        ...created,
        maxReceives: 8,
        doneRetentionMs: 600_000,
        backoff: { type: 'fixed', delayMs: 0 },
        updatedAt: T0 + 1_000,
      };
      expect(updated).toEqual(expected);
      expect(await ctx.store.queueGet({ name: 'orders' })).toEqual(expected);
    });

    it('can turn the dead-letter queue off and on again', async () => {
      await ctx.store.queueCreate({ queue: queueRecord('orders') });
      await ctx.store.queueUpdate({ name: 'orders', patch: { deadLetter: false }, now: T0 + 1 });
      expect((await ctx.store.queueGet({ name: 'orders' }))?.deadLetter).toBe(false);
      await ctx.store.queueUpdate({ name: 'orders', patch: { deadLetter: true }, now: T0 + 2 });
      expect((await ctx.store.queueGet({ name: 'orders' }))?.deadLetter).toBe(true);
    });

    it('throws NotFoundError when updating an unknown queue', async () => {
      const update = ctx.store.queueUpdate({ name: 'nope', patch: { maxReceives: 2 }, now: T0 });
      await expect(update).rejects.toBeInstanceOf(NotFoundError);
      expect(await ctx.store.queueList()).toEqual([]);
    });

    it('reports zero stats for a new queue, in queue-name order', async () => {
      await ctx.store.queueCreate({ queue: queueRecord('b') });
      await ctx.store.queueCreate({ queue: queueRecord('a') });
      expect(await ctx.store.queueStats({ now: T0 })).toEqual([
        {
          queue: 'a',
          waiting: 0,
          delayed: 0,
          leased: 0,
          done: 0,
          dead: 0,
          dropped: 0,
          replayed: 0,
          discarded: 0,
          archived: 0,
          oldestDeadAt: null,
        },
        {
          queue: 'b',
          waiting: 0,
          delayed: 0,
          leased: 0,
          done: 0,
          dead: 0,
          dropped: 0,
          replayed: 0,
          discarded: 0,
          archived: 0,
          oldestDeadAt: null,
        },
      ]);
    });
  });
}
