// The failed attempts of live messages on the SQLite store (migration 0011): they live in
// message_attempts while their message does, leave with it whichever way it goes, and a store
// written before the migration has its attempts moved there, in order.
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Attempt, FailureInfo } from '../../src/index.ts';
import { openStore, type Store } from '../../src/index.ts';
import {
  attemptOf,
  claimOne,
  deathRecord,
  queueRecord,
  send,
  T0,
} from '../../src/store/conformance/fixtures.ts';
import { migrateStore } from '../../src/store/open.ts';
import { applyMigrations, loadMigrations } from '../../src/store/sqlite/migrate.ts';
import { removeDb, tempDbPath } from './temp-db.ts';

const RESET: FailureInfo = { name: 'Error', message: 'read ECONNRESET', code: 'ECONNRESET' };

let path = '';
let store: Store | undefined;

afterEach(async () => {
  await store?.close();
  store = undefined;
  await removeDb(path);
});

async function open(): Promise<Store> {
  path = tempDbPath('deadletter-attempts');
  store = await openStore(`sqlite:${path}`, { migrate: true });
  return store;
}

/** Rows of message_attempts per message id, read through a connection of its own. */
function attemptRows(): Record<string, number> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .prepare('SELECT message_id AS id, count(*) AS n FROM message_attempts GROUP BY message_id')
      .all() as { id: string; n: number }[];
    return Object.fromEntries(rows.map((row) => [row.id, row.n]));
  } finally {
    db.close();
  }
}

/** Claims the queue's one message, fails it with a retry, and claims it again. */
async function failOnceAndClaim(s: Store, queue: string, now: number) {
  const first = await claimOne(s, queue, now);
  const attempt = attemptOf(first, now, RESET);
  await s.messageFail({
    items: [{ id: first.id, leaseToken: first.leaseToken, attempt, outcome: 'retry', visibleAt: now }],
    now,
  });
  return { again: await claimOne(s, queue, now + 1), attempt };
}

