import { describe, expect, it } from 'vitest';
import {
  attemptOf,
  claim,
  createQueues,
  deathRecord,
  expectStats,
  type StoreContext,
  send,
  T0,
  WORKER,
} from './fixtures.ts';

/**
 * `messageSettleAndClaim`, the worker's steady state: the acks and failures of one batch and
 * the claim of the next in one call. It must do exactly what the three calls do. Stores that
 * do not offer it skip these tests (the worker then makes the three calls).
 */
export function describeSettleAndClaim(ctx: StoreContext): void {
  describe('settle and claim', () => {
    it('completes, fails and claims in one call, with the results of the three calls', async ({ skip }) => {
      const settleAndClaim = ctx.store.messageSettleAndClaim?.bind(ctx.store);
      if (!settleAndClaim) return skip();
      await createQueues(ctx.store, 'orders');
      const sent = await send(ctx.store, 'orders', 6, T0);
      const [a, b, c, d] = await claim(ctx.store, 'orders', T0 + 1, 4);
      if (!a || !b || !c || !d) throw new Error('expected 4 claimed');
      const error = { name: 'Error', message: 'boom' };
      const result = await settleAndClaim({
        complete: [
          { id: a.id, leaseToken: a.leaseToken },
          { id: b.id, leaseToken: 'not-the-token' },
        ],
        fail: [
          {
            id: c.id,
            leaseToken: c.leaseToken,
            attempt: attemptOf(c, T0 + 1, error),
            outcome: 'retry',
            visibleAt: T0 + 2,
          },
          {
            id: d.id,
            leaseToken: d.leaseToken,
            attempt: attemptOf(d, T0 + 1, error),
            outcome: 'dead',
            death: deathRecord('g1'),
          },
        ],
        now: T0 + 2,
        claim: { queue: 'orders', limit: 10, leaseMs: 30_000, worker: WORKER },
      });
      expect(result.completed).toEqual({ completed: 1, lost: [b.id] });
      expect(result.failed).toEqual({ applied: 2, lost: [] });
      // The retried message is visible again at T0 + 2 and claimed with the 2 never-claimed ones.
      const neverClaimed = sent.filter((id) => ![a.id, b.id, c.id, d.id].includes(id));
      expect(neverClaimed).toHaveLength(2);
      expect(result.claimed.map((m) => m.id).sort()).toEqual([c.id, ...neverClaimed].sort());
      const again = result.claimed.find((m) => m.id === c.id);
      expect(again).toMatchObject({ receives: 2, attempts: [attemptOf(c, T0 + 1, error)] });
      expect((await ctx.store.deadLetterGet({ id: d.id }))?.attempts).toHaveLength(1);
      await expectStats(ctx.store, 'orders', T0 + 2, {
        sent: 6,
        waiting: 0,
        delayed: 0,
        leased: 4,
        done: 1,
        dead: 1,
        dropped: 0,
      });
    });

    it('settles with nothing to claim, and claims with nothing to settle', async ({ skip }) => {
      const settleAndClaim = ctx.store.messageSettleAndClaim?.bind(ctx.store);
      if (!settleAndClaim) return skip();
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 2, T0);
      const first = await settleAndClaim({
        complete: [],
        fail: [],
        now: T0 + 1,
        claim: { queue: 'orders', limit: 5, leaseMs: 30_000, worker: WORKER },
      });
      expect(first.claimed).toHaveLength(2);
      const second = await settleAndClaim({
        complete: first.claimed.map((m) => ({ id: m.id, leaseToken: m.leaseToken })),
        fail: [],
        now: T0 + 2,
        claim: { queue: 'orders', limit: 0, leaseMs: 30_000, worker: WORKER },
      });
      expect(second).toEqual({
        completed: { completed: 2, lost: [] },
        failed: { applied: 0, lost: [] },
        claimed: [],
      });
      await expectStats(ctx.store, 'orders', T0 + 2, {
        sent: 2,
        waiting: 0,
        delayed: 0,
        leased: 0,
        done: 2,
        dead: 0,
        dropped: 0,
      });
    });
  });
}
