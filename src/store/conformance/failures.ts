import { describe, expect, it } from 'vitest';
import type { FailureInfo } from '../../core/failure.ts';
import type { Attempt } from '../../core/message.ts';
import {
  attemptOf,
  claim,
  claimOne,
  createQueues,
  deathRecord,
  expectStats,
  killOne,
  message,
  type StoreContext,
  send,
  T0,
  withoutEdits,
} from './fixtures.ts';

const TIMEOUT: FailureInfo = { name: 'TimeoutError', message: 'timed out after 30000ms' };
const RESET: FailureInfo = { name: 'Error', message: 'read ECONNRESET', code: 'ECONNRESET' };
/** The final error of the deaths below: every field of a FailureInfo set. */
const UPSTREAM_503: FailureInfo = {
  name: 'HttpError',
  message: 'upstream said 503',
  stack: 'HttpError: upstream said 503\n    at call (src/client.ts:1:1)',
  code: 'E_UPSTREAM',
  status: 503,
};

/** Failure outcomes: retry later, dead-letter with full context, drop. */
export function describeFailures(ctx: StoreContext): void {
  describe('messageFail', () => {
    it('retries: the attempt is kept and the message is visible again at visibleAt', async () => {
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 1);
      const first = await claimOne(ctx.store, 'orders', T0);
      const attempt1 = attemptOf(first, T0, RESET);
      expect(
        await ctx.store.messageFail({
          items: [
            {
              id: first.id,
              leaseToken: first.leaseToken,
              attempt: attempt1,
              outcome: 'retry',
              visibleAt: T0 + 5_000,
            },
          ],
          now: T0 + 100,
        }),
      ).toEqual({ applied: 1, lost: [] });
      expect(await ctx.store.messageGet({ id: first.id })).toMatchObject({
        state: 'waiting',
        visibleAt: T0 + 5_000,
        receives: 1,
        attempts: [attempt1],
        leaseExpiresAt: null,
      });
      expect(await claim(ctx.store, 'orders', T0 + 4_999)).toEqual([]);

      const second = await claimOne(ctx.store, 'orders', T0 + 5_000);
      expect(second).toMatchObject({ id: first.id, receives: 2, attempts: [attempt1] });
      const attempt2 = attemptOf(second, T0 + 5_000, TIMEOUT);
      await ctx.store.messageFail({
        items: [{ ...second, attempt: attempt2, outcome: 'retry', visibleAt: T0 + 6_000 }],
        now: T0 + 5_100,
      });
      expect((await ctx.store.messageGet({ id: first.id }))?.attempts).toEqual([attempt1, attempt2]);
    });

    it("gives a claimed message the attempts before its receive, even when read after that receive's failure", async () => {
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 1);
      const first = await claimOne(ctx.store, 'orders', T0);
      const attempt1 = attemptOf(first, T0, RESET);
      await ctx.store.messageFail({
        items: [
          { id: first.id, leaseToken: first.leaseToken, attempt: attempt1, outcome: 'retry', visibleAt: T0 },
        ],
        now: T0,
      });
      const second = await claimOne(ctx.store, 'orders', T0 + 1);
      const attempt2 = attemptOf(second, T0 + 1, TIMEOUT);
      await ctx.store.messageFail({
        items: [
          {
            id: second.id,
            leaseToken: second.leaseToken,
            attempt: attempt2,
            outcome: 'retry',
            visibleAt: T0 + 1,
          },
        ],
        now: T0 + 2,
      });
      // First looked at now, with the failure of this receive recorded: still the ones before it.
      expect(second.attempts).toEqual([attempt1]);
      expect(first.attempts).toEqual([]);
      const third = await claimOne(ctx.store, 'orders', T0 + 3);
      expect(third.attempts).toEqual([attempt1, attempt2]);
      // An ordinary property once read: it spreads, serialises and can be replaced.
      expect({ ...third }.attempts).toEqual([attempt1, attempt2]);
      expect(JSON.parse(JSON.stringify(third)).attempts).toEqual([attempt1, attempt2]);
      third.attempts = [];
      expect(third.attempts).toEqual([]);
    });

    it('keeps each attempt with its message when a batch retries many messages at once', async () => {
      await createQueues(ctx.store, 'orders');
      const ids = await send(ctx.store, 'orders', 120);
      const recorded = new Map<string, Attempt[]>(ids.map((id) => [id, []]));
      // Two rounds of 120 retries in one call each: several multi-row chunks and a rest.
      for (const round of [1, 2]) {
        const claimed = await claim(ctx.store, 'orders', T0 + round, 200);
        expect(claimed).toHaveLength(120);
        for (const message of claimed) expect(message.attempts).toEqual(recorded.get(message.id));
        const items = claimed.map((message) => {
          const attempt = attemptOf(message, T0 + round, {
            name: 'Error',
            message: `round ${round} of ${message.id}`,
          });
          recorded.get(message.id)?.push(attempt);
          return {
            id: message.id,
            leaseToken: message.leaseToken,
            attempt,
            outcome: 'retry' as const,
            visibleAt: T0,
          };
        });
        expect(await ctx.store.messageFail({ items, now: T0 + round })).toEqual({ applied: 120, lost: [] });
      }
      for (const id of [ids[0], ids[77], ids[119]] as string[]) {
        expect((await ctx.store.messageGet({ id }))?.attempts).toEqual(recorded.get(id));
      }
    });

    it('dead-letters with the full context and leaves the queue', async () => {
      await createQueues(ctx.store, 'orders');
      const sent = message({
        headers: { tenant: 't-1' },
        idempotencyKey: 'order-7',
        replayOf: 'dead-old',
        replayCount: 1,
      });
      await ctx.store.messageInsertBatch({ queue: 'orders', messages: [sent], now: T0 });
      const first = await claimOne(ctx.store, 'orders', T0 + 10);
      const attempt1 = attemptOf(first, T0 + 10, RESET);
      await ctx.store.messageFail({
        items: [{ ...first, attempt: attempt1, outcome: 'retry', visibleAt: T0 + 20 }],
        now: T0 + 15,
      });
      const second = await claimOne(ctx.store, 'orders', T0 + 20);
      const attempt2 = attemptOf(second, T0 + 20, UPSTREAM_503);
      const death = { ...deathRecord('group-http', { tier: 'transient', error: UPSTREAM_503 }) };
      expect(
        await ctx.store.messageFail({
          items: [{ ...second, attempt: attempt2, outcome: 'dead', death }],
          now: T0 + 30,
        }),
      ).toEqual({ applied: 1, lost: [] });

      expect(await ctx.store.messageGet({ id: sent.id })).toBeUndefined();
      expect(withoutEdits(await ctx.store.deadLetterGet({ id: sent.id }))).toEqual({
        id: sent.id,
        queue: 'orders',
        body: sent.body,
        headers: { tenant: 't-1' },
        idempotencyKey: 'order-7',
        enqueuedAt: T0,
        attempts: [attempt1, attempt2],
        error: UPSTREAM_503,
        tier: 'transient',
        fingerprint: 'fp-group-http',
        groupId: 'group-http',
        diedAt: T0 + 30,
        replayCount: 1,
        previousId: 'dead-old',
      });
      expect(await ctx.store.groupGet({ id: 'group-http' })).toEqual({
        id: 'group-http',
        fingerprint: 'fp-group-http',
        errorName: 'HttpError',
        normalizedMessage: 'normalised group-http',
        tier: 'transient',
        status: 'new',
        firstSeen: T0 + 30,
        lastSeen: T0 + 30,
        count: 1,
        deadCount: 1,
        queues: ['orders'],
        sampleId: sent.id,
        statusChangedAt: T0 + 30,
      });
      // The idempotency key is free again: the message is no longer live.
      const again = message({ idempotencyKey: 'order-7' });
      expect(
        await ctx.store.messageInsertBatch({ queue: 'orders', messages: [again], now: T0 + 40 }),
      ).toEqual([{ id: again.id, deduplicated: false }]);
    });

    it('keeps only the error fields that were given', async () => {
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 1);
      const claimed = await claimOne(ctx.store, 'orders', T0);
      const error = { name: 'Error', message: 'plain' };
      const death = deathRecord('group-plain', { error });
      await ctx.store.messageFail({
        items: [{ ...claimed, attempt: attemptOf(claimed, T0, error), outcome: 'dead', death }],
        now: T0 + 1,
      });
      expect((await ctx.store.deadLetterGet({ id: claimed.id }))?.error).toEqual({
        name: 'Error',
        message: 'plain',
      });
    });

    it('counts a second death in the same group, from any queue', async () => {
      await createQueues(ctx.store, 'orders', 'emails');
      const firstId = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 100, groupId: 'g' });
      await killOne(ctx.store, { queue: 'emails', diedAt: T0 + 200, groupId: 'g' });
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 300, groupId: 'other' });
      expect(await ctx.store.groupGet({ id: 'g' })).toMatchObject({
        count: 2,
        deadCount: 2,
        firstSeen: T0 + 100,
        lastSeen: T0 + 200,
        queues: ['emails', 'orders'],
        sampleId: firstId,
        status: 'new',
      });
      expect(await ctx.store.groupGet({ id: 'other' })).toMatchObject({ count: 1, queues: ['orders'] });
    });

    it('reopens a resolved group as regressed on a new death; other statuses stay', async () => {
      await createQueues(ctx.store, 'orders');
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 100, groupId: 'fixed' });
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 100, groupId: 'known' });
      await ctx.store.groupStatusSet({ id: 'fixed', status: 'resolved', now: T0 + 200 });
      await ctx.store.groupStatusSet({ id: 'known', status: 'acknowledged', now: T0 + 200 });

      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 300, groupId: 'fixed' });
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 300, groupId: 'known' });
      expect(await ctx.store.groupGet({ id: 'fixed' })).toMatchObject({
        status: 'regressed',
        statusChangedAt: T0 + 300,
        count: 2,
        lastSeen: T0 + 300,
      });
      expect(await ctx.store.groupGet({ id: 'known' })).toMatchObject({
        status: 'acknowledged',
        statusChangedAt: T0 + 200,
        count: 2,
      });
    });

    it('drops: the message is gone, counted as dropped, and leaves no dead letter or group', async () => {
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 1);
      const claimed = await claimOne(ctx.store, 'orders', T0);
      expect(
        await ctx.store.messageFail({
          items: [{ ...claimed, attempt: attemptOf(claimed, T0, RESET), outcome: 'drop', tier: 'transient' }],
          now: T0 + 1,
        }),
      ).toEqual({ applied: 1, lost: [] });
      expect(await ctx.store.messageGet({ id: claimed.id })).toBeUndefined();
      expect(await ctx.store.deadLetterGet({ id: claimed.id })).toBeUndefined();
      expect(await ctx.store.groupList({ sort: 'count', limit: 10 })).toEqual([]);
      await expectStats(ctx.store, 'orders', T0 + 1, {
        sent: 1,
        waiting: 0,
        delayed: 0,
        leased: 0,
        done: 0,
        dead: 0,
        dropped: 1,
        oldestDeadAt: null,
      });
    });

    it('applies a batch of mixed outcomes in one call and reports the lost ones', async () => {
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 3);
      const [a, b, c] = await claim(ctx.store, 'orders', T0);
      if (!a || !b || !c) throw new Error('expected three claims');
      const result = await ctx.store.messageFail({
        items: [
          { ...a, attempt: attemptOf(a, T0, RESET), outcome: 'retry', visibleAt: T0 + 10 },
          { ...b, attempt: attemptOf(b, T0, RESET), outcome: 'dead', death: deathRecord('g') },
          { ...c, leaseToken: 'stale', attempt: attemptOf(c, T0, RESET), outcome: 'drop', tier: 'transient' },
        ],
        now: T0 + 1,
      });
      expect(result).toEqual({ applied: 2, lost: [c.id] });
      expect((await ctx.store.messageGet({ id: c.id }))?.state).toBe('leased');
    });

    it('applies every outcome of a mixed batch as fully as a batch of one kind', async () => {
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 5);
      const claimed = await claim(ctx.store, 'orders', T0, 5);
      const [retried, dropped, dead1, dead2, kept] = claimed;
      if (!retried || !dropped || !dead1 || !dead2 || !kept) throw new Error('expected five claims');
      const retryAttempt = attemptOf(retried, T0, RESET);
      const deadAttempt = attemptOf(dead2, T0, UPSTREAM_503);
      // dead2 sorts after dead1 by id but comes first in the call: the first in the call is the sample.
      const result = await ctx.store.messageFail({
        items: [
          {
            ...dead2,
            attempt: deadAttempt,
            outcome: 'dead',
            death: deathRecord('g-mixed', { error: UPSTREAM_503 }),
          },
          { ...dropped, attempt: attemptOf(dropped, T0, RESET), outcome: 'drop', tier: 'permanent' },
          { ...retried, attempt: retryAttempt, outcome: 'retry', visibleAt: T0 + 50 },
          {
            ...dead1,
            attempt: attemptOf(dead1, T0, TIMEOUT),
            outcome: 'dead',
            death: deathRecord('g-mixed'),
          },
          {
            ...kept,
            leaseToken: 'stale',
            attempt: attemptOf(kept, T0, RESET),
            outcome: 'retry',
            visibleAt: T0,
          },
        ],
        now: T0 + 7,
      });
      expect(result).toEqual({ applied: 4, lost: [kept.id] });
      expect(await ctx.store.messageGet({ id: retried.id })).toMatchObject({
        state: 'waiting',
        visibleAt: T0 + 50,
        attempts: [retryAttempt],
        leaseExpiresAt: null,
      });
      expect(await ctx.store.messageGet({ id: dropped.id })).toBeUndefined();
      expect(await ctx.store.deadLetterGet({ id: dropped.id })).toBeUndefined();
      expect(await ctx.store.messageGet({ id: kept.id })).toMatchObject({ state: 'leased', attempts: [] });
      expect(await ctx.store.deadLetterGet({ id: dead2.id })).toMatchObject({
        attempts: [deadAttempt],
        error: UPSTREAM_503,
        groupId: 'g-mixed',
        diedAt: T0 + 7,
      });
      expect((await ctx.store.deadLetterGet({ id: dead1.id }))?.groupId).toBe('g-mixed');
      expect(await ctx.store.groupGet({ id: 'g-mixed' })).toMatchObject({
        count: 2,
        deadCount: 2,
        sampleId: dead2.id,
        queues: ['orders'],
      });
      await expectStats(ctx.store, 'orders', T0 + 7, {
        sent: 5,
        waiting: 0,
        delayed: 1,
        leased: 1,
        done: 0,
        dead: 2,
        dropped: 1,
      });
    });

    it('never writes a dead letter for a lost lease', async () => {
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 1);
      const claimed = await claimOne(ctx.store, 'orders', T0);
      const result = await ctx.store.messageFail({
        items: [
          {
            id: claimed.id,
            leaseToken: 'not-the-token',
            attempt: attemptOf(claimed, T0, RESET),
            outcome: 'dead',
            death: deathRecord('g'),
          },
        ],
        now: T0 + 1,
      });
      expect(result).toEqual({ applied: 0, lost: [claimed.id] });
      expect(await ctx.store.deadLetterGet({ id: claimed.id })).toBeUndefined();
      expect(await ctx.store.groupGet({ id: 'g' })).toBeUndefined();
      expect(await ctx.store.messageGet({ id: claimed.id })).toMatchObject({ state: 'leased', attempts: [] });
    });
  });
}

