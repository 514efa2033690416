import { describe, expect, it } from 'vitest';
import type { DeadLetterFilter } from '../../core/dead-letter.ts';
import { BRIEF_MESSAGE_MAX, toDeadLetterBrief } from '../../core/dead-letter-brief.ts';
import type { GroupFilter, GroupSort } from '../../core/group.ts';
import type { Store } from '../store.ts';
import { createQueues, killOne, type StoreContext, T0 } from './fixtures.ts';

type ListParams = DeadLetterFilter & { limit: number; cursor?: { diedAt: number; id: string } };

/** What `deadLetterBriefList` must return: the rows of `deadLetterList` as briefs, with their keys. */
async function expectedBriefs(store: Store, params: ListParams) {
  return (await store.deadLetterList(params)).map((summary) => ({
    id: summary.id,
    diedAt: summary.diedAt,
    brief: toDeadLetterBrief(summary),
  }));
}

async function briefs(store: Store, params: ListParams) {
  return (await store.deadLetterBriefList(params)).map((row) => ({
    id: row.id,
    diedAt: row.diedAt,
    brief: JSON.parse(row.json) as unknown,
  }));
}

/**
 * The list pages the API sends as JSON text built by the database: each must decode to exactly
 * what the typed list returns (briefs of `deadLetterList`'s rows; `groupList`'s groups), with
 * the same rows in the same order for every filter and page.
 */
export function describeJsonLists(ctx: StoreContext): void {
  describe('deadLetterBriefList', () => {
    async function seed(): Promise<void> {
      await createQueues(ctx.store, 'orders', 'emails');
      const specs = [
        { queue: 'orders', groupId: 'g1', tier: 'permanent' as const, name: 'TypeError', message: 'short' },
        // Quotes, backslashes, control characters and non-ASCII: escaped as JSON requires.
        {
          queue: 'emails',
          groupId: 'g2',
          tier: 'transient' as const,
          name: 'Fetch"Error',
          message: 'line one\nline "two"\t\\ tab; naïve café ✓ 😀 \u0001',
        },
        // Longer than a brief carries (astral characters count as one, as in SQL).
        {
          queue: 'orders',
          groupId: 'g2',
          tier: 'transient' as const,
          name: 'Error',
          message: '😀'.repeat(BRIEF_MESSAGE_MAX + 5),
        },
        // Exactly as long as a brief carries: kept whole.
        {
          queue: 'orders',
          groupId: 'g3',
          tier: 'malformed' as const,
          name: 'E',
          message: 'x'.repeat(BRIEF_MESSAGE_MAX),
        },
        {
          queue: 'emails',
          groupId: 'g1',
          tier: 'permanent' as const,
          name: 'TypeError',
          message: 'y'.repeat(BRIEF_MESSAGE_MAX + 1),
        },
      ];
      for (const [i, spec] of specs.entries())
        await killOne(ctx.store, { ...spec, diedAt: T0 + 100 * (i + 1) });
      // Two deaths at the same time: paging orders them by id.
      await killOne(ctx.store, { queue: 'orders', groupId: 'g1', diedAt: T0 + 300, id: 'dead-same-time' });
    }

    it('returns the briefs of deadLetterList, with their paging keys, for every filter', async () => {
      await seed();
      const filters: DeadLetterFilter[] = [
        {},
        { queue: 'orders' },
        { tier: 'transient' },
        { groupId: 'g1' },
        { since: T0 + 200, until: T0 + 500 },
        { grep: 'typeerror' },
        { queue: 'orders', tier: 'transient', groupId: 'g2' },
      ];
      for (const filter of filters) {
        const params = { ...filter, limit: 10 };
        const expected = await expectedBriefs(ctx.store, params);
        expect(expected.length, JSON.stringify(filter)).toBeGreaterThan(0);
        expect(await briefs(ctx.store, params), JSON.stringify(filter)).toEqual(expected);
      }
    });

    it('cuts a long error message to the brief length, ending in "…"', async () => {
      await seed();
      const messages = (await briefs(ctx.store, { limit: 10 })).map(
        (row) => (row.brief as { error: { message: string } }).error.message,
      );
      expect(messages).toContain(`${'😀'.repeat(BRIEF_MESSAGE_MAX - 1)}…`);
      expect(messages).toContain(`${'y'.repeat(BRIEF_MESSAGE_MAX - 1)}…`);
      expect(messages).toContain('x'.repeat(BRIEF_MESSAGE_MAX));
      expect(messages).toContain('line one\nline "two"\t\\ tab; naïve café ✓ 😀 \u0001');
    });

    it('pages with the cursor as deadLetterList does', async () => {
      await seed();
      let cursor: { diedAt: number; id: string } | undefined;
      const seen: string[] = [];
      for (let page = 0; page < 10; page++) {
        const params: ListParams = { limit: 2, ...(cursor && { cursor }) };
        const rows = await briefs(ctx.store, params);
        expect(rows).toEqual(await expectedBriefs(ctx.store, params));
        const last = rows.at(-1);
        if (!last) break;
        seen.push(...rows.map((row) => row.id));
        cursor = { diedAt: last.diedAt, id: last.id };
      }
      expect(seen).toHaveLength(6);
      expect(new Set(seen).size).toBe(6);
    });
  });

  describe('groupListJson', () => {
    it('returns the groups of groupList, in its order, for every sort, filter and offset', async () => {
      await createQueues(ctx.store, 'orders', 'emails', 'billing');
      for (const diedAt of [T0 + 100, T0 + 200, T0 + 300]) {
        await killOne(ctx.store, { queue: 'orders', diedAt, groupId: 'gA', tier: 'transient' });
      }
      await killOne(ctx.store, {
        queue: 'emails',
        diedAt: T0 + 500,
        groupId: 'gB',
        tier: 'permanent',
        name: 'Quote"Error',
        message: 'back\\slash, new\nline, ünïcödé',
      });
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 150, groupId: 'gC', tier: 'permanent' });
      await killOne(ctx.store, { queue: 'emails', diedAt: T0 + 400, groupId: 'gC', tier: 'permanent' });
      await killOne(ctx.store, { queue: 'billing', diedAt: T0 + 450, groupId: 'gC', tier: 'permanent' });
      await ctx.store.groupStatusSet({ id: 'gC', status: 'acknowledged', now: T0 + 600 });
      const cases: (GroupFilter & { sort: GroupSort; limit: number; offset?: number })[] = [
        { sort: 'count', limit: 10 },
        { sort: 'lastSeen', limit: 10 },
        { sort: 'count', limit: 10, queue: 'emails' },
        { sort: 'lastSeen', limit: 10, status: 'acknowledged' },
        { sort: 'count', limit: 10, tier: 'permanent' },
        { sort: 'count', limit: 1, offset: 1 },
        { sort: 'count', limit: 10, queue: 'nowhere' },
      ];
      for (const params of cases) {
        const groups = await ctx.store.groupList(params);
        const json = await ctx.store.groupListJson(params);
        expect(
          json.map((text) => JSON.parse(text) as unknown),
          JSON.stringify(params),
        ).toEqual(groups);
      }
      const gC = (await ctx.store.groupListJson({ sort: 'count', limit: 10 })).find((text) =>
        text.includes('"gC"'),
      );
      expect((JSON.parse(gC ?? '{}') as { queues?: string[] }).queues).toEqual([
        'billing',
        'emails',
        'orders',
      ]);
    });
  });
}
