import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import {
  claim,
  claimOne,
  createQueues,
  message,
  nextId,
  OTHER_WORKER,
  type StoreContext,
  send,
  T0,
  WORKER,
} from './fixtures.ts';

/** Sending: inserts, idempotency keys, unknown queues. */
export function describeMessageInsert(ctx: StoreContext): void {
  describe('messageInsertBatch', () => {
    it('stores each message waiting, with its body, headers and times', async () => {
      await createQueues(ctx.store, 'orders');
      const first = message({ visibleAt: T0 + 5, headers: { trace: 'abc' }, idempotencyKey: 'k-1' });
      const second = message({ body: [1, 'two', null, { three: true }], visibleAt: T0 + 9_000 });
      const results = await ctx.store.messageInsertBatch({
        queue: 'orders',
        messages: [first, second],
        now: T0,
      });
      expect(results).toEqual([
        { id: first.id, deduplicated: false },
        { id: second.id, deduplicated: false },
      ]);
      expect(await ctx.store.messageGet({ id: first.id })).toEqual({
        id: first.id,
        queue: 'orders',
        state: 'waiting',
        body: first.body,
        headers: { trace: 'abc' },
        idempotencyKey: 'k-1',
        enqueuedAt: T0,
        visibleAt: T0 + 5,
        receives: 0,
        attempts: [],
        leaseExpiresAt: null,
        doneAt: null,
        replayOf: null,
        replayCount: 0,
      });
      expect((await ctx.store.messageGet({ id: second.id }))?.body).toEqual([
        1,
        'two',
        null,
        { three: true },
      ]);
    });

    it('keeps replay lineage given at insert', async () => {
      await createQueues(ctx.store, 'orders');
      const replay = message({ replayOf: 'dead-123', replayCount: 2 });
      await ctx.store.messageInsertBatch({ queue: 'orders', messages: [replay], now: T0 });
      expect(await ctx.store.messageGet({ id: replay.id })).toMatchObject({
        replayOf: 'dead-123',
        replayCount: 2,
      });
    });

    it('throws NotFoundError for an unknown queue and inserts nothing', async () => {
      const lost = message();
      const insert = ctx.store.messageInsertBatch({ queue: 'nope', messages: [lost], now: T0 });
      await expect(insert).rejects.toBeInstanceOf(NotFoundError);
      expect(await ctx.store.messageGet({ id: lost.id })).toBeUndefined();
    });

    it('returns undefined for an unknown message', async () => {
      expect(await ctx.store.messageGet({ id: 'nope' })).toBeUndefined();
    });

    it('deduplicates by idempotency key against waiting and leased messages of the same queue', async () => {
      await createQueues(ctx.store, 'orders', 'emails');
      const original = message({ idempotencyKey: 'order-42' });
      await ctx.store.messageInsertBatch({ queue: 'orders', messages: [original], now: T0 });

      const again = message({ idempotencyKey: 'order-42' });
      expect(await ctx.store.messageInsertBatch({ queue: 'orders', messages: [again], now: T0 + 1 })).toEqual(
        [{ id: original.id, deduplicated: true }],
      );
      expect(await ctx.store.messageGet({ id: again.id })).toBeUndefined();

      await claimOne(ctx.store, 'orders', T0 + 2);
      const whileLeased = message({ idempotencyKey: 'order-42' });
      expect(
        await ctx.store.messageInsertBatch({ queue: 'orders', messages: [whileLeased], now: T0 + 3 }),
      ).toEqual([{ id: original.id, deduplicated: true }]);

      const otherQueue = message({ idempotencyKey: 'order-42' });
      expect(
        await ctx.store.messageInsertBatch({ queue: 'emails', messages: [otherQueue], now: T0 + 3 }),
      ).toEqual([{ id: otherQueue.id, deduplicated: false }]);
    });

    it('deduplicates within one batch and never deduplicates messages without a key', async () => {
      await createQueues(ctx.store, 'orders');
      const a = message({ idempotencyKey: 'same' });
      const b = message({ idempotencyKey: 'same' });
      const c = message({ idempotencyKey: null });
      const d = message({ idempotencyKey: null });
      const results = await ctx.store.messageInsertBatch({
        queue: 'orders',
        messages: [a, b, c, d],
        now: T0,
      });
      expect(results).toEqual([
        { id: a.id, deduplicated: false },
        { id: a.id, deduplicated: true },
        { id: c.id, deduplicated: false },
        { id: d.id, deduplicated: false },
      ]);
    });

    it('accepts the key again once the first message is done', async () => {
      await createQueues(ctx.store, 'orders');
      const first = message({ idempotencyKey: 'once' });
      await ctx.store.messageInsertBatch({ queue: 'orders', messages: [first], now: T0 });
      const claimed = await claimOne(ctx.store, 'orders', T0 + 1);
      await ctx.store.messageComplete({ items: [claimed], now: T0 + 2 });

      const second = message({ idempotencyKey: 'once' });
      expect(
        await ctx.store.messageInsertBatch({ queue: 'orders', messages: [second], now: T0 + 3 }),
      ).toEqual([{ id: second.id, deduplicated: false }]);
      expect((await ctx.store.messageGet({ id: first.id }))?.state).toBe('done');
      expect((await ctx.store.messageGet({ id: second.id }))?.state).toBe('waiting');
    });
  });
}