/** Queue stats add up at every step of a message's life. */
export function describeStats(ctx: StoreContext): void {
  describe('queueStats', () => {
    it('adds up to the messages sent at every step', async () => {
      await createQueues(ctx.store, 'orders', 'emails');
      const zero = { waiting: 0, delayed: 0, leased: 0, done: 0, dead: 0, dropped: 0 };
      await send(ctx.store, 'orders', 4, T0);
      await ctx.store.messageInsertBatch({
        queue: 'orders',
        messages: [message({ visibleAt: T0 + 10_000 }), message({ visibleAt: T0 + 20_000 })],
        now: T0,
      });
      await send(ctx.store, 'emails', 1, T0);
      await expectStats(ctx.store, 'orders', T0, {
        ...zero,
        sent: 6,
        waiting: 4,
        delayed: 2,
        oldestDeadAt: null,
      });
      await expectStats(ctx.store, 'orders', T0 + 10_000, { ...zero, sent: 6, waiting: 5, delayed: 1 });

      const [a, b, c] = await claim(ctx.store, 'orders', T0 + 1, 3);
      if (!a || !b || !c) throw new Error('expected three claims');
      await expectStats(ctx.store, 'orders', T0 + 1, { ...zero, sent: 6, waiting: 1, delayed: 2, leased: 3 });

      await ctx.store.messageComplete({ items: [a], now: T0 + 2 });
      await expectStats(ctx.store, 'orders', T0 + 2, {
        ...zero,
        sent: 6,
        waiting: 1,
        delayed: 2,
        leased: 2,
        done: 1,
      });

      await ctx.store.messageFail({
        items: [{ ...b, attempt: attemptOf(b, T0 + 1, RESET), outcome: 'retry', visibleAt: T0 + 5_000 }],
        now: T0 + 3,
      });
      await expectStats(ctx.store, 'orders', T0 + 3, {
        ...zero,
        sent: 6,
        waiting: 1,
        delayed: 3,
        leased: 1,
        done: 1,
      });

      await ctx.store.messageFail({
        items: [{ ...c, attempt: attemptOf(c, T0 + 1, RESET), outcome: 'dead', death: deathRecord('g') }],
        now: T0 + 4,
      });
      await expectStats(ctx.store, 'orders', T0 + 4, {
        ...zero,
        sent: 6,
        waiting: 1,
        delayed: 3,
        done: 1,
        dead: 1,
        oldestDeadAt: T0 + 4,
      });

      const [d] = await claim(ctx.store, 'orders', T0 + 5, 1);
      if (!d) throw new Error('expected a claim');
      await ctx.store.messageFail({
        items: [{ ...d, attempt: attemptOf(d, T0 + 5, RESET), outcome: 'drop', tier: 'transient' }],
        now: T0 + 6,
      });
      await expectStats(ctx.store, 'orders', T0 + 6, {
        ...zero,
        sent: 6,
        delayed: 3,
        done: 1,
        dead: 1,
        dropped: 1,
        oldestDeadAt: T0 + 4,
      });

      const [e] = await claim(ctx.store, 'orders', T0 + 5_000, 1);
      if (!e) throw new Error('expected a claim');
      await ctx.store.messageRelease({ items: [{ ...e, uncountReceive: true }], now: T0 + 5_001 });
      expect(await ctx.store.messageFail({ items: [], now: T0 + 5_001 })).toEqual({ applied: 0, lost: [] });
      await expectStats(ctx.store, 'orders', T0 + 5_001, {
        ...zero,
        sent: 6,
        waiting: 1,
        delayed: 2,
        done: 1,
        dead: 1,
        dropped: 1,
      });
      await killOne(ctx.store, { queue: 'emails', diedAt: T0 + 1, groupId: 'g' });
      await expectStats(ctx.store, 'emails', T0 + 6_000, {
        ...zero,
        sent: 2,
        waiting: 1,
        dead: 1,
        oldestDeadAt: T0 + 1,
      });
      await expectStats(ctx.store, 'orders', T0 + 6_000, {
        ...zero,
        sent: 6,
        waiting: 1,
        delayed: 2,
        done: 1,
        dead: 1,
        dropped: 1,
        oldestDeadAt: T0 + 4,
      });
      expect((await ctx.store.queueStats({ now: T0 })).map((s) => s.queue)).toEqual(['emails', 'orders']);
    });
  });
}
