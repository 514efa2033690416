import { describe, expect, it } from 'vitest';
import type { AuditEntryInput } from '../../core/audit.ts';
import { type StoreContext, T0 } from './fixtures.ts';

/** The audit log: append-only, newest first, filtered and paged. */
export function describeAuditLog(ctx: StoreContext): void {
  describe('audit log', () => {
    const entries: AuditEntryInput[] = [
      { at: T0, actor: 'ada', action: 'queue.create', targetType: 'queue', targetId: 'orders', details: {} },
      {
        at: T0 + 10,
        actor: 'bob',
        action: 'discard',
        targetType: 'dead_letter',
        targetId: 'd-1',
        details: { reason: 'duplicate\u0000order', count: 1, ids: ['d-1'], nested: { z: 1, a: null } },
      },
      {
        at: T0 + 20,
        actor: 'ada',
        action: 'group.status',
        targetType: 'group',
        targetId: 'g-1',
        details: {},
      },
      {
        at: T0 + 30,
        actor: 'ada',
        action: 'discard',
        targetType: 'dead_letter',
        targetId: 'd-2',
        details: {},
      },
    ];

    it('lists entries newest first with increasing ids and their details as written', async () => {
      await ctx.store.auditAppend({ entries: entries.slice(0, 2) });
      await ctx.store.auditAppend({ entries: entries.slice(2) });
      await ctx.store.auditAppend({ entries: [] });
      const listed = await ctx.store.auditList({ limit: 10 });
      expect(listed.map(({ id: _id, ...entry }) => entry)).toEqual([...entries].reverse());
      const ids = listed.map((e) => e.id);
      expect([...ids].sort((a, b) => b - a)).toEqual(ids);
      expect(new Set(ids).size).toBe(4);
      expect(JSON.stringify(listed[2]?.details)).toBe(JSON.stringify(entries[1]?.details));
    });

    it('filters by action, actor, target and time, and pages with beforeId', async () => {
      await ctx.store.auditAppend({ entries });
      const targets = async (filter: Parameters<typeof ctx.store.auditList>[0]) =>
        (await ctx.store.auditList(filter)).map((e) => e.targetId);
      expect(await targets({ limit: 10, action: 'discard' })).toEqual(['d-2', 'd-1']);
      expect(await targets({ limit: 10, actor: 'ada' })).toEqual(['d-2', 'g-1', 'orders']);
      expect(await targets({ limit: 10, targetId: 'g-1' })).toEqual(['g-1']);
      expect(await targets({ limit: 10, since: T0 + 10, until: T0 + 30 })).toEqual(['g-1', 'd-1']);
      expect(await targets({ limit: 10, actor: 'ada', action: 'discard' })).toEqual(['d-2']);
      expect(await targets({ limit: 10, actor: 'nobody' })).toEqual([]);

      const [first, second] = await ctx.store.auditList({ limit: 2 });
      expect([first?.targetId, second?.targetId]).toEqual(['d-2', 'g-1']);
      const next = await ctx.store.auditList({ limit: 2, beforeId: second?.id as number });
      expect(next.map((e) => e.targetId)).toEqual(['d-1', 'orders']);
    });
  });
}
