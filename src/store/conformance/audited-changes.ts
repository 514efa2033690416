import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import { createQueues, killOne, queueRecord, type StoreContext, T0 } from './fixtures.ts';

/** Queue settings and group status changes append their audit entry in the same transaction. */
export function describeAuditedChanges(ctx: StoreContext): void {
  describe('audited queue and group changes', () => {
    it('records a queue creation with its settings, only when an actor is given', async () => {
      await ctx.store.queueCreate({ queue: queueRecord('orders', { retentionDays: 21 }), actor: 'ada' });
      await ctx.store.queueCreate({ queue: queueRecord('quiet') });
      const entries = await ctx.store.auditList({ limit: 10 });
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        at: T0,
        actor: 'ada',
        action: 'queue.create',
        targetType: 'queue',
        targetId: 'orders',
        details: {
          settings: {
            maxReceives: 5,
            visibilityTimeoutMs: 30_000,
            backoff: { type: 'exponential', baseMs: 1_000, capMs: 300_000 },
            deadLetter: true,
            retentionDays: 21,
          },
        },
      });
      await expect(
        ctx.store.queueCreate({ queue: queueRecord('orders'), actor: 'bob' }),
      ).rejects.toBeInstanceOf(ConflictError);
      expect(await ctx.store.auditList({ limit: 10 })).toHaveLength(1);
    });

    it('records a settings change with the old and new values of what changed', async () => {
      await createQueues(ctx.store, 'orders');
      await ctx.store.queueUpdate({
        name: 'orders',
        patch: { retentionDays: 3, deadLetter: false, maxReceives: 5 },
        now: T0 + 10,
        actor: 'ada',
      });
      const [entry] = await ctx.store.auditList({ action: 'queue.update', limit: 10 });
      expect(entry).toMatchObject({
        at: T0 + 10,
        actor: 'ada',
        targetId: 'orders',
        details: {
          from: { retentionDays: 14, deadLetter: true },
          to: { retentionDays: 3, deadLetter: false },
        },
      });
      await expect(
        ctx.store.queueUpdate({ name: 'nope', patch: { retentionDays: 3 }, now: T0, actor: 'ada' }),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect(await ctx.store.auditList({ action: 'queue.update', limit: 10 })).toHaveLength(1);
    });

    it('records a group status change from and to, and nothing when the status stays', async () => {
      await createQueues(ctx.store, 'orders');
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10, groupId: 'g1' });
      await ctx.store.groupStatusSet({ id: 'g1', status: 'acknowledged', now: T0 + 20, actor: 'ada' });
      await ctx.store.groupStatusSet({ id: 'g1', status: 'acknowledged', now: T0 + 30, actor: 'ada' });
      await ctx.store.groupStatusSet({ id: 'g1', status: 'resolved', now: T0 + 40, actor: 'bob' });
      await ctx.store.groupStatusSet({ id: 'g1', status: 'ignored', now: T0 + 50 });
      const entries = await ctx.store.auditList({ action: 'group.status', limit: 10 });
      expect(entries.map((e) => [e.actor, e.at, e.targetType, e.targetId, e.details])).toEqual([
        ['bob', T0 + 40, 'group', 'g1', { from: 'acknowledged', to: 'resolved' }],
        ['ada', T0 + 20, 'group', 'g1', { from: 'new', to: 'acknowledged' }],
      ]);
      await expect(
        ctx.store.groupStatusSet({ id: 'nope', status: 'resolved', now: T0, actor: 'ada' }),
      ).rejects.toBeInstanceOf(NotFoundError);
    });
  });
}