/** Claiming: order, limit, visibility, leases. */
export function describeMessageClaim(ctx: StoreContext): void {
  describe('messageClaim', () => {
    it('leases the oldest visible messages first, up to the limit', async () => {
      await createQueues(ctx.store, 'orders');
      const late = message({ visibleAt: T0 + 30 });
      const early = message({ visibleAt: T0 + 10 });
      const middle = message({ visibleAt: T0 + 20 });
      await ctx.store.messageInsertBatch({ queue: 'orders', messages: [late, early, middle], now: T0 });

      const first = await claim(ctx.store, 'orders', T0 + 100, 2);
      expect(first.map((m) => m.id)).toEqual([early.id, middle.id]);
      const second = await claim(ctx.store, 'orders', T0 + 100, 2);
      expect(second.map((m) => m.id)).toEqual([late.id]);
      expect(await claim(ctx.store, 'orders', T0 + 100, 2)).toEqual([]);
    });

    it('hands out messages visible at the same time in the order they were sent', async () => {
      await createQueues(ctx.store, 'orders');
      const ids = await send(ctx.store, 'orders', 5, T0);
      const claimed = await claim(ctx.store, 'orders', T0, 5);
      expect(claimed.map((m) => m.id)).toEqual(ids);
    });

    it('keeps the send order among equal visible times whatever the idempotency keys', async () => {
      await createQueues(ctx.store, 'orders');
      const sent = ['zulu', 'alpha', null, 'mike', null, 'bravo'].map((key) =>
        message({ idempotencyKey: key }),
      );
      await ctx.store.messageInsertBatch({ queue: 'orders', messages: sent, now: T0 });
      const claimed = await claim(ctx.store, 'orders', T0, 10);
      expect(claimed.map((m) => m.id)).toEqual(sent.map((m) => m.id));
    });

    it('does not claim a delayed message until it is visible', async () => {
      await createQueues(ctx.store, 'orders');
      const delayed = message({ visibleAt: T0 + 1_000 });
      await ctx.store.messageInsertBatch({ queue: 'orders', messages: [delayed], now: T0 });
      expect(await claim(ctx.store, 'orders', T0)).toEqual([]);
      expect(await claim(ctx.store, 'orders', T0 + 999)).toEqual([]);
      const claimed = await claim(ctx.store, 'orders', T0 + 1_000);
      expect(claimed.map((m) => m.id)).toEqual([delayed.id]);
    });

    it('takes a lease: receives counted, a fresh token per message, expiry at now + leaseMs', async () => {
      await createQueues(ctx.store, 'orders');
      const sent = message({ headers: { h: '1' }, idempotencyKey: 'key' });
      await ctx.store.messageInsertBatch({ queue: 'orders', messages: [sent, message()], now: T0 });
      const claimed = await ctx.store.messageClaim({
        queue: 'orders',
        limit: 10,
        now: T0 + 50,
        leaseMs: 5_000,
        worker: WORKER,
      });
      expect(claimed).toHaveLength(2);
      expect(claimed[0]).toEqual({
        id: sent.id,
        queue: 'orders',
        body: sent.body,
        headers: { h: '1' },
        idempotencyKey: 'key',
        enqueuedAt: T0,
        receives: 1,
        leaseToken: expect.any(String),
        leaseExpiresAt: T0 + 5_050,
        attempts: [],
        replayOf: null,
        replayCount: 0,
      });
      const tokens = claimed.map((m) => m.leaseToken);
      expect(tokens[0]?.length).toBeGreaterThan(0);
      expect(new Set(tokens).size).toBe(2);
      expect(await ctx.store.messageGet({ id: sent.id })).toMatchObject({
        state: 'leased',
        receives: 1,
        leaseExpiresAt: T0 + 5_050,
      });
    });

    it('claims only from the named queue', async () => {
      await createQueues(ctx.store, 'orders', 'emails');
      await send(ctx.store, 'emails', 3);
      expect(await claim(ctx.store, 'orders', T0 + 1)).toEqual([]);
      expect(await claim(ctx.store, 'emails', T0 + 1)).toHaveLength(3);
    });

    it('claims nothing with a limit of 0', async () => {
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 2);
      expect(await claim(ctx.store, 'orders', T0, 0)).toEqual([]);
    });

    it('gives a new token on every receive', async () => {
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 1);
      const first = await claimOne(ctx.store, 'orders', T0);
      await ctx.store.messageRelease({ items: [{ ...first, uncountReceive: false }], now: T0 + 1 });
      const second = await claimOne(ctx.store, 'orders', T0 + 1);
      expect(second.id).toBe(first.id);
      expect(second.receives).toBe(2);
      expect(second.leaseToken).not.toBe(first.leaseToken);
    });
  });
}

