import { afterAll, describe, expect, it } from 'vitest';
import { NotAStoreError, SchemaVersionError, ValidationError } from '../../src/core/errors.ts';
import { killOne, queueRecord, T0, WORKER } from '../../src/store/conformance/fixtures.ts';
import { migrateStore, openStore, parseStoreUrl } from '../../src/store/open.ts';
import {
  applyPostgresMigrations,
  latestPostgresSchemaVersion,
  loadPostgresMigrations,
} from '../../src/store/postgres/migrate.ts';
import type { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { loadMigrations } from '../../src/store/sqlite/migrate.ts';
import { dropSchemas, POSTGRES_URL, storeUrl, tempSchema, withClient } from './postgres-schema.ts';

const created: string[] = [];
/** A new schema name for this file, dropped after all its tests. */
function schemaName(): string {
  const schema = tempSchema('dlopen');
  created.push(schema);
  return schema;
}
afterAll(() => dropSchemas(...created));

/** Expects `promise` to reject with `type` and returns the error. */
async function rejection<E extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => E,
): Promise<E> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  return error as E;
}

async function tablesOf(schema: string): Promise<string[]> {
  return withClient(async (client) => {
    const { rows } = await client.query<{ name: string }>(
      'SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 ORDER BY tablename COLLATE "C"',
      [schema],
    );
    return rows.map((r) => r.name);
  });
}

async function migrationRows(schema: string): Promise<{ version: number; name: string }[]> {
  return withClient(async (client) => {
    const { rows } = await client.query<{ version: number; name: string }>(
      `SELECT version, name FROM "${schema}".deadletter_migrations ORDER BY version`,
    );
    return rows;
  });
}

async function schemaExists(schema: string): Promise<boolean> {
  return withClient(async (client) => {
    const { rows } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    return rows.length === 1;
  });
}

async function newStore(schema = schemaName(), extra = ''): Promise<PostgresStore> {
  return (await openStore(storeUrl(schema, extra), { migrate: true })) as PostgresStore;
}

describe('postgres store URLs', () => {
  it('takes out schema, pool and statementTimeout and leaves the rest for the driver', () => {
    expect(
      parseStoreUrl(
        'postgres://dl:s3cret@db.example:5433/app?schema=billing_dlq&pool=4&statementTimeout=2s&sslmode=disable',
      ),
    ).toEqual({
      kind: 'postgres',
      connectionString: 'postgres://dl:s3cret@db.example:5433/app?sslmode=disable',
      schema: 'billing_dlq',
      poolSize: 4,
      statementTimeoutMs: 2_000,
      location: 'postgres://dl:***@db.example:5433/app?sslmode=disable&schema=billing_dlq',
    });
  });

  it('defaults to schema deadletter, 10 connections and a 30 s statement timeout', () => {
    for (const url of ['postgres://localhost/dl', 'postgresql://localhost/dl', ' POSTGRES://localhost/dl ']) {
      expect(parseStoreUrl(url)).toMatchObject({
        kind: 'postgres',
        schema: 'deadletter',
        poolSize: 10,
        statementTimeoutMs: 30_000,
      });
    }
    expect(parseStoreUrl('postgres://localhost/dl?statementTimeout=0')).toMatchObject({
      statementTimeoutMs: 0,
    });
    expect(parseStoreUrl('postgres://localhost/dl?statementTimeout=1500')).toMatchObject({
      statementTimeoutMs: 1_500,
    });
  });

  it('refuses bad schema names, pool sizes and timeouts with ValidationError', () => {
    const bad = [
      'postgres://localhost/dl?schema=Billing',
      'postgres://localhost/dl?schema=my-dlq',
      'postgres://localhost/dl?schema=1st',
      'postgres://localhost/dl?schema=pg_catalog',
      'postgres://localhost/dl?schema=',
      'postgres://localhost/dl?schema=a%22%3B%20DROP%20TABLE%20x',
      `postgres://localhost/dl?schema=${'a'.repeat(49)}`,
      'postgres://localhost/dl?schema=a&schema=b',
      'postgres://localhost/dl?pool=0',
      'postgres://localhost/dl?pool=1001',
      'postgres://localhost/dl?pool=2.5',
      'postgres://localhost/dl?statementTimeout=soon',
      'postgres://localhost/dl?statementTimeout=-1s',
      'postgres://[bad/dl',
    ];
    for (const url of bad) expect({ url, parse: () => parseStoreUrl(url) }.parse).toThrow(ValidationError);
    expect(parseStoreUrl(`postgres://localhost/dl?schema=${'a'.repeat(48)}`)).toMatchObject({
      kind: 'postgres',
    });
  });

  it('refuses a bad schema before connecting, and never shows the password', async () => {
    // Port 1 refuses connections: a ValidationError proves nothing was attempted.
    const error = await rejection(openStore('postgres://u:hunter2@127.0.0.1:1/x?schema=No'), ValidationError);
    expect(error.message).toContain('invalid schema name');
    const malformed = await rejection(openStore('postgres://u:hunter2@[bad/x'), ValidationError);
    expect(malformed.message).not.toContain('hunter2');
  });

  it('surfaces an unreachable server as the driver error, not a Deadletter error', async () => {
    const error = await rejection(
      openStore('postgres://postgres@127.0.0.1:1/test', { migrate: true }),
      Error,
    );
    expect(error).not.toBeInstanceOf(ValidationError);
    expect(String((error as Error & { code?: string }).code)).toBe('ECONNREFUSED');
  });
});

