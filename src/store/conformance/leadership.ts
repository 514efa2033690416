import { describe, expect, it } from 'vitest';
import { type StoreContext, T0 } from './fixtures.ts';

const TTL = 10_000;

/** Leadership: one holder per name, renewal, refusal while the lease lives, takeover, resign. */
export function describeLeadership(ctx: StoreContext): void {
  describe('leadership', () => {
    const elect = (holder: string, now: number, name = 'maintenance') =>
      ctx.store.leaderAttemptElect({ name, holder, ttlMs: TTL, now });

    it('elects the first candidate and refuses another while the lease lives', async () => {
      expect(await elect('a', T0)).toBe(true);
      expect(await elect('b', T0 + 1)).toBe(false);
      expect(await elect('b', T0 + TTL - 1)).toBe(false);
      expect(await elect('a', T0 + 2)).toBe(true);
    });

    it('renews: the lease runs from the renewal, and others wait for it', async () => {
      expect(await elect('a', T0)).toBe(true);
      expect(await elect('a', T0 + 5_000)).toBe(true); // now held until T0 + 15 s
      expect(await elect('b', T0 + TTL)).toBe(false);
      expect(await elect('b', T0 + 5_000 + TTL - 1)).toBe(false);
      expect(await elect('a', T0 + 5_000 + TTL - 1)).toBe(true);
    });

    it('lets another candidate take over once the lease has expired', async () => {
      expect(await elect('a', T0)).toBe(true);
      expect(await elect('b', T0 + TTL)).toBe(true);
      // The old leader comes back and finds it was replaced.
      expect(await elect('a', T0 + TTL + 1)).toBe(false);
      expect(await elect('b', T0 + TTL + 2)).toBe(true);
    });

    it('frees the leadership on resign, and ignores a resign by someone who does not hold it', async () => {
      expect(await elect('a', T0)).toBe(true);
      await ctx.store.leaderResign({ name: 'maintenance', holder: 'b' });
      expect(await elect('b', T0 + 1)).toBe(false);
      await ctx.store.leaderResign({ name: 'maintenance', holder: 'a' });
      expect(await elect('b', T0 + 2)).toBe(true);
      expect(await elect('a', T0 + 3)).toBe(false);
      await ctx.store.leaderResign({ name: 'maintenance', holder: 'nobody' });
      await ctx.store.leaderResign({ name: 'unknown', holder: 'b' });
      expect(await elect('b', T0 + 4)).toBe(true);
    });

    it('keeps each named leadership apart', async () => {
      expect(await elect('a', T0, 'sweeper')).toBe(true);
      expect(await elect('b', T0, 'alerts')).toBe(true);
      expect(await elect('b', T0 + 1, 'sweeper')).toBe(false);
      expect(await elect('a', T0 + 1, 'alerts')).toBe(false);
    });

    it('elects exactly one of many simultaneous candidates', async () => {
      const holders = Array.from({ length: 8 }, (_, i) => `candidate-${i}`);
      const results = await Promise.all(holders.map((holder) => elect(holder, T0)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = holders[results.indexOf(true)] as string;
      expect(await elect(winner, T0 + 1)).toBe(true);
    });
  });
}
