import { describe, expect, it } from 'vitest';
import { createQueues, expectStats, killOne, type StoreContext, T0 } from './fixtures.ts';

/** Discard: tombstones, counters, group counts and the audit entry, in one transaction. */
export function describeDiscard(ctx: StoreContext): void {
  describe('deadLetterDiscard', () => {
    it('deletes each dead letter, keeps a tombstone and counts it as discarded', async () => {
      await createQueues(ctx.store, 'orders', 'emails');
      const a = await killOne(ctx.store, {
        queue: 'orders',
        diedAt: T0 + 10,
        groupId: 'g1',
        tier: 'malformed',
      });
      const b = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 20, groupId: 'g1' });
      const c = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 30, groupId: 'g2' });
      const d = await killOne(ctx.store, { queue: 'emails', diedAt: T0 + 40, groupId: 'g1' });

      const result = await ctx.store.deadLetterDiscard({
        ids: [a, d, 'nope', a],
        reason: 'duplicate orders from the 2026-01-01 import',
        actor: 'ada',
        now: T0 + 1_000,
      });
      expect(result).toEqual({ discarded: [a, d], missing: ['nope'] });

      expect(await ctx.store.deadLetterGet({ id: a })).toBeUndefined();
      expect(await ctx.store.deadLetterGet({ id: d })).toBeUndefined();
      expect((await ctx.store.deadLetterGet({ id: b }))?.id).toBe(b);
      expect(await ctx.store.tombstoneGet({ id: a })).toEqual({
        id: a,
        queue: 'orders',
        groupId: 'g1',
        tier: 'malformed',
        reason: 'duplicate orders from the 2026-01-01 import',
        actor: 'ada',
        diedAt: T0 + 10,
        discardedAt: T0 + 1_000,
      });
      expect(await ctx.store.tombstoneGet({ id: b })).toBeUndefined();
      expect(await ctx.store.tombstoneGet({ id: 'nope' })).toBeUndefined();

      await expectStats(ctx.store, 'orders', T0 + 1_000, {
        sent: 3,
        waiting: 0,
        delayed: 0,
        leased: 0,
        done: 0,
        dead: 2,
        dropped: 0,
        discarded: 1,
        oldestDeadAt: T0 + 20,
      });
      await expectStats(ctx.store, 'emails', T0 + 1_000, {
        sent: 1,
        waiting: 0,
        delayed: 0,
        leased: 0,
        done: 0,
        dead: 0,
        dropped: 0,
        discarded: 1,
        oldestDeadAt: null,
      });
      const g1 = await ctx.store.groupGet({ id: 'g1' });
      expect({ count: g1?.count, deadCount: g1?.deadCount }).toEqual({ count: 3, deadCount: 1 });
      expect((await ctx.store.groupGet({ id: 'g2' }))?.deadCount).toBe(1);
      expect((await ctx.store.deadLetterList({ limit: 10 })).map((l) => l.id)).toEqual([c, b]);
    });

    it('writes one audit entry per queue with the reason, count and ids', async () => {
      await createQueues(ctx.store, 'orders', 'emails');
      const a = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10 });
      const b = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 20 });
      const c = await killOne(ctx.store, { queue: 'emails', diedAt: T0 + 30 });
      await ctx.store.deadLetterDiscard({
        ids: [a, b, c, 'gone'],
        reason: 'test data',
        actor: 'bob',
        now: T0 + 50,
      });
      const entries = await ctx.store.auditList({ action: 'discard', limit: 10 });
      expect(
        entries.map(({ id: _id, ...entry }) => entry).sort((x, y) => x.targetId.localeCompare(y.targetId)),
      ).toEqual([
        {
          at: T0 + 50,
          actor: 'bob',
          action: 'discard',
          targetType: 'queue',
          targetId: 'emails',
          details: { reason: 'test data', count: 1, ids: [c] },
        },
        {
          at: T0 + 50,
          actor: 'bob',
          action: 'discard',
          targetType: 'queue',
          targetId: 'orders',
          details: { reason: 'test data', count: 2, ids: [a, b] },
        },
      ]);
    });

    it('discards nothing and audits nothing when no id is in the DLQ; a second discard finds nothing', async () => {
      await createQueues(ctx.store, 'orders');
      const a = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10 });
      expect(await ctx.store.deadLetterDiscard({ ids: [], reason: 'r', actor: 'ada', now: T0 })).toEqual({
        discarded: [],
        missing: [],
      });
      expect(
        await ctx.store.deadLetterDiscard({ ids: [a], reason: 'first', actor: 'ada', now: T0 + 20 }),
      ).toEqual({
        discarded: [a],
        missing: [],
      });
      expect(
        await ctx.store.deadLetterDiscard({ ids: [a], reason: 'again', actor: 'bob', now: T0 + 30 }),
      ).toEqual({
        discarded: [],
        missing: [a],
      });
      expect((await ctx.store.tombstoneGet({ id: a }))?.reason).toBe('first');
      expect(await ctx.store.auditList({ action: 'discard', limit: 10 })).toHaveLength(1);
      await expectStats(ctx.store, 'orders', T0 + 30, {
        sent: 1,
        waiting: 0,
        delayed: 0,
        leased: 0,
        done: 0,
        dead: 0,
        dropped: 0,
        discarded: 1,
      });
    });

    it('discards each dead letter once when two callers discard the same ones at once', async () => {
      await createQueues(ctx.store, 'orders');
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(await killOne(ctx.store, { queue: 'orders', diedAt: T0 + i }));
      const [first, second] = await Promise.all([
        ctx.store.deadLetterDiscard({ ids, reason: 'one', actor: 'ada', now: T0 + 100 }),
        ctx.store.deadLetterDiscard({ ids: [...ids].reverse(), reason: 'two', actor: 'bob', now: T0 + 100 }),
      ]);
      expect([...first.discarded, ...second.discarded].sort()).toEqual([...ids].sort());
      expect([...first.missing, ...second.missing].sort()).toEqual([...ids].sort());
      await expectStats(ctx.store, 'orders', T0 + 100, {
        sent: 20,
        waiting: 0,
        delayed: 0,
        leased: 0,
        done: 0,
        dead: 0,
        dropped: 0,
        discarded: 20,
      });
      expect((await ctx.store.groupGet({ id: 'group-a' }))?.deadCount).toBe(0);
    });
  });
}
