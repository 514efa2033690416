import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../core/errors.ts';
import { createQueues, type StoreContext, T0 } from './fixtures.ts';

/** Each queue's DLQ documentation: partial updates, clearing, audit. */
export function describeQueueDocs(ctx: StoreContext): void {
  describe('queue documentation', () => {
    it('has none until set, then keeps each field until it is changed or cleared', async () => {
      await createQueues(ctx.store, 'orders');
      expect(await ctx.store.queueDocsGet({ queue: 'orders' })).toBeUndefined();

      const runbook = '# Orders DLQ\n\n1. Look at `dlq groups --queue orders`\n2. Ünïcødé ✓';
      const first = await ctx.store.queueDocsSet({
        queue: 'orders',
        patch: { owner: 'payments-team', runbook },
        actor: 'ada',
        now: T0 + 10,
      });
      const expected = {
        queue: 'orders',
        owner: 'payments-team',
        contact: null,
        source: null,
        purpose: null,
        failureMeaning: null,
        runbook,
        updatedAt: T0 + 10,
        updatedBy: 'ada',
      };
      expect(first).toEqual(expected);
      expect(await ctx.store.queueDocsGet({ queue: 'orders' })).toEqual(expected);

      await ctx.store.queueDocsSet({
        queue: 'orders',
        patch: { contact: '#payments-oncall', failureMeaning: 'a customer was not billed', owner: null },
        actor: 'bob',
        now: T0 + 20,
      });
      expect(await ctx.store.queueDocsGet({ queue: 'orders' })).toEqual({
        ...expected,
        owner: null,
        contact: '#payments-oncall',
        failureMeaning: 'a customer was not billed',
        updatedAt: T0 + 20,
        updatedBy: 'bob',
      });
    });

    it('audits what changed, from and to, and nothing when nothing changed', async () => {
      await createQueues(ctx.store, 'orders');
      await ctx.store.queueDocsSet({
        queue: 'orders',
        patch: { owner: 'team-a' },
        actor: 'ada',
        now: T0 + 10,
      });
      await ctx.store.queueDocsSet({
        queue: 'orders',
        patch: { owner: 'team-b', source: 'checkout' },
        actor: 'bob',
        now: T0 + 20,
      });
      await ctx.store.queueDocsSet({
        queue: 'orders',
        patch: { owner: 'team-b' },
        actor: 'eve',
        now: T0 + 30,
      });
      const entries = await ctx.store.auditList({ action: 'queue.docs', limit: 10 });
      expect(entries.map(({ id: _id, ...e }) => e)).toEqual([
        {
          at: T0 + 20,
          actor: 'bob',
          action: 'queue.docs',
          targetType: 'queue',
          targetId: 'orders',
          details: {
            fields: ['owner', 'source'],
            from: { owner: 'team-a', source: null },
            to: { owner: 'team-b', source: 'checkout' },
          },
        },
        {
          at: T0 + 10,
          actor: 'ada',
          action: 'queue.docs',
          targetType: 'queue',
          targetId: 'orders',
          details: { fields: ['owner'], from: { owner: null }, to: { owner: 'team-a' } },
        },
      ]);
      expect((await ctx.store.queueDocsGet({ queue: 'orders' }))?.updatedBy).toBe('bob');
    });

    it('throws NotFoundError for an unknown queue and writes nothing', async () => {
      await expect(
        ctx.store.queueDocsSet({ queue: 'nope', patch: { owner: 'x' }, actor: 'ada', now: T0 }),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect(await ctx.store.queueDocsGet({ queue: 'nope' })).toBeUndefined();
      expect(await ctx.store.auditList({ limit: 10 })).toEqual([]);
    });
  });
}
