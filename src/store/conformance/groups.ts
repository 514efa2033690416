import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../core/errors.ts';
import type { GroupFilter, GroupSort } from '../../core/group.ts';
import { createQueues, killOne, type StoreContext, T0 } from './fixtures.ts';

/** Groups: list sorts and filters, status changes. */
export function describeGroups(ctx: StoreContext): void {
  describe('groups', () => {
    /**
     * gA: 3 deaths in orders, transient, last seen T0+300.
     * gB: 1 death in emails, permanent, last seen T0+500.
     * gC: 2 deaths in orders and emails, permanent, last seen T0+400; acknowledged.
     */
    async function seed(): Promise<void> {
      await createQueues(ctx.store, 'orders', 'emails');
      for (const diedAt of [T0 + 100, T0 + 200, T0 + 300]) {
        await killOne(ctx.store, { queue: 'orders', diedAt, groupId: 'gA', tier: 'transient' });
      }
      await killOne(ctx.store, { queue: 'emails', diedAt: T0 + 500, groupId: 'gB', tier: 'permanent' });
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 150, groupId: 'gC', tier: 'permanent' });
      await killOne(ctx.store, { queue: 'emails', diedAt: T0 + 400, groupId: 'gC', tier: 'permanent' });
      await ctx.store.groupStatusSet({ id: 'gC', status: 'acknowledged', now: T0 + 600 });
    }

    it('sorts by count or by last seen', async () => {
      await seed();
      const ids = async (sort: GroupSort) =>
        (await ctx.store.groupList({ sort, limit: 10 })).map((g) => g.id);
      expect(await ids('count')).toEqual(['gA', 'gC', 'gB']);
      expect(await ids('lastSeen')).toEqual(['gB', 'gC', 'gA']);
    });

    it('filters by queue, status and tier, alone and together', async () => {
      await seed();
      const cases: [GroupFilter & { sort: GroupSort }, string[]][] = [
        [{ sort: 'count', queue: 'emails' }, ['gC', 'gB']],
        [{ sort: 'lastSeen', queue: 'orders' }, ['gC', 'gA']],
        [{ sort: 'count', tier: 'permanent' }, ['gC', 'gB']],
        [{ sort: 'lastSeen', tier: 'transient' }, ['gA']],
        [{ sort: 'count', status: 'new' }, ['gA', 'gB']],
        [{ sort: 'lastSeen', status: 'acknowledged' }, ['gC']],
        [{ sort: 'count', queue: 'orders', tier: 'permanent' }, ['gC']],
        [{ sort: 'lastSeen', queue: 'emails', status: 'new' }, ['gB']],
        [{ sort: 'count', status: 'new', tier: 'transient' }, ['gA']],
        [{ sort: 'count', queue: 'orders', status: 'new', tier: 'transient' }, ['gA']],
        [{ sort: 'count', queue: 'nope' }, []],
        [{ sort: 'count', status: 'resolved' }, []],
      ];
      for (const [filter, expected] of cases) {
        const ids = (await ctx.store.groupList({ ...filter, limit: 10 })).map((g) => g.id);
        expect({ filter, ids }).toEqual({ filter, ids: expected });
      }
    });

    it('pages with limit and offset', async () => {
      await seed();
      const page = async (limit: number, offset: number) =>
        (await ctx.store.groupList({ sort: 'count', limit, offset })).map((g) => g.id);
      expect(await page(1, 0)).toEqual(['gA']);
      expect(await page(1, 1)).toEqual(['gC']);
      expect(await page(2, 1)).toEqual(['gC', 'gB']);
      expect(await page(10, 3)).toEqual([]);
    });

    it('returns whole groups with their queues', async () => {
      await seed();
      const [first] = await ctx.store.groupList({ sort: 'lastSeen', limit: 1, queue: 'orders' });
      expect(first).toEqual(await ctx.store.groupGet({ id: 'gC' }));
      expect(first).toMatchObject({
        id: 'gC',
        count: 2,
        deadCount: 2,
        firstSeen: T0 + 150,
        lastSeen: T0 + 400,
        queues: ['emails', 'orders'],
        tier: 'permanent',
        status: 'acknowledged',
      });
    });

    it('sets a status, stamping when it changed', async () => {
      await seed();
      const resolved = await ctx.store.groupStatusSet({ id: 'gA', status: 'resolved', now: T0 + 700 });
      expect(resolved).toMatchObject({ id: 'gA', status: 'resolved', statusChangedAt: T0 + 700, count: 3 });
      expect(await ctx.store.groupGet({ id: 'gA' })).toEqual(resolved);
      const again = await ctx.store.groupStatusSet({ id: 'gA', status: 'resolved', now: T0 + 800 });
      expect(again.statusChangedAt).toBe(T0 + 700);
      const ignored = await ctx.store.groupStatusSet({ id: 'gA', status: 'ignored', now: T0 + 900 });
      expect(ignored).toMatchObject({ status: 'ignored', statusChangedAt: T0 + 900 });
    });

    it('throws NotFoundError for an unknown group and returns undefined on get', async () => {
      const set = ctx.store.groupStatusSet({ id: 'nope', status: 'resolved', now: T0 });
      await expect(set).rejects.toBeInstanceOf(NotFoundError);
      expect(await ctx.store.groupGet({ id: 'nope' })).toBeUndefined();
    });
  });
}
