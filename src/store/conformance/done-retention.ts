import { describe, expect, it } from 'vitest';
import type { ClaimedMessage } from '../../core/message.ts';
import {
  attemptOf,
  claim,
  claimOne,
  createQueues,
  expectStats,
  queueRecord,
  type StoreContext,
  send,
  T0,
  WORKER,
} from './fixtures.ts';

/** Done retention: done messages are deleted in batches past a cutoff; their count stays. */
export function describeDoneRetention(ctx: StoreContext): void {
  describe('done retention (messagePruneDone)', () => {
    /** Sends `count` messages and completes them at `doneAt` (the queue holds nothing else visible). */
    async function completeAt(queue: string, count: number, doneAt: number): Promise<string[]> {
      await send(ctx.store, queue, count, doneAt - 10);
      const claimed = await claim(ctx.store, queue, doneAt - 5, count);
      expect(claimed).toHaveLength(count);
      await ctx.store.messageComplete({ items: claimed, now: doneAt });
      return claimed.map((c) => c.id);
    }

    /** Claims the next message of `queue` at `at` and fails it once (retry at `at + 1`). */
    async function failOnceAt(queue: string, at: number): Promise<ClaimedMessage> {
      const claimed = await claimOne(ctx.store, queue, at);
      await ctx.store.messageFail({
        items: [
          {
            id: claimed.id,
            leaseToken: claimed.leaseToken,
            attempt: attemptOf(claimed, at, { name: 'Error', message: 'ECONNRESET' }),
            outcome: 'retry',
            visibleAt: at + 1,
          },
        ],
        now: at + 1,
      });
      return claimed;
    }

    it('stores the done retention with the queue (default 1 hour) and takes 0', async () => {
      const { doneRetentionMs: _omitted, ...withoutSetting } = queueRecord('legacy');
      await ctx.store.queueCreate({ queue: withoutSetting });
      expect((await ctx.store.queueGet({ name: 'legacy' }))?.doneRetentionMs).toBe(3_600_000);
      await ctx.store.queueCreate({ queue: queueRecord('eager', { doneRetentionMs: 0 }) });
      expect((await ctx.store.queueGet({ name: 'eager' }))?.doneRetentionMs).toBe(0);
      const updated = await ctx.store.queueUpdate({
        name: 'eager',
        patch: { doneRetentionMs: 60_000 },
        now: T0 + 1,
      });
      expect(updated.doneRetentionMs).toBe(60_000);
      // A patch without it keeps it.
      await ctx.store.queueUpdate({ name: 'eager', patch: { maxReceives: 2 }, now: T0 + 2 });
      expect((await ctx.store.queueList()).map((q) => [q.name, q.doneRetentionMs])).toEqual([
        ['eager', 60_000],
        ['legacy', 3_600_000],
      ]);
    });

    it('audits a done retention change like the other settings', async () => {
      await ctx.store.queueCreate({ queue: queueRecord('orders'), actor: 'ada' });
      await ctx.store.queueUpdate({
        name: 'orders',
        patch: { doneRetentionMs: 0 },
        now: T0 + 5,
        actor: 'ada',
      });
      const entries = await ctx.store.auditList({ limit: 10 });
      expect(entries.find((e) => e.action === 'queue.create')?.details).toMatchObject({
        settings: { doneRetentionMs: 3_600_000 },
      });
      expect(entries.find((e) => e.action === 'queue.update')?.details).toEqual({
        from: { doneRetentionMs: 3_600_000 },
        to: { doneRetentionMs: 0 },
      });
    });

    it('deletes only done messages done at or before the cutoff, oldest first; the counts still add up', async () => {
      await createQueues(ctx.store, 'orders');
      const old = await completeAt('orders', 3, T0 + 100);
      const recent = await completeAt('orders', 2, T0 + 200);
      // Live messages: two waiting (one visible, one delayed) and one leased.
      await send(ctx.store, 'orders', 2, T0 + 300);
      const leased = await claimOne(ctx.store, 'orders', T0 + 301);
      await send(ctx.store, 'orders', 1, T0 + 302);
      await ctx.store.messageInsertBatch({
        queue: 'orders',
        messages: [{ id: 'later-1', body: 1, headers: {}, idempotencyKey: null, visibleAt: T0 + 10_000 }],
        now: T0 + 303,
      });
      const counts = { waiting: 2, delayed: 1, leased: 1, done: 5, dead: 0, dropped: 0, sent: 9 };
      await expectStats(ctx.store, 'orders', T0 + 400, counts);

      expect(await ctx.store.messagePruneDone({ queue: 'orders', cutoff: T0 + 99, limit: 100 })).toEqual({
        deleted: 0,
      });
      expect(await ctx.store.messagePruneDone({ queue: 'orders', cutoff: T0 + 100, limit: 100 })).toEqual({
        deleted: 3,
      });
      for (const id of old) expect(await ctx.store.messageGet({ id })).toBeUndefined();
      for (const id of recent) expect((await ctx.store.messageGet({ id }))?.state).toBe('done');
      expect((await ctx.store.messageGet({ id: leased.id }))?.state).toBe('leased');
      expect((await ctx.store.messageGet({ id: 'later-1' }))?.state).toBe('waiting');
      // The rows went; the count of done messages did not.
      await expectStats(ctx.store, 'orders', T0 + 400, counts);

      // A cutoff past everything still leaves the live messages alone.
      expect(
        await ctx.store.messagePruneDone({ queue: 'orders', cutoff: T0 + 1_000_000, limit: 100 }),
      ).toEqual({
        deleted: 2,
      });
      await expectStats(ctx.store, 'orders', T0 + 400, counts);
      expect(await ctx.store.messageHasPending({ queue: 'orders' })).toBe(true);
      const stillLeased = await ctx.store.messageComplete({ items: [leased], now: T0 + 500 });
      expect(stillLeased).toEqual({ completed: 1, lost: [] });
      await expectStats(ctx.store, 'orders', T0 + 500, { ...counts, leased: 0, done: 6 });
    });

    it('deletes at most `limit` rows per call, the oldest first', async () => {
      await createQueues(ctx.store, 'orders');
      const first = await completeAt('orders', 2, T0 + 100);
      const second = await completeAt('orders', 2, T0 + 200);
      const third = await completeAt('orders', 2, T0 + 300);
      const cutoff = T0 + 1_000;
      expect(await ctx.store.messagePruneDone({ queue: 'orders', cutoff, limit: 3 })).toEqual({ deleted: 3 });
      for (const id of first) expect(await ctx.store.messageGet({ id })).toBeUndefined();
      const left = await Promise.all([...second, ...third].map((id) => ctx.store.messageGet({ id })));
      expect(left.filter((m) => m !== undefined)).toHaveLength(3);
      // The oldest done message left is one of the second batch.
      expect(left.slice(2).every((m) => m?.state === 'done')).toBe(true);
      expect(await ctx.store.messagePruneDone({ queue: 'orders', cutoff, limit: 0 })).toEqual({ deleted: 0 });
      expect(await ctx.store.messagePruneDone({ queue: 'orders', cutoff, limit: 3 })).toEqual({ deleted: 3 });
      expect(await ctx.store.messagePruneDone({ queue: 'orders', cutoff, limit: 3 })).toEqual({ deleted: 0 });
      await expectStats(ctx.store, 'orders', T0 + 1_000, {
        waiting: 0,
        delayed: 0,
        leased: 0,
        done: 6,
        dead: 0,
        dropped: 0,
        sent: 6,
      });
    });

    it('touches only the given queue, and deletes a done message that had failed attempts', async () => {
      await createQueues(ctx.store, 'orders', 'emails');
      await completeAt('emails', 2, T0 + 100);
      await send(ctx.store, 'orders', 1, T0);
      const first = await failOnceAt('orders', T0 + 1);
      const again = await claimOne(ctx.store, 'orders', T0 + 3);
      await ctx.store.messageComplete({ items: [again], now: T0 + 4 });
      expect((await ctx.store.messageGet({ id: first.id }))?.attempts).toHaveLength(1);

      expect(await ctx.store.messagePruneDone({ queue: 'orders', cutoff: T0 + 1_000, limit: 10 })).toEqual({
        deleted: 1,
      });
      expect(await ctx.store.messageGet({ id: first.id })).toBeUndefined();
      expect((await ctx.store.queueStats({ now: T0 + 1_000 })).map((s) => [s.queue, s.done])).toEqual([
        ['emails', 2],
        ['orders', 1],
      ]);
      // emails' done messages are still there, and go with their own call.
      expect(await ctx.store.messagePruneDone({ queue: 'emails', cutoff: T0 + 1_000, limit: 10 })).toEqual({
        deleted: 2,
      });
      expect(await ctx.store.messagePruneDone({ queue: 'nope', cutoff: T0 + 1_000, limit: 10 })).toEqual({
        deleted: 0,
      });
    });

    it('deletes a message of a queue with done retention 0 when it completes, attempts and all; done counts it', async () => {
      await ctx.store.queueCreate({ queue: queueRecord('eager', { doneRetentionMs: 0 }) });
      await ctx.store.queueCreate({ queue: queueRecord('kept') });
      await send(ctx.store, 'eager', 2, T0);
      await send(ctx.store, 'kept', 1, T0);
      // One of eager's messages fails once first, so it has an attempt to delete with it.
      await failOnceAt('eager', T0 + 1);
      const eager = await claim(ctx.store, 'eager', T0 + 3, 2);
      const kept = await claimOne(ctx.store, 'kept', T0 + 3);
      expect(eager).toHaveLength(2);
      const stale = { id: kept.id, leaseToken: 'not-the-lease' };
      // Both kinds of queue (and a lost lease) in one call.
      const result = await ctx.store.messageComplete({ items: [...eager, kept, stale], now: T0 + 4 });
      expect(result).toEqual({ completed: 3, lost: [kept.id] });
      for (const message of eager) expect(await ctx.store.messageGet({ id: message.id })).toBeUndefined();
      expect((await ctx.store.messageGet({ id: kept.id }))?.state).toBe('done');
      expect(await ctx.store.messagePruneDone({ queue: 'eager', cutoff: T0 + 1_000, limit: 10 })).toEqual({
        deleted: 0,
      });
      expect(
        (await ctx.store.queueStats({ now: T0 + 5 })).map((s) => [s.queue, s.waiting, s.leased, s.done]),
      ).toEqual([
        ['eager', 0, 0, 2],
        ['kept', 0, 0, 1],
      ]);

      // Every queue deletes now: the same through the combined call a worker makes, if any.
      await send(ctx.store, 'eager', 1, T0 + 6);
      const next = await claimOne(ctx.store, 'eager', T0 + 7);
      await ctx.store.queueUpdate({ name: 'kept', patch: { doneRetentionMs: 0 }, now: T0 + 7 });
      const claimNone = { queue: 'eager', limit: 0, leaseMs: 30_000, worker: WORKER };
      const completed = ctx.store.messageSettleAndClaim
        ? (
            await ctx.store.messageSettleAndClaim({
              complete: [next],
              fail: [],
              now: T0 + 8,
              claim: claimNone,
            })
          ).completed
        : await ctx.store.messageComplete({ items: [next], now: T0 + 8 });
      expect(completed).toEqual({ completed: 1, lost: [] });
      expect(await ctx.store.messageGet({ id: next.id })).toBeUndefined();
    });
  });
}