/** Completing, releasing and extending leases, lost leases, the expiry sweep's query. */
export function describeLeases(ctx: StoreContext): void {
  describe('leases', () => {
    it('completes leased messages', async () => {
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 3);
      const claimed = await claim(ctx.store, 'orders', T0 + 1);
      const items = claimed.map((m) => ({ id: m.id, leaseToken: m.leaseToken }));
      expect(await ctx.store.messageComplete({ items, now: T0 + 2 })).toEqual({ completed: 3, lost: [] });
      for (const m of claimed) {
        expect(await ctx.store.messageGet({ id: m.id })).toMatchObject({
          state: 'done',
          doneAt: T0 + 2,
          receives: 1,
          leaseExpiresAt: null,
        });
      }
    });

    it('reports a second completion, an unknown id and a wrong token as lost', async () => {
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 2);
      const [a, b] = await claim(ctx.store, 'orders', T0 + 1);
      if (!a || !b) throw new Error('expected two messages');
      await ctx.store.messageComplete({ items: [a], now: T0 + 2 });
      const result = await ctx.store.messageComplete({
        items: [
          { id: a.id, leaseToken: a.leaseToken },
          { id: 'nope', leaseToken: 'x' },
          { id: b.id, leaseToken: 'wrong' },
          { id: b.id, leaseToken: b.leaseToken },
        ],
        now: T0 + 3,
      });
      expect(result).toEqual({ completed: 1, lost: [a.id, 'nope', b.id] });
      expect((await ctx.store.messageGet({ id: a.id }))?.doneAt).toBe(T0 + 2);
    });

    it('never applies a stale lease after the message was claimed again', async () => {
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 1);
      const stale = await claimOne(ctx.store, 'orders', T0);
      // The lease ran out and the sweep gave the message back; another worker claimed it.
      await ctx.store.messageRelease({ items: [{ ...stale, uncountReceive: false }], now: T0 + 30_000 });
      const fresh = await ctx.store.messageClaim({
        queue: 'orders',
        limit: 1,
        now: T0 + 30_000,
        leaseMs: 30_000,
        worker: OTHER_WORKER,
      });
      expect(fresh.map((m) => m.id)).toEqual([stale.id]);
      const staleRef = { id: stale.id, leaseToken: stale.leaseToken };

      expect(await ctx.store.messageComplete({ items: [staleRef], now: T0 + 30_001 })).toEqual({
        completed: 0,
        lost: [stale.id],
      });
      const attempt = {
        ...WORKER,
        number: 1,
        startedAt: T0,
        durationMs: 1,
        error: { name: 'E', message: 'm' },
      };
      for (const outcome of [
        { outcome: 'retry', visibleAt: T0 } as const,
        { outcome: 'drop', tier: 'permanent' } as const,
      ]) {
        expect(
          await ctx.store.messageFail({ items: [{ ...staleRef, attempt, ...outcome }], now: T0 + 30_001 }),
        ).toEqual({ applied: 0, lost: [stale.id] });
      }
      expect(await ctx.store.messageExtendLease({ ...staleRef, leaseExpiresAt: T0 + 99_000 })).toBe(false);
      expect(
        await ctx.store.messageRelease({ items: [{ ...staleRef, uncountReceive: true }], now: T0 + 30_001 }),
      ).toEqual({ released: 0 });

      expect(await ctx.store.messageGet({ id: stale.id })).toMatchObject({
        state: 'leased',
        receives: 2,
        attempts: [],
        leaseExpiresAt: T0 + 60_000,
      });
      expect(await ctx.store.messageComplete({ items: fresh, now: T0 + 30_002 })).toEqual({
        completed: 1,
        lost: [],
      });
    });

    it('releases a lease: visible now, the receive still counted', async () => {
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 1);
      const claimed = await claimOne(ctx.store, 'orders', T0);
      expect(
        await ctx.store.messageRelease({ items: [{ ...claimed, uncountReceive: false }], now: T0 + 10 }),
      ).toEqual({ released: 1 });
      expect(await ctx.store.messageGet({ id: claimed.id })).toMatchObject({
        state: 'waiting',
        visibleAt: T0 + 10,
        receives: 1,
        leaseExpiresAt: null,
      });
      expect((await claimOne(ctx.store, 'orders', T0 + 10)).receives).toBe(2);
    });

    it('releases a lease with uncountReceive: the receive is undone', async () => {
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 1);
      const claimed = await claimOne(ctx.store, 'orders', T0);
      await ctx.store.messageRelease({ items: [{ ...claimed, uncountReceive: true }], now: T0 + 10 });
      expect(await ctx.store.messageGet({ id: claimed.id })).toMatchObject({ state: 'waiting', receives: 0 });
      expect((await claimOne(ctx.store, 'orders', T0 + 10)).receives).toBe(1);
    });

    it('extends a lease', async () => {
      await createQueues(ctx.store, 'orders');
      await send(ctx.store, 'orders', 1);
      const claimed = await claimOne(ctx.store, 'orders', T0);
      const ref = { id: claimed.id, leaseToken: claimed.leaseToken };
      expect(await ctx.store.messageExtendLease({ ...ref, leaseExpiresAt: T0 + 90_000 })).toBe(true);
      expect((await ctx.store.messageGet({ id: claimed.id }))?.leaseExpiresAt).toBe(T0 + 90_000);
      expect(await ctx.store.messageListExpiredLeases({ now: T0 + 30_000, limit: 10 })).toEqual([]);
      expect(await ctx.store.messageListExpiredLeases({ now: T0 + 90_000, limit: 10 })).toHaveLength(1);
      await ctx.store.messageComplete({ items: [ref], now: T0 + 1 });
      expect(await ctx.store.messageExtendLease({ ...ref, leaseExpiresAt: T0 + 99_000 })).toBe(false);
    });

    it('lists expired leases oldest first, up to the limit, with who held them', async () => {
      await createQueues(ctx.store, 'orders', 'emails');
      await send(ctx.store, 'orders', 1);
      await send(ctx.store, 'emails', 2);
      const lease = (queue: string, now: number, leaseMs: number) =>
        ctx.store.messageClaim({ queue, limit: 1, now, leaseMs, worker: WORKER });
      const [a] = await lease('orders', T0, 10_000); // expires T0+10s
      const [b] = await lease('emails', T0 + 1_000, 3_000); // expires T0+4s
      const [c] = await lease('emails', T0 + 2_000, 60_000); // expires T0+62s
      if (!a || !b || !c) throw new Error('expected three claims');

      expect(await ctx.store.messageListExpiredLeases({ now: T0 + 3_999, limit: 10 })).toEqual([]);
      expect(await ctx.store.messageListExpiredLeases({ now: T0 + 10_000, limit: 10 })).toEqual([
        {
          id: b.id,
          leaseToken: b.leaseToken,
          queue: 'emails',
          receives: 1,
          leasedAt: T0 + 1_000,
          leaseExpiresAt: T0 + 4_000,
          worker: WORKER,
        },
        {
          id: a.id,
          leaseToken: a.leaseToken,
          queue: 'orders',
          receives: 1,
          leasedAt: T0,
          leaseExpiresAt: T0 + 10_000,
          worker: WORKER,
        },
      ]);
      const limited = await ctx.store.messageListExpiredLeases({ now: T0 + 100_000, limit: 2 });
      expect(limited.map((l) => l.id)).toEqual([b.id, a.id]);

      await ctx.store.messageComplete({ items: [b], now: T0 + 100_000 });
      const left = await ctx.store.messageListExpiredLeases({ now: T0 + 100_000, limit: 10 });
      expect(left.map((l) => l.id)).toEqual([a.id, c.id]);
    });

    it('tells whether anything is pending in a queue', async () => {
      await createQueues(ctx.store, 'orders', 'emails');
      expect(await ctx.store.messageHasPending({ queue: 'orders' })).toBe(false);
      await ctx.store.messageInsertBatch({
        queue: 'orders',
        messages: [message({ visibleAt: T0 + 60_000 })],
        now: T0,
      });
      expect(await ctx.store.messageHasPending({ queue: 'orders' })).toBe(true); // delayed
      expect(await ctx.store.messageHasPending({ queue: 'emails' })).toBe(false);
      const claimed = await claimOne(ctx.store, 'orders', T0 + 60_000);
      expect(await ctx.store.messageHasPending({ queue: 'orders' })).toBe(true); // leased
      await ctx.store.messageComplete({ items: [claimed], now: T0 + 60_001 });
      expect(await ctx.store.messageHasPending({ queue: 'orders' })).toBe(false); // done
    });

    it('refuses an id that is already taken with ConflictError, inserting nothing of the batch', async () => {
      await createQueues(ctx.store, 'orders');
      const id = nextId();
      await ctx.store.messageInsertBatch({ queue: 'orders', messages: [message({ id })], now: T0 });
      const fresh = message();
      const duplicate = ctx.store.messageInsertBatch({
        queue: 'orders',
        messages: [fresh, message({ id })],
        now: T0,
      });
      await expect(duplicate).rejects.toBeInstanceOf(ConflictError);
      expect(await ctx.store.messageGet({ id: fresh.id })).toBeUndefined();
      expect(await claim(ctx.store, 'orders', T0)).toHaveLength(1);
    });

    it('inserts a large batch in order, and names a taken id anywhere in it, inserting nothing', async () => {
      await createQueues(ctx.store, 'orders');
      const taken = nextId();
      await ctx.store.messageInsertBatch({ queue: 'orders', messages: [message({ id: taken })], now: T0 });
      // Long enough for stores that insert many rows per statement; keyed ones mixed in.
      const batch = Array.from({ length: 230 }, (_, k) =>
        message({ body: { k }, ...(k % 97 === 3 ? { idempotencyKey: `key-${k}` } : {}) }),
      );
      const failing = [...batch.slice(0, 120), message({ id: taken }), ...batch.slice(120)];
      const error = await ctx.store
        .messageInsertBatch({ queue: 'orders', messages: failing, now: T0 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as Error).message).toContain(taken);
      expect(await ctx.store.messageGet({ id: batch[0]?.id ?? '' })).toBeUndefined();

      const results = await ctx.store.messageInsertBatch({ queue: 'orders', messages: batch, now: T0 + 1 });
      expect(results).toEqual(batch.map((m) => ({ id: m.id, deduplicated: false })));
      const again = await ctx.store.messageInsertBatch({
        queue: 'orders',
        messages: [message({ idempotencyKey: 'key-3' })],
        now: T0 + 2,
      });
      expect(again).toEqual([{ id: batch[3]?.id, deduplicated: true }]);
      const claimed = await claim(ctx.store, 'orders', T0 + 5, 300);
      expect(claimed.map((m) => m.id)).toEqual([taken, ...batch.map((m) => m.id)]);
      expect(claimed.slice(1).map((m) => m.body)).toEqual(batch.map((_, k) => ({ k })));
    });
  });
}