describe('failed attempts on the SQLite store', () => {
  it('are kept while their message lives and leave with it, however it goes', async () => {
    const s = await open();
    await s.queueCreate({ queue: queueRecord('deleting', { doneRetentionMs: 0 }) });
    await s.queueCreate({ queue: queueRecord('keeping') });
    await s.queueCreate({ queue: queueRecord('dying') });
    await s.queueCreate({ queue: queueRecord('dropping', { deadLetter: false }) });
    const ids: Record<string, string> = {};
    const claimed: Record<string, Awaited<ReturnType<typeof failOnceAndClaim>>> = {};
    for (const queue of ['deleting', 'keeping', 'dying', 'dropping']) {
      ids[queue] = (await send(s, queue, 1))[0] as string;
      claimed[queue] = await failOnceAndClaim(s, queue, T0);
    }
    expect(attemptRows()).toEqual(Object.fromEntries(Object.values(ids).map((id) => [id, 1])));

    const done = ['deleting', 'keeping'].map((queue) => {
      const { again } = claimed[queue] as Awaited<ReturnType<typeof failOnceAndClaim>>;
      return { id: again.id, leaseToken: again.leaseToken };
    });
    expect(await s.messageComplete({ items: done, now: T0 + 2 })).toEqual({ completed: 2, lost: [] });
    const dying = claimed.dying as Awaited<ReturnType<typeof failOnceAndClaim>>;
    const dropping = claimed.dropping as Awaited<ReturnType<typeof failOnceAndClaim>>;
    const last = attemptOf(dying.again, T0 + 2, RESET);
    expect(
      await s.messageFail({
        items: [
          {
            id: dying.again.id,
            leaseToken: dying.again.leaseToken,
            attempt: last,
            outcome: 'dead',
            death: deathRecord('g-1'),
          },
          {
            id: dropping.again.id,
            leaseToken: dropping.again.leaseToken,
            attempt: attemptOf(dropping.again, T0 + 2, RESET),
            outcome: 'drop',
            tier: 'transient',
          },
        ],
        now: T0 + 2,
      }),
    ).toEqual({ applied: 2, lost: [] });
    // The kept done message keeps its attempt; the dead one took its attempts into its dead letter.
    expect(attemptRows()).toEqual({ [ids.keeping as string]: 1 });
    expect((await s.messageGet({ id: ids.keeping as string }))?.attempts).toEqual([claimed.keeping?.attempt]);
    expect((await s.deadLetterGet({ id: ids.dying as string }))?.attempts).toEqual([dying.attempt, last]);

    expect(await s.messagePruneDone({ queue: 'keeping', cutoff: T0 + 2, limit: 10 })).toEqual({ deleted: 1 });
    expect(attemptRows()).toEqual({});
  });

  it('are read when a handler first looks at them: once the message is gone, none are left to read', async () => {
    const s = await open();
    await s.queueCreate({ queue: queueRecord('orders') });
    await send(s, 'orders', 1);
    const { again } = await failOnceAndClaim(s, 'orders', T0);
    await s.messageFail({
      items: [
        {
          id: again.id,
          leaseToken: again.leaseToken,
          attempt: attemptOf(again, T0 + 2, RESET),
          outcome: 'dead',
          death: deathRecord('g-1'),
        },
      ],
      now: T0 + 2,
    });
    expect(again.attempts).toEqual([]);
    expect((await s.deadLetterGet({ id: again.id }))?.attempts).toHaveLength(2);
  });

  it('move out of the rows of a store written before migration 11, in order', async () => {
    path = tempDbPath('deadletter-attempts');
    const attempts: Attempt[] = [1, 2].map((number) => ({
      number,
      startedAt: T0 + number,
      durationMs: 3,
      workerId: 'w1',
      workerVersion: '1.0.0',
      host: 'h1',
      error: {
        name: 'Error',
        message: `boom ${number}`,
        stack: `Error: boom ${number}\n    at handle (a.ts:1:1)`,
      },
    }));
    const db = new Database(path);
    try {
      const migrations = loadMigrations();
      const at = migrations.findIndex((migration) => migration.name === '0011_message_attempts');
      expect(at).toBeGreaterThan(0);
      applyMigrations(db, `sqlite:${path}`, migrations.slice(0, at));
      db.prepare(
        'INSERT INTO queues (name, max_receives, visibility_timeout_ms, backoff, dead_letter, retention_days, ' +
          `created_at, updated_at) VALUES ('orders', 5, 30000, '{"type":"fixed","delayMs":0}', 1, 14, ${T0}, ${T0})`,
      ).run();
      const insert = db.prepare(
        'INSERT INTO messages (id, queue, state, body, headers, enqueued_at, visible_at, receives, attempts) ' +
          "VALUES (?, 'orders', 'waiting', '{}', '{}', ?, ?, ?, ?)",
      );
      // A retried message (two attempts, written as a previous version did) and a fresh one.
      insert.run('msg-1', T0, T0, 2, JSON.stringify(attempts));
      insert.run('msg-2', T0 + 1, T0 + 1, 0, '[]');
    } finally {
      db.close();
    }
    await migrateStore(`sqlite:${path}`);
    store = await openStore(`sqlite:${path}`);
    expect(attemptRows()).toEqual({ 'msg-1': 2 });
    const check = new Database(path, { readonly: true });
    try {
      expect(check.prepare("SELECT count(*) AS n FROM messages WHERE attempts <> '[]'").get()).toEqual({
        n: 0,
      });
    } finally {
      check.close();
    }
    expect((await store.messageGet({ id: 'msg-1' }))?.attempts).toEqual(attempts);
    const claimed = await claimOne(store, 'orders', T0 + 10);
    expect(claimed).toMatchObject({ id: 'msg-1', receives: 3 });
    expect(claimed.attempts).toEqual(attempts);
    const last = attemptOf(claimed, T0 + 10, RESET);
    await store.messageFail({
      items: [
        {
          id: claimed.id,
          leaseToken: claimed.leaseToken,
          attempt: last,
          outcome: 'dead',
          death: deathRecord('g'),
        },
      ],
      now: T0 + 11,
    });
    expect((await store.deadLetterGet({ id: 'msg-1' }))?.attempts).toEqual([...attempts, last]);
    expect(attemptRows()).toEqual({});
  });
});
