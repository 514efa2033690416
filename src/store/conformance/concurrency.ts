import { describe, expect, it } from 'vitest';
import type { ClaimedMessage } from '../../core/message.ts';
import { claim, createQueues, type StoreContext, send, T0, WORKER } from './fixtures.ts';

/**
 * Calls in flight at once on one store. On a store with many connections they really run
 * concurrently (PostgreSQL's pool); on a single writer they queue. Either way the outcome must
 * be the same as one after the other.
 */
export function describeConcurrency(ctx: StoreContext): void {
  describe('concurrent calls', () => {
    it('never hands out a message twice to simultaneous claims', async () => {
      await createQueues(ctx.store, 'orders');
      const sent = await send(ctx.store, 'orders', 60);
      const batches = await Promise.all(Array.from({ length: 8 }, () => claim(ctx.store, 'orders', T0, 10)));
      const ids = batches.flat().map((m) => m.id);
      expect(ids).toHaveLength(60);
      expect(new Set(ids)).toEqual(new Set(sent));
    });

    it('applies simultaneous acks of one queue and counts every one', async () => {
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 40);
      const claimed: ClaimedMessage[] = await claim(ctx.store, 'orders', T0, 40);
      const chunks = Array.from({ length: 8 }, (_, i) => claimed.slice(i * 5, i * 5 + 5));
      const results = await Promise.all(
        chunks.map((items) => ctx.store.messageComplete({ items, now: T0 + 1 })),
      );
      expect(results.every((r) => r.completed === 5 && r.lost.length === 0)).toBe(true);
      const [stats] = await ctx.store.queueStats({ now: T0 + 1 });
      expect(stats).toMatchObject({ queue: 'orders', done: 40, leased: 0, waiting: 0 });
    });

    it('inserts simultaneous batches sharing keys in opposite orders, each key once', async () => {
      await createQueues(ctx.store, 'orders');
      const keys = Array.from({ length: 2_000 }, (_, i) => `key-${i}`);
      const batch = (name: string, order: string[]) =>
        ctx.store.messageInsertBatch({
          queue: 'orders',
          now: T0,
          messages: order.map((key) => ({
            id: `${name}-${key}`,
            body: key,
            headers: {},
            idempotencyKey: key,
            visibleAt: T0,
          })),
        });
      const results = await Promise.all([
        batch('a', keys),
        batch('b', [...keys].reverse()),
        batch('c', keys),
        batch('d', [...keys].reverse()),
      ]);
      const inserted = results.flat().filter((r) => !r.deduplicated);
      expect(inserted).toHaveLength(keys.length);
      // Every result names the one live message holding its key.
      const holders = new Set(inserted.map((r) => r.id));
      expect(results.flat().every((r) => holders.has(r.id))).toBe(true);
      const claimed = await ctx.store.messageClaim({
        queue: 'orders',
        limit: 5_000,
        now: T0,
        leaseMs: 1_000,
        worker: WORKER,
      });
      expect(new Set(claimed.map((m) => m.body))).toEqual(new Set(keys));
    });

    it('inserts simultaneous sends with one idempotency key exactly once', async () => {
      await createQueues(ctx.store, 'orders');
      const sends = Array.from({ length: 6 }, (_, i) =>
        ctx.store.messageInsertBatch({
          queue: 'orders',
          now: T0,
          messages: [{ id: `same-key-${i}`, body: i, headers: {}, idempotencyKey: 'once', visibleAt: T0 }],
        }),
      );
      const results = (await Promise.all(sends)).flat();
      const inserted = results.filter((r) => !r.deduplicated);
      expect(inserted).toHaveLength(1);
      expect(new Set(results.map((r) => r.id))).toEqual(new Set([inserted[0]?.id]));
      expect(
        await ctx.store.messageClaim({ queue: 'orders', limit: 10, now: T0, leaseMs: 1_000, worker: WORKER }),
      ).toHaveLength(1);
    });
  });
}
