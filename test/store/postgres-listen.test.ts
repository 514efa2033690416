import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { attemptOf, claimOne, message, queueRecord, T0 } from '../../src/store/conformance/fixtures.ts';
import { openStore } from '../../src/store/open.ts';
import type { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { dropSchemas, storeUrl, tempSchema, withClient } from './postgres-schema.ts';

const schemas: string[] = [];
afterAll(() => dropSchemas(...schemas));

/** How long a test waits for a notification that should come (it comes in milliseconds). */
const WAIT = { timeout: 10_000, interval: 10 };

/** Counts the wake-ups of one subscription. */
function counter(): { onAvailable: () => void; readonly calls: number } {
  let calls = 0;
  return {
    onAvailable: () => {
      calls += 1;
    },
    get calls() {
      return calls;
    },
  };
}

async function open(schema: string): Promise<PostgresStore> {
  return (await openStore(storeUrl(schema), { migrate: true })) as PostgresStore;
}

/**
 * Two stores on one schema, as two processes would have: `listening` subscribes, `sending`
 * writes. Each has its own pool; `listening` also has its LISTEN connection.
 */
let listening: PostgresStore;
let sending: PostgresStore;

beforeEach(async () => {
  const schema = tempSchema('dllisten');
  schemas.push(schema);
  listening = await open(schema);
  sending = await open(schema);
  for (const name of ['orders', 'emails']) await sending.queueCreate({ queue: queueRecord(name) });
});

afterEach(async () => {
  await listening.close();
  await sending.close();
});

const send = (queue: string, visibleAt = T0) =>
  sending.messageInsertBatch({ queue, messages: [message({ visibleAt })], now: T0 });

describe('postgres LISTEN/NOTIFY', () => {
  it('wakes a subscriber of another store when a message is sent to its queue', async () => {
    const orders = counter();
    await listening.queueListen({ queue: 'orders', onAvailable: orders.onAvailable });
    expect(listening.listenerProcessId).toEqual(expect.any(Number));
    await send('orders');
    await vi.waitFor(() => expect(orders.calls).toBe(1), WAIT);
  });

  it('does not wake for other queues or for delayed messages, in commit order', async () => {
    const orders = counter();
    const emails = counter();
    await listening.queueListen({ queue: 'orders', onAvailable: orders.onAvailable });
    await listening.queueListen({ queue: 'emails', onAvailable: emails.onAvailable });
    await send('orders', T0 + 60_000); // delayed: polling finds it when it is due
    await send('emails');
    // Notifications arrive in commit order on one connection: once the later one is here,
    // any for the earlier send would have been delivered too.
    await vi.waitFor(() => expect(emails.calls).toBe(1), WAIT);
    expect(orders.calls).toBe(0);
  });

  it('wakes on a retry due now and on a release, not on a delayed retry', async () => {
    const orders = counter();
    const emails = counter();
    await listening.queueListen({ queue: 'orders', onAvailable: orders.onAvailable });
    await listening.queueListen({ queue: 'emails', onAvailable: emails.onAvailable });
    await sending.messageInsertBatch({ queue: 'orders', messages: [message(), message()], now: T0 });
    await vi.waitFor(() => expect(orders.calls).toBe(1), WAIT);
    const a = await claimOne(sending, 'orders', T0);
    const b = await claimOne(sending, 'orders', T0);
    const error = { name: 'Error', message: 'boom' };

    await sending.messageFail({
      items: [{ ...a, attempt: attemptOf(a, T0, error), outcome: 'retry', visibleAt: T0 + 10_000 }],
      now: T0 + 1,
    });
    await send('emails');
    await vi.waitFor(() => expect(emails.calls).toBe(1), WAIT);
    expect(orders.calls).toBe(1);

    await sending.messageFail({
      items: [{ ...b, attempt: attemptOf(b, T0, error), outcome: 'retry', visibleAt: T0 + 1 }],
      now: T0 + 1,
    });
    await vi.waitFor(() => expect(orders.calls).toBe(2), WAIT);

    const again = await claimOne(sending, 'orders', T0 + 1);
    await sending.messageRelease({ items: [{ ...again, uncountReceive: true }], now: T0 + 2 });
    await vi.waitFor(() => expect(orders.calls).toBe(3), WAIT);
  });

  it('stops waking a subscription once it is closed, and keeps the others', async () => {
    const first = counter();
    const second = counter();
    const subscription = await listening.queueListen({ queue: 'orders', onAvailable: first.onAvailable });
    await listening.queueListen({ queue: 'orders', onAvailable: second.onAvailable });
    await send('orders');
    await vi.waitFor(() => expect([first.calls, second.calls]).toEqual([1, 1]), WAIT);
    await subscription.close();
    await send('orders');
    await vi.waitFor(() => expect(second.calls).toBe(2), WAIT);
    expect(first.calls).toBe(1);
  });

  it('keeps schemas apart: a send in one schema wakes nobody in another', async () => {
    const schema = tempSchema('dllisten');
    schemas.push(schema);
    const elsewhere = await open(schema);
    try {
      await elsewhere.queueCreate({ queue: queueRecord('orders') });
      const here = counter();
      const there = counter();
      await listening.queueListen({ queue: 'orders', onAvailable: here.onAvailable });
      await elsewhere.queueListen({ queue: 'orders', onAvailable: there.onAvailable });
      await elsewhere.messageInsertBatch({ queue: 'orders', messages: [message()], now: T0 });
      await vi.waitFor(() => expect(there.calls).toBe(1), WAIT);
      await send('orders');
      await vi.waitFor(() => expect(here.calls).toBe(1), WAIT);
      expect(there.calls).toBe(1);
    } finally {
      await elsewhere.close();
    }
  });

  it('reconnects after its connection is killed, wakes everyone once, and hears sends again', async () => {
    const orders = counter();
    const emails = counter();
    await listening.queueListen({ queue: 'orders', onAvailable: orders.onAvailable });
    await listening.queueListen({ queue: 'emails', onAvailable: emails.onAvailable });
    const before = listening.listenerProcessId;
    expect(before).toEqual(expect.any(Number));

    const killed = await withClient((client) =>
      client.query<{ killed: boolean }>('SELECT pg_terminate_backend($1) AS killed', [before]),
    );
    expect(killed.rows[0]?.killed).toBe(true);

    // Back with a new server process, and every subscriber woken once: messages may have been
    // sent while nobody listened.
    await vi.waitFor(() => {
      expect(listening.listenerProcessId).toEqual(expect.any(Number));
      expect(listening.listenerProcessId).not.toBe(before);
      expect([orders.calls, emails.calls]).toEqual([1, 1]);
    }, WAIT);

    await send('orders');
    await vi.waitFor(() => expect(orders.calls).toBe(2), WAIT);
    expect(emails.calls).toBe(1);
  });

  it('ends the LISTEN connection on close', async () => {
    await listening.queueListen({ queue: 'orders', onAvailable: () => undefined });
    const pid = listening.listenerProcessId;
    await listening.close();
    expect(listening.listenerProcessId).toBeUndefined();
    await vi.waitFor(async () => {
      const alive = await withClient((client) =>
        client.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]),
      );
      expect(alive.rows).toEqual([]);
    }, WAIT);
    await expect(listening.queueListen({ queue: 'orders', onAvailable: () => undefined })).rejects.toThrow(
      'closed',
    );
  });
});
