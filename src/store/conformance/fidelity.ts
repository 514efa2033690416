import { describe, expect, it } from 'vitest';
import type { Json } from '../../core/message.ts';
import {
  attemptOf,
  claimOne,
  createQueues,
  deathRecord,
  message,
  type StoreContext,
  T0,
} from './fixtures.ts';

/** Values that are easy to mangle in storage: key order, NUL characters, astral characters, big numbers. */
const AWKWARD_BODY: Json = {
  zebra: 1,
  alpha: { nested: [3, 2, 1], 'key with spaces': 'and "quotes" and \\ backslashes' },
  nul: 'before\u0000after',
  emoji: '😀 ünïcødé',
  big: 9_007_199_254_740_991,
  fraction: 0.1,
  empty: {},
  list: [],
};

/** What goes in comes out exactly, wherever the message is. */
export function describeFidelity(ctx: StoreContext): void {
  describe('values kept exactly', () => {
    it('keeps a body and headers as sent (key order included) while queued, claimed and dead', async () => {
      await createQueues(ctx.store, 'orders');
      const sent = message({
        body: AWKWARD_BODY,
        headers: { 'x-z': 'last', 'x-a': 'first', 'x-nul': 'a\u0000b' },
      });
      await ctx.store.messageInsertBatch({ queue: 'orders', messages: [sent], now: T0 });
      const exact = (value: unknown) => JSON.stringify(value);

      const stored = await ctx.store.messageGet({ id: sent.id });
      expect(exact(stored?.body)).toBe(exact(sent.body));
      expect(exact(stored?.headers)).toBe(exact(sent.headers));

      const claimed = await claimOne(ctx.store, 'orders', T0);
      expect(exact(claimed.body)).toBe(exact(sent.body));
      expect(exact(claimed.headers)).toBe(exact(sent.headers));

      const death = deathRecord('g');
      await ctx.store.messageFail({
        items: [{ ...claimed, attempt: attemptOf(claimed, T0, death.error), outcome: 'dead', death }],
        now: T0 + 1,
      });
      const dead = await ctx.store.deadLetterGet({ id: sent.id });
      expect(exact(dead?.body)).toBe(exact(sent.body));
      expect(exact(dead?.headers)).toBe(exact(sent.headers));
    });

    it('dead-letters a failure whose error text holds a NUL character, keeping it in the attempts', async () => {
      await createQueues(ctx.store, 'orders');
      const sent = message();
      await ctx.store.messageInsertBatch({ queue: 'orders', messages: [sent], now: T0 });
      const error = {
        name: 'Error',
        message: 'bad byte \u0000 in input',
        stack: 'Error: \u0000\n    at x (y.ts)',
      };
      const first = await claimOne(ctx.store, 'orders', T0);
      const retryAttempt = attemptOf(first, T0, error);
      await ctx.store.messageFail({
        items: [{ ...first, attempt: retryAttempt, outcome: 'retry', visibleAt: T0 + 1 }],
        now: T0,
      });
      const second = await claimOne(ctx.store, 'orders', T0 + 1);
      expect(second.attempts).toEqual([retryAttempt]);
      const deadAttempt = attemptOf(second, T0 + 1, error);
      const death = deathRecord('g-nul', { error });
      expect(
        await ctx.store.messageFail({
          items: [{ ...second, attempt: deadAttempt, outcome: 'dead', death }],
          now: T0 + 2,
        }),
      ).toEqual({ applied: 1, lost: [] });
      const dead = await ctx.store.deadLetterGet({ id: sent.id });
      expect(dead?.attempts).toEqual([retryAttempt, deadAttempt]);
      // A store whose text columns cannot hold NUL (PostgreSQL) may show it as U+FFFD in the
      // final error; the attempts above keep the exact text.
      expect(dead?.error.message.replaceAll('\uFFFD', '\u0000')).toBe(error.message);
      expect(dead?.error.stack?.replaceAll('\uFFFD', '\u0000')).toBe(error.stack);
    });
  });
}
