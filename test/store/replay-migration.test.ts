// The migration that keeps replayed dead letters in place (`NNNN_replay`), on both stores: a
// store written by the schema before it, with a replayed dead letter in the old history table,
// migrates to the new layout and everything that reads the history still finds it whole.
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/index.ts';
import { migrateStore } from '../../src/store/open.ts';
import { applyPostgresMigrations, loadPostgresMigrations } from '../../src/store/postgres/migrate.ts';
import { applyMigrations, loadMigrations } from '../../src/store/sqlite/migrate.ts';
import { dropSchemas, storeUrl, tempSchema, withClient } from './postgres-schema.ts';
import { removeDb, tempDbPath } from './temp-db.ts';

const T0 = 1_700_000_000_000;
const ATTEMPTS = JSON.stringify([
  {
    number: 1,
    workerId: 'w1',
    workerVersion: '1.0.0',
    host: 'h1',
    startedAt: T0 - 10,
    durationMs: 4,
    error: { name: 'TypeError', message: 'boom', stack: 'TypeError: boom\n    at handler (a.ts:1:1)' },
  },
]);

/** The schema before the replay migration: every migration up to the one before it. */
function before<M extends { name: string }>(migrations: M[]): M[] {
  const at = migrations.findIndex((migration) => migration.name.endsWith('_replay'));
  expect(at).toBeGreaterThan(0);
  return migrations.slice(0, at);
}

/** Rows as a process of the previous version wrote them: two dead letters and one replayed. */
const OLD_ROWS = [
  'INSERT INTO queues (name, max_receives, visibility_timeout_ms, backoff, dead_letter, retention_days, created_at, ' +
    `updated_at) VALUES ('orders', 3, 30000, '{"type":"fixed","delayMs":0}', true, 14, ${T0}, ${T0})`,
  ...['dl-1', 'dl-2', 'dl-0'].map(
    (id, k) =>
      `INSERT INTO ${id === 'dl-0' ? 'replayed_dead_letters' : 'dead_letters'} (id, queue, body, headers, ` +
      'idempotency_key, enqueued_at, attempts, attempt_count, error_name, error_message, error_stack, error_code, ' +
      'error_status, tier, fingerprint, group_id, died_at, replay_count, previous_id, original_body, edits' +
      (id === 'dl-0' ? ', replayed_at, replayed_by, replay_job_id, replayed_to, destination' : '') +
      `) VALUES ('${id}', 'orders', '{"order":${k}}', '{"h":"v"}', 'key-${k}', ${T0 - 100}, '${ATTEMPTS}', 1, ` +
      `'TypeError', 'boom', 'TypeError: boom', NULL, NULL, 'permanent', 'fp', 'g1', ${T0 + k}, 0, NULL, ` +
      (id === 'dl-0'
        ? `'{"order":"before"}', '[{"at":${T0},"actor":"bob","body":{"order":2}}]', ${T0 + 50}, 'alice', 'job-1', 'msg-0', 'orders'`
        : `NULL, '[]'`) +
      ')',
  ),
  'INSERT INTO messages (id, queue, state, body, headers, idempotency_key, enqueued_at, visible_at, replay_of, ' +
    `replay_count) VALUES ('msg-0', 'orders', 'waiting', '{"order":2}', '{"h":"v"}', 'key-2', ${T0 + 50}, ${T0 + 50}, 'dl-0', 1)`,
];

function describeReplayMigration(
  name: string,
  open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>,
) {
  describe(`the replay migration on ${name}`, () => {
    it('keeps the old replay history whole and out of the DLQ', async () => {
      const { store, cleanup } = await open();
      try {
        expect((await store.deadLetterList({ limit: 10 })).map((letter) => letter.id)).toEqual([
          'dl-2',
          'dl-1',
        ]);
        expect(await store.deadLetterGet({ id: 'dl-0' })).toBeUndefined();
        const replayed = await store.deadLetterFindReplayed({ id: 'dl-0' });
        expect(replayed).toMatchObject({
          id: 'dl-0',
          queue: 'orders',
          body: { order: 2 },
          headers: { h: 'v' },
          idempotencyKey: 'key-2',
          diedAt: T0 + 2,
          replayedAt: T0 + 50,
          replayedBy: 'alice',
          replayJobId: 'job-1',
          replayedTo: 'msg-0',
          destination: 'orders',
        });
        expect(replayed?.attempts).toEqual(JSON.parse(ATTEMPTS));
        const lineage = await store.deadLetterLineage({ id: 'msg-0' });
        expect(lineage.previous).toMatchObject({ id: 'dl-0', state: 'replayed' });
        expect((await store.deadLetterLineage({ id: 'dl-0' })).next).toMatchObject({
          id: 'msg-0',
          state: 'waiting',
        });
        expect(await store.deadLetterCountExpired({ queue: 'orders', before: T0 + 1_000 })).toEqual({
          dead: 2,
          replayed: 1,
        });
        const expired = await store.deadLetterListExpired({
          queue: 'orders',
          state: 'replayed',
          before: T0 + 1_000,
          limit: 10,
        });
        expect(expired.map((letter) => [letter.id, letter.state, letter.originalBody])).toEqual([
          ['dl-0', 'replayed', { order: 'before' }],
        ]);
        // Not in the DLQ: it cannot be discarded or edited as a dead letter.
        expect(
          await store.deadLetterDiscard({ ids: ['dl-0'], reason: 'test', actor: 'bob', now: T0 + 60 }),
        ).toEqual({ discarded: [], missing: ['dl-0'] });
        expect(
          (await store.deadLetterCountBy({ since: 0, by: 'queue' })).map((row) => [row.key, row.count]),
        ).toEqual([['orders', 2]]);
      } finally {
        await cleanup();
      }
    });
  });
}

describeReplayMigration('SQLite', async () => {
  const path = tempDbPath();
  const db = new Database(path);
  try {
    applyMigrations(db, `sqlite:${path}`, before(loadMigrations()));
    for (const sql of OLD_ROWS) db.prepare(sql).run();
  } finally {
    db.close();
  }
  await migrateStore(`sqlite:${path}`);
  const store = await openStore(`sqlite:${path}`);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await removeDb(path);
    },
  };
});

const schemas: string[] = [];
afterAll(() => dropSchemas(...schemas));

describeReplayMigration('PostgreSQL', async () => {
  const schema = tempSchema('dlreplaymig');
  schemas.push(schema);
  await withClient(async (client) => {
    await applyPostgresMigrations(client, schema, 'test', before(loadPostgresMigrations()));
    await client.query(`SET search_path TO "${schema}"`);
    for (const sql of OLD_ROWS) await client.query(sql);
  });
  await migrateStore(storeUrl(schema));
  const store = await openStore(storeUrl(schema));
  return { store, cleanup: () => store.close() };
});