describe('postgres store options', () => {
  it('applies the pool size, the statement timeout and the driver parameters', async () => {
    const app = `dltest_${Math.random().toString(36).slice(2, 10)}`;
    const store = await newStore(schemaName(), `pool=2&statementTimeout=1500ms&application_name=${app}`);
    try {
      expect(store.capabilities).toEqual({ skipLocked: true, listenNotify: true, singleWriter: false });
      expect(await store.setting('statement_timeout')).toBe('1500ms');
      await Promise.all(Array.from({ length: 10 }, () => store.queueStats({ now: T0 })));
      const connections = await withClient(async (client) => {
        const { rows } = await client.query<{ n: string }>(
          'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1',
          [app],
        );
        return Number(rows[0]?.n);
      });
      expect(connections).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('goes on after its connections are killed: a failed call surfaces as an error, the next ones work', async () => {
    const app = `dltest_${Math.random().toString(36).slice(2, 10)}`;
    const store = await newStore(schemaName(), `pool=3&application_name=${app}`);
    try {
      await store.queueCreate({ queue: queueRecord('orders') });
      await Promise.all(Array.from({ length: 6 }, () => store.queueStats({ now: T0 })));
      const killed = await withClient(async (client) => {
        const { rows } = await client.query<{ killed: boolean }>(
          'SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1',
          [app],
        );
        return rows.length;
      });
      expect(killed).toBeGreaterThan(0);
      // A call may meet a connection that died a moment ago (the worker loop retries such
      // errors); within a few tries the pool has replaced them.
      const outcomes: string[] = [];
      for (let attempt = 0; attempt < 5 && outcomes.at(-1) !== 'ok'; attempt++) {
        outcomes.push(
          await store.queueList().then(
            () => 'ok',
            (error: unknown) => (error instanceof Error ? error.constructor.name : 'unknown'),
          ),
        );
      }
      expect(outcomes.at(-1)).toBe('ok');
      expect((await store.queueList()).map((q) => q.name)).toEqual(['orders']);
    } finally {
      await store.close();
    }
  });

  it('close waits for the calls in flight, then refuses new ones', async () => {
    const store = await newStore();
    await store.queueCreate({ queue: queueRecord('orders') });
    const inFlight = Array.from({ length: 20 }, (_, i) =>
      store.messageInsertBatch({
        queue: 'orders',
        now: T0,
        messages: [{ id: `m-${i}`, body: i, headers: {}, idempotencyKey: null, visibleAt: T0 }],
      }),
    );
    await store.close();
    const results = await Promise.all(inFlight);
    expect(results.flat()).toHaveLength(20);
    await expect(store.queueList()).rejects.toThrow('closed');
    await store.close(); // twice is fine

    const reopened = await openStore(storeUrl(store.schema));
    expect(
      await reopened.messageClaim({ queue: 'orders', limit: 50, now: T0, leaseMs: 1_000, worker: WORKER }),
    ).toHaveLength(20);
    await reopened.close();
  });
});

describe('postgres schemas', () => {
  it('initialises a missing schema with migrate: true, and refuses it without', async () => {
    const schema = schemaName();
    const error = await rejection(openStore(storeUrl(schema)), SchemaVersionError);
    expect(error.message).toContain('dlq migrate');
    expect(error.found).toBe(0);
    expect(await schemaExists(schema)).toBe(false);

    const store = await openStore(storeUrl(schema), { migrate: true });
    expect(store.location).toBe(`${POSTGRES_URL}?schema=${schema}`);
    await store.close();
    expect(await migrationRows(schema)).toEqual(
      loadPostgresMigrations().map((m) => ({ version: m.version, name: m.name })),
    );
    expect(await tablesOf(schema)).toEqual(
      expect.arrayContaining([
        'dead_letters',
        'deadletter_migrations',
        'group_queues',
        'groups',
        'leaders',
        'messages',
        'queue_counters',
        'queues',
      ]),
    );
    await (await openStore(storeUrl(schema))).close();
  });

  it('treats an existing schema without tables as new', async () => {
    const schema = schemaName();
    await withClient((client) => client.query(`CREATE SCHEMA "${schema}"`));
    await rejection(openStore(storeUrl(schema)), SchemaVersionError);
    await (await openStore(storeUrl(schema), { migrate: true })).close();
    expect(await migrationRows(schema)).toHaveLength(latestPostgresSchemaVersion());
  });

  it('keeps two schemas of one database apart', async () => {
    const a = await newStore();
    const b = await newStore();
    try {
      for (const store of [a, b]) await store.queueCreate({ queue: queueRecord('orders') });
      await a.messageInsertBatch({
        queue: 'orders',
        now: T0,
        messages: [{ id: 'only-in-a', body: 1, headers: {}, idempotencyKey: 'k', visibleAt: T0 }],
      });
      expect(await b.messageGet({ id: 'only-in-a' })).toBeUndefined();
      expect(await b.messageHasPending({ queue: 'orders' })).toBe(false);
      // The same id and key are free in the other schema.
      expect(
        await b.messageInsertBatch({
          queue: 'orders',
          now: T0,
          messages: [{ id: 'only-in-a', body: 2, headers: {}, idempotencyKey: 'k', visibleAt: T0 }],
        }),
      ).toEqual([{ id: 'only-in-a', deduplicated: false }]);
      expect(await a.leaderAttemptElect({ name: 'm', holder: 'x', ttlMs: 1_000, now: T0 })).toBe(true);
      expect(await b.leaderAttemptElect({ name: 'm', holder: 'y', ttlMs: 1_000, now: T0 })).toBe(true);
      expect((await a.messageGet({ id: 'only-in-a' }))?.body).toBe(1);
      expect((await b.messageGet({ id: 'only-in-a' }))?.body).toBe(2);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps its migration numbers and names in lockstep with the SQLite store', () => {
    expect(loadPostgresMigrations().map((m) => m.name)).toEqual(loadMigrations().map((m) => m.name));
  });
});

describe('postgres schemas of something else', () => {
  it('refuses a schema with tables and no deadletter_migrations, and leaves it alone', async () => {
    const schema = schemaName();
    await withClient(async (client) => {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(`CREATE TABLE "${schema}".users (id SERIAL PRIMARY KEY, name TEXT)`);
      await client.query(`INSERT INTO "${schema}".users (name) VALUES ('ada')`);
    });
    for (const attempt of [
      () => openStore(storeUrl(schema)),
      () => openStore(storeUrl(schema), { migrate: true }),
      () => migrateStore(storeUrl(schema)),
    ]) {
      const error = await rejection(attempt(), NotAStoreError);
      expect(error.message).toContain('users');
      expect(error.message).toContain('deadletter_migrations');
    }
    expect(await tablesOf(schema)).toEqual(['users']);
    const names = await withClient((client) => client.query(`SELECT name FROM "${schema}".users`));
    expect(names.rows).toEqual([{ name: 'ada' }]);
  });

  it('counts a view alone as something else', async () => {
    const schema = schemaName();
    await withClient(async (client) => {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(`CREATE VIEW "${schema}".report AS SELECT 1 AS one`);
    });
    await rejection(openStore(storeUrl(schema), { migrate: true }), NotAStoreError);
  });
});

describe('postgres schema versions', () => {
  it('refuses a schema newer than this version knows, and so does migrate', async () => {
    const schema = schemaName();
    await (await newStore(schema)).close();
    await withClient((client) =>
      client.query(`INSERT INTO "${schema}".deadletter_migrations VALUES (999, '0999_future', 0)`),
    );
    const error = await rejection(openStore(storeUrl(schema), { migrate: true }), SchemaVersionError);
    expect(error.message).toContain('newer Deadletter (schema 999');
    expect(error.message).toContain('upgrade');
    expect({ found: error.found, expected: error.expected }).toEqual({
      found: 999,
      expected: latestPostgresSchemaVersion(),
    });
    await rejection(migrateStore(storeUrl(schema)), SchemaVersionError);
  });

  it('refuses an older schema, telling to run dlq migrate, and migrate brings it up', async () => {
    const schema = schemaName();
    await withClient(async (client) => {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(
        `CREATE TABLE "${schema}".deadletter_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
      );
    });
    for (const options of [{}, { migrate: true }]) {
      const error = await rejection(openStore(storeUrl(schema), options), SchemaVersionError);
      expect(error.message).toContain('`dlq migrate`');
      expect(error.found).toBe(0);
    }
    expect(await migrateStore(storeUrl(schema))).toEqual({
      from: 0,
      to: latestPostgresSchemaVersion(),
      applied: loadPostgresMigrations().map((m) => m.name),
    });
    await (await openStore(storeUrl(schema))).close();
  });

  it('applies only the pending migrations, each recorded, and rolls back a failing one', async () => {
    const schema = schemaName();
    await (await newStore(schema)).close();
    const latest = latestPostgresSchemaVersion();
    const next = {
      version: latest + 1,
      name: '9999_test_owner',
      sql: 'ALTER TABLE queues ADD COLUMN owner TEXT;',
    };
    const broken = {
      version: latest + 1,
      name: '9999_test_broken',
      sql: 'CREATE TABLE half_done (x INT); SELECT no_such_function();',
    };
    await withClient(async (client) => {
      const location = `test:${schema}`;
      await expect(
        applyPostgresMigrations(client, schema, location, [...loadPostgresMigrations(), broken]),
      ).rejects.toThrow('no_such_function');
      expect(await tablesOf(schema)).not.toContain('half_done');
      expect(
        await applyPostgresMigrations(client, schema, location, [...loadPostgresMigrations(), next]),
      ).toEqual({
        from: latest,
        to: latest + 1,
        applied: ['9999_test_owner'],
      });
      expect(
        await applyPostgresMigrations(client, schema, location, [...loadPostgresMigrations(), next]),
      ).toEqual({
        from: latest + 1,
        to: latest + 1,
        applied: [],
      });
    });
    expect((await migrationRows(schema)).map((r) => r.version)).toEqual([
      ...loadPostgresMigrations().map((m) => m.version),
      latest + 1,
    ]);
    // This version of Deadletter does not know the test migration: the schema is now "newer".
    await rejection(openStore(storeUrl(schema)), SchemaVersionError);
  });

  it('keeps an open store working while a later migration adds columns (a rolling upgrade)', async () => {
    const schema = schemaName();
    // One connection, so every statement below is prepared on the connection used after the upgrade.
    const store = await newStore(schema, 'pool=1');
    try {
      const useEverything = async (round: number) => {
        const now = T0 + round * 1_000;
        await store.queueCreate({ queue: queueRecord(`q${round}`) });
        await store.queueUpdate({ name: `q${round}`, patch: { maxReceives: 3 }, now });
        await store.queueGet({ name: `q${round}` });
        await store.queueList();
        await store.queueStats({ now });
        await killOne(store, { queue: `q${round}`, diedAt: now, groupId: 'g' });
        await store.groupGet({ id: 'g' });
        await store.groupList({ sort: 'count', limit: 5 });
        await store.groupStatusSet({ id: 'g', status: 'acknowledged', now });
        await store.deadLetterList({ limit: 5 });
        await store.auditAppend({
          entries: [
            { at: now, actor: 'a', action: 'queue.create', targetType: 'queue', targetId: 'q', details: {} },
          ],
        });
        await store.auditList({ limit: 5 });
        await store.tokenList();
        await store.queueSampleList({ queue: `q${round}` });
      };
      // Prepared statements switch to a generic plan after five runs: use them past that.
      for (let round = 0; round < 6; round++) await useEverything(round);
      const latest = latestPostgresSchemaVersion();
      const tables = [
        'queues',
        'groups',
        'group_queues',
        'messages',
        'dead_letters',
        'audit_log',
        'api_tokens',
        'queue_samples',
      ];
      const expand = {
        version: latest + 1,
        name: '9999_test_expand',
        sql: tables.map((t) => `ALTER TABLE ${t} ADD COLUMN test_extra TEXT;`).join('\n'),
      };
      await withClient((client) =>
        applyPostgresMigrations(client, schema, `test:${schema}`, [...loadPostgresMigrations(), expand]),
      );
      for (let round = 6; round < 8; round++) await useEverything(round);
    } finally {
      await store.close();
    }
  });

  it('migrateStore creates a new schema and is idempotent', async () => {
    const schema = schemaName();
    const latest = latestPostgresSchemaVersion();
    const names = loadPostgresMigrations().map((m) => m.name);
    expect(await migrateStore(storeUrl(schema))).toEqual({ from: 0, to: latest, applied: names });
    expect(await migrateStore(storeUrl(schema))).toEqual({ from: latest, to: latest, applied: [] });
    await (await openStore(storeUrl(schema))).close();
  });

  it('migrates regardless of a short statement timeout (it is meant for the store, not for migrations)', async () => {
    const schema = schemaName();
    const result = await migrateStore(storeUrl(schema, 'statementTimeout=1ms'));
    expect(result.to).toBe(latestPostgresSchemaVersion());
    await (await openStore(storeUrl(schema))).close();
  });

  it('lets concurrent migrators apply each migration exactly once', async () => {
    const schema = schemaName();
    const latest = latestPostgresSchemaVersion();
    const results = await Promise.all(Array.from({ length: 6 }, () => migrateStore(storeUrl(schema))));
    // One of them created the schema; the others waited on the advisory lock and found it current.
    expect(results.flatMap((r) => r.applied)).toEqual(loadPostgresMigrations().map((m) => m.name));
    expect(results.filter((r) => r.from === 0)).toHaveLength(1);
    expect(results.every((r) => r.to === latest)).toBe(true);
    expect(await migrationRows(schema)).toEqual(
      loadPostgresMigrations().map((m) => ({ version: m.version, name: m.name })),
    );
  });
});

describe('several processes on one schema', () => {
  it('never lease a message twice: claims from separate pools skip each other’s locked rows', async () => {
    const schema = schemaName();
    const stores = [await newStore(schema), await newStore(schema), await newStore(schema)];
    try {
      await stores[0]?.queueCreate({ queue: queueRecord('orders') });
      const ids = Array.from({ length: 300 }, (_, i) => `m-${String(i).padStart(4, '0')}`);
      await stores[0]?.messageInsertBatch({
        queue: 'orders',
        now: T0,
        messages: ids.map((id) => ({ id, body: id, headers: {}, idempotencyKey: null, visibleAt: T0 })),
      });
      const claimedBy = await Promise.all(
        stores.map(async (store) => {
          const mine: string[] = [];
          for (;;) {
            const batch = await store.messageClaim({
              queue: 'orders',
              limit: 7,
              now: T0,
              leaseMs: 60_000,
              worker: WORKER,
            });
            if (batch.length === 0) return mine;
            mine.push(...batch.map((m) => m.id));
            await store.messageComplete({ items: batch, now: T0 + 1 });
          }
        }),
      );
      const all = claimedBy.flat();
      expect(all).toHaveLength(300);
      expect(new Set(all)).toEqual(new Set(ids));
      const [stats] = (await stores[1]?.queueStats({ now: T0 + 2 })) ?? [];
      expect(stats).toMatchObject({ done: 300, leased: 0, waiting: 0 });
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('hand the leadership over when its holder dies without resigning, once the lease ran out', async () => {
    const schema = schemaName();
    const first = await newStore(schema);
    const second = await newStore(schema);
    try {
      const ttlMs = 15_000;
      expect(await first.leaderAttemptElect({ name: 'maintenance', holder: 'p1', ttlMs, now: T0 })).toBe(
        true,
      );
      await first.close(); // the process dies: no resign
      expect(
        await second.leaderAttemptElect({ name: 'maintenance', holder: 'p2', ttlMs, now: T0 + 5_000 }),
      ).toBe(false);
      expect(
        await second.leaderAttemptElect({ name: 'maintenance', holder: 'p2', ttlMs, now: T0 + ttlMs }),
      ).toBe(true);
    } finally {
      await first.close();
      await second.close();
    }
  });
});
