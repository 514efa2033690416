import { describe, expect, it } from 'vitest';
import type { BodyFieldMatch, DeadLetterFilter } from '../../core/dead-letter.ts';
import { createQueues, killOne, type StoreContext, T0 } from './fixtures.ts';

/** Selecting dead letters by id and by fields of their body. */
export function describeDeadLetterSelectors(ctx: StoreContext): void {
  describe('deadLetterList selectors', () => {
    async function seed(): Promise<[string, string, string, string]> {
      await createQueues(ctx.store, 'orders');
      const bodies = [
        { customer: { country: 'DE', tier: 1 }, tags: ['a', 'b'], paid: true },
        { customer: { country: 'FR', tier: 2 }, tags: ['b'], paid: false },
        { customer: { country: 'DE', tier: '1' }, tags: [], paid: null },
        [1, 2, 3],
      ];
      const ids: string[] = [];
      for (const [i, body] of bodies.entries()) {
        ids.push(await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 100 * (i + 1), body }));
      }
      return ids as [string, string, string, string];
    }

    it('selects by ids, newest first, with the other filters', async () => {
      const [a, b, c, d] = await seed();
      const list = async (filter: DeadLetterFilter) =>
        (await ctx.store.deadLetterList({ limit: 10, ...filter })).map((r) => r.id);
      expect(await list({ ids: [a, c, 'missing'] })).toEqual([c, a]);
      expect(await list({ ids: [] })).toEqual([]);
      expect(await list({ ids: [a, b, c, d], since: T0 + 200, until: T0 + 400 })).toEqual([c, b]);
    });

    it('selects by body fields compared as typed JSON', async () => {
      const [a, b, c] = await seed();
      const list = async (...where: BodyFieldMatch[]) =>
        (await ctx.store.deadLetterList({ limit: 10, where })).map((r) => r.id);
      expect(await list({ path: ['customer', 'country'], value: 'DE' })).toEqual([c, a]);
      expect(await list({ path: ['customer', 'tier'], value: 1 })).toEqual([a]);
      expect(await list({ path: ['customer', 'tier'], value: '1' })).toEqual([c]);
      expect(await list({ path: ['paid'], value: false })).toEqual([b]);
      expect(await list({ path: ['paid'], value: null })).toEqual([c]);
      expect(await list({ path: ['tags', '0'], value: 'b' })).toEqual([b]);
      expect(
        await list({ path: ['customer', 'country'], value: 'DE' }, { path: ['paid'], value: true }),
      ).toEqual([a]);
      expect(await list({ path: ['nope'], value: 'DE' })).toEqual([]);
    });
  });
}
