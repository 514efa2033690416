import { describe, expect, it } from 'vitest';
import type { DeadLetterFilter, DeadLetterSummary } from '../../core/dead-letter.ts';
import type { Tier } from '../../core/tier.ts';
import type { Store } from '../store.ts';
import { createQueues, killOne, type StoreContext, T0 } from './fixtures.ts';

/** Reads every page of a filtered list, following the cursor of each last row. */
async function readAllPages(
  store: Store,
  filter: DeadLetterFilter,
  pageSize: number,
): Promise<{ rows: DeadLetterSummary[]; pages: number[] }> {
  const rows: DeadLetterSummary[] = [];
  const pages: number[] = [];
  let cursor: { diedAt: number; id: string } | undefined;
  for (let guard = 0; guard < 1_000; guard++) {
    const page = await store.deadLetterList({ ...filter, limit: pageSize, ...(cursor && { cursor }) });
    pages.push(page.length);
    rows.push(...page);
    const last = page.at(-1);
    if (!last) return { rows, pages };
    cursor = { diedAt: last.diedAt, id: last.id };
  }
  throw new Error('paging did not end');
}

/** Newest first by (diedAt, id), the order every store must return. */
function newestFirst(a: { diedAt: number; id: string }, b: { diedAt: number; id: string }): number {
  if (a.diedAt !== b.diedAt) return b.diedAt - a.diedAt;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Dead letters: get, list filters, keyset paging. */
export function describeDeadLetters(ctx: StoreContext): void {
  describe('deadLetterList', () => {
    /** Five dead letters across two queues, three groups and three tiers. */
    async function seed(): Promise<Record<'d1' | 'd2' | 'd3' | 'd4' | 'd5', string>> {
      await createQueues(ctx.store, 'orders', 'emails');
      const typeError = { name: 'TypeError', message: "Cannot read properties of undefined (reading 'id')" };
      const fetchError = { name: 'FetchError', message: 'Upstream 503 from billing' };
      return {
        d1: await killOne(ctx.store, {
          queue: 'orders',
          diedAt: T0 + 100,
          groupId: 'g1',
          tier: 'permanent',
          ...typeError,
        }),
        d2: await killOne(ctx.store, {
          queue: 'emails',
          diedAt: T0 + 200,
          groupId: 'g2',
          tier: 'transient',
          ...fetchError,
        }),
        d3: await killOne(ctx.store, {
          queue: 'orders',
          diedAt: T0 + 300,
          groupId: 'g2',
          tier: 'transient',
          ...fetchError,
        }),
        d4: await killOne(ctx.store, {
          queue: 'orders',
          diedAt: T0 + 400,
          groupId: 'g3',
          tier: 'malformed',
          name: 'SyntaxError',
          message: 'Unexpected token < in JSON at position 0',
        }),
        d5: await killOne(ctx.store, {
          queue: 'emails',
          diedAt: T0 + 500,
          groupId: 'g1',
          tier: 'permanent',
          ...typeError,
        }),
      };
    }

    it('lists summaries newest first, without body, headers or attempts', async () => {
      const { d1, d2, d3, d4, d5 } = await seed();
      const all = await ctx.store.deadLetterList({ limit: 100 });
      expect(all.map((d) => d.id)).toEqual([d5, d4, d3, d2, d1]);
      const full = await ctx.store.deadLetterGet({ id: d4 });
      if (!full) throw new Error('expected the dead letter');
      const { body: _body, headers: _headers, attempts, originalBody: _o, edits: _e, ...rest } = full;
      expect(all[1]).toEqual({ ...rest, attemptCount: attempts.length });
      expect(all[1]).not.toHaveProperty('body');
      expect(attempts).toHaveLength(1);
    });

    it('returns undefined for an unknown dead letter', async () => {
      expect(await ctx.store.deadLetterGet({ id: 'nope' })).toBeUndefined();
    });

    it('applies each filter, and all of them together', async () => {
      const { d1, d2, d3, d4, d5 } = await seed();
      const cases: [DeadLetterFilter, string[]][] = [
        [{ queue: 'orders' }, [d4, d3, d1]],
        [{ tier: 'transient' }, [d3, d2]],
        [{ groupId: 'g1' }, [d5, d1]],
        [{ since: T0 + 300 }, [d5, d4, d3]],
        [{ until: T0 + 300 }, [d2, d1]],
        [{ since: T0 + 200, until: T0 + 500 }, [d4, d3, d2]],
        [{ grep: 'upstream' }, [d3, d2]],
        [{ grep: 'syntaxerror' }, [d4]],
        [{ grep: 'UNEXPECTED TOKEN' }, [d4]],
        [{ grep: 'no such text' }, []],
        [{ queue: 'orders', tier: 'transient' }, [d3]],
        [{ queue: 'emails', groupId: 'g1' }, [d5]],
        [{ tier: 'permanent', since: T0 + 200 }, [d5]],
        [{ queue: 'orders', grep: 'cannot read' }, [d1]],
        [{ groupId: 'g2', until: T0 + 250 }, [d2]],
        [
          {
            queue: 'orders',
            tier: 'transient',
            groupId: 'g2',
            since: T0 + 250,
            until: T0 + 350,
            grep: '503',
          },
          [d3],
        ],
        [{ queue: 'nope' }, []],
        [{ tier: 'resource' }, []],
      ];
      for (const [filter, expected] of cases) {
        const rows = await ctx.store.deadLetterList({ ...filter, limit: 100 });
        expect({ filter, ids: rows.map((r) => r.id) }).toEqual({ filter, ids: expected });
      }
    });

    it('respects the limit', async () => {
      const { d4, d5 } = await seed();
      expect((await ctx.store.deadLetterList({ limit: 2 })).map((d) => d.id)).toEqual([d5, d4]);
    });

    it('pages with a cursor: no duplicates, no gaps, ties on diedAt ordered by id', async () => {
      await createQueues(ctx.store, 'orders', 'emails');
      const expected: { diedAt: number; id: string }[] = [];
      for (let i = 0; i < 23; i++) {
        // Four dead letters share each diedAt, so page boundaries fall inside ties.
        const diedAt = T0 + 1_000 * Math.floor(i / 4);
        const tier: Tier = i % 3 === 0 ? 'transient' : 'permanent';
        const queue = i % 2 === 0 ? 'orders' : 'emails';
        const id = await killOne(ctx.store, { queue, diedAt, tier, groupId: `g${i % 3}` });
        expected.push({ diedAt, id });
      }
      expected.sort(newestFirst);

      for (const pageSize of [1, 3, 5, 23, 50]) {
        const { rows, pages } = await readAllPages(ctx.store, {}, pageSize);
        expect(rows.map((r) => r.id)).toEqual(expected.map((e) => e.id));
        expect(pages.at(-1)).toBe(0);
        expect(pages.slice(0, -1).every((n) => n > 0 && n <= pageSize)).toBe(true);
      }
      const { rows: filtered } = await readAllPages(ctx.store, { queue: 'orders', tier: 'transient' }, 2);
      const all = await ctx.store.deadLetterList({ limit: 100 });
      const wanted = all.filter((d) => d.queue === 'orders' && d.tier === 'transient').map((d) => d.id);
      expect(wanted.length).toBeGreaterThan(2);
      expect(filtered.map((r) => r.id)).toEqual(wanted);
    });

    it('continues strictly after the cursor row', async () => {
      await createQueues(ctx.store, 'orders');
      const a = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10 });
      const b = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 10 });
      const c = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 20 });
      const listAfter = (diedAt: number, id: string) =>
        ctx.store.deadLetterList({ limit: 10, cursor: { diedAt, id } }).then((rows) => rows.map((r) => r.id));
      expect(await listAfter(T0 + 20, c)).toEqual([b, a]);
      expect(await listAfter(T0 + 10, b)).toEqual([a]);
      expect(await listAfter(T0 + 10, a)).toEqual([]);
      // A cursor need not be a row that still exists (it may have been replayed or discarded).
      expect(await listAfter(T0 + 15, 'zzz')).toEqual([b, a]);
    });
  });
}
