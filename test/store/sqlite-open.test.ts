// This test builds foreign and outdated SQLite files byte by byte, so it opens them with
// better-sqlite3 directly: it is a test of the SQLite store itself (test/store mirrors src/store).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotAStoreError, SchemaVersionError, ValidationError } from '../../src/core/errors.ts';
import { queueRecord, T0, WORKER } from '../../src/store/conformance/fixtures.ts';
import {
  DEFAULT_STORE_URL,
  migrateStore,
  openStore,
  parseStoreUrl,
  resolveStoreUrl,
} from '../../src/store/open.ts';
import { applyMigrations, latestSchemaVersion, loadMigrations } from '../../src/store/sqlite/migrate.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'deadletter-open-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs SQL on a raw connection, as another program would. */
function withRawDb(path: string, fn: (db: Database.Database) => void): void {
  const db = new Database(path);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

function migrationRows(path: string): { version: number; name: string }[] {
  let rows: { version: number; name: string }[] = [];
  withRawDb(path, (db) => {
    rows = db
      .prepare<[], { version: number; name: string }>('SELECT version, name FROM deadletter_migrations')
      .all();
  });
  return rows;
}

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

describe('openStore on a new database', () => {
  it('initialises a new file with migrate: true, creating parent directories', async () => {
    const path = join(dir, 'nested', 'deeper', 'dl.db');
    const store = await openStore(`sqlite:${path}`, { migrate: true });
    expect(store.location).toBe(`sqlite:${path}`);
    expect(store.capabilities).toEqual({ skipLocked: false, listenNotify: false, singleWriter: true });
    await store.queueCreate({ queue: queueRecord('orders') });
    await store.close();

    expect(migrationRows(path)).toEqual(loadMigrations().map((m) => ({ version: m.version, name: m.name })));
    withRawDb(path, (db) => expect(db.pragma('journal_mode', { simple: true })).toBe('wal'));
    const reopened = await openStore(`sqlite:${path}`);
    expect((await reopened.queueList()).map((q) => q.name)).toEqual(['orders']);
    await reopened.close();
  });

  it('refuses a missing file without migrate, and does not create it', async () => {
    const path = join(dir, 'missing', 'dl.db');
    const error = await rejection(openStore(`sqlite:${path}`), SchemaVersionError);
    expect(error.message).toContain('dlq migrate');
    expect(error.found).toBe(0);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('treats a zero-byte file or a SQLite database without tables as new', async () => {
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    await rejection(openStore(`sqlite:${empty}`), SchemaVersionError);
    await (await openStore(`sqlite:${empty}`, { migrate: true })).close();
    expect(migrationRows(empty)).toHaveLength(latestSchemaVersion());

    const tableless = join(dir, 'tableless.db');
    withRawDb(tableless, (db) => db.pragma('user_version = 7'));
    await rejection(openStore(`sqlite:${tableless}`), SchemaVersionError);
    await (await openStore(`sqlite:${tableless}`, { migrate: true })).close();
    expect(migrationRows(tableless)).toHaveLength(latestSchemaVersion());
  });

  it('opens a private in-memory database with migrate: true', async () => {
    await rejection(openStore('sqlite::memory:'), SchemaVersionError);
    const store = await openStore('sqlite::memory:', { migrate: true });
    expect(store.location).toBe('sqlite::memory:');
    await store.queueCreate({ queue: queueRecord('orders') });
    expect(await store.queueList()).toHaveLength(1);
    await store.close();
  });
});

describe('openStore never touches what is not a Deadletter database', () => {
  it('refuses a file that is not SQLite and leaves its bytes alone', async () => {
    const path = join(dir, 'notes.db');
    const garbage = Buffer.from('these are my notes, not a database\n'.repeat(200));
    writeFileSync(path, garbage);
    for (const attempt of [
      openStore(`sqlite:${path}`),
      openStore(`sqlite:${path}`, { migrate: true }),
      migrateStore(`sqlite:${path}`),
    ]) {
      const error = await rejection(attempt, NotAStoreError);
      expect(error.message).toContain('not a SQLite database');
    }
    expect(readFileSync(path).equals(garbage)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(existsSync(`${path}-journal`)).toBe(false);
  });

  it('refuses a SQLite database of another program and leaves its bytes alone', async () => {
    const path = join(dir, 'app.db');
    withRawDb(path, (db) => {
      db.exec(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada')",
      );
    });
    const before = readFileSync(path);
    for (const attempt of [
      openStore(`sqlite:${path}`),
      openStore(`sqlite:${path}`, { migrate: true }),
      migrateStore(`sqlite:${path}`),
    ]) {
      const error = await rejection(attempt, NotAStoreError);
      expect(error.message).toContain('users');
      expect(error.message).toContain('deadletter_migrations');
    }
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses a directory', async () => {
    await rejection(openStore(`sqlite:${dir}`, { migrate: true }), NotAStoreError);
  });
});

describe('schema versions', () => {
  async function createStoreFile(name: string): Promise<string> {
    const path = join(dir, name);
    await (await openStore(`sqlite:${path}`, { migrate: true })).close();
    return path;
  }

  it('refuses a schema newer than this version knows, and so does migrate', async () => {
    const path = await createStoreFile('newer.db');
    withRawDb(path, (db) => {
      db.prepare("INSERT INTO deadletter_migrations VALUES (999, '0999_future', 0)").run();
    });
    const error = await rejection(openStore(`sqlite:${path}`, { migrate: true }), SchemaVersionError);
    expect(error.message).toContain('created by a newer Deadletter (schema 999');
    expect(error.message).toContain(`this version knows ${latestSchemaVersion()}`);
    expect(error.message).toContain('upgrade');
    expect({ found: error.found, expected: error.expected }).toEqual({
      found: 999,
      expected: latestSchemaVersion(),
    });
    await rejection(migrateStore(`sqlite:${path}`), SchemaVersionError);
  });

  it('refuses an older schema, telling to run dlq migrate, and migrate brings it up', async () => {
    const path = join(dir, 'older.db');
    // The oldest possible Deadletter database: the bookkeeping table, nothing applied yet.
    withRawDb(path, (db) => {
      db.exec(
        'CREATE TABLE deadletter_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at INTEGER)',
      );
    });
    for (const options of [{}, { migrate: true }]) {
      const error = await rejection(openStore(`sqlite:${path}`, options), SchemaVersionError);
      expect(error.message).toContain('`dlq migrate`');
      expect(error.found).toBe(0);
    }
    expect(await migrateStore(`sqlite:${path}`)).toEqual({
      from: 0,
      to: latestSchemaVersion(),
      applied: loadMigrations().map((m) => m.name),
    });
    await (await openStore(`sqlite:${path}`)).close();
  });

  it('applies only the pending migrations, in order, each recorded', async () => {
    const path = await createStoreFile('upgrade.db');
    const latest = latestSchemaVersion();
    const next = {
      version: latest + 1,
      name: '9999_test_owner',
      sql: 'ALTER TABLE queues ADD COLUMN owner TEXT;',
    };
    const db = new Database(path);
    try {
      expect(applyMigrations(db, `sqlite:${path}`, [...loadMigrations(), next])).toEqual({
        from: latest,
        to: latest + 1,
        applied: ['9999_test_owner'],
      });
      expect(applyMigrations(db, `sqlite:${path}`, [...loadMigrations(), next])).toEqual({
        from: latest + 1,
        to: latest + 1,
        applied: [],
      });
    } finally {
      db.close();
    }
    expect(migrationRows(path).map((r) => r.version)).toEqual([
      ...loadMigrations().map((m) => m.version),
      latest + 1,
    ]);
    // This version of Deadletter does not know the test migration: the upgraded file is now "newer".
    await rejection(openStore(`sqlite:${path}`), SchemaVersionError);
  });

  it('migrateStore creates a new database and is idempotent', async () => {
    const path = join(dir, 'sub', 'fresh.db');
    const latest = latestSchemaVersion();
    const names = loadMigrations().map((m) => m.name);
    expect(await migrateStore(`sqlite:${path}`)).toEqual({ from: 0, to: latest, applied: names });
    expect(await migrateStore(`sqlite:${path}`)).toEqual({ from: latest, to: latest, applied: [] });
    await (await openStore(`sqlite:${path}`)).close();
  });
});

describe('several connections to one file', () => {
  it('share the data and never lease a message twice', async () => {
    const path = join(dir, 'shared.db');
    const a = await openStore(`sqlite:${path}`, { migrate: true });
    const b = await openStore(`sqlite:${path}`, { migrate: true });
    try {
      await a.queueCreate({ queue: queueRecord('orders') });
      await b.messageInsertBatch({
        queue: 'orders',
        now: T0,
        messages: Array.from({ length: 10 }, (_, i) => ({
          id: `m-${i}`,
          body: i,
          headers: {},
          idempotencyKey: null,
          visibleAt: T0,
        })),
      });
      const claim = { queue: 'orders', limit: 6, now: T0, leaseMs: 1_000, worker: WORKER };
      const [fromA, fromB] = await Promise.all([a.messageClaim(claim), b.messageClaim(claim)]);
      const ids = [...fromA, ...fromB].map((m) => m.id);
      expect(ids).toHaveLength(10);
      expect(new Set(ids).size).toBe(10);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('store URLs', () => {
  it('parses the accepted forms', () => {
    expect(parseStoreUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', path: ':memory:' });
    expect(parseStoreUrl('sqlite:/var/lib/dl.db')).toEqual({ kind: 'sqlite', path: '/var/lib/dl.db' });
    expect(parseStoreUrl('sqlite:///var/lib/dl.db')).toEqual({ kind: 'sqlite', path: '/var/lib/dl.db' });
    expect(parseStoreUrl('sqlite:./data/dl.db')).toEqual({ kind: 'sqlite', path: resolve('data/dl.db') });
    expect(parseStoreUrl(DEFAULT_STORE_URL)).toEqual({
      kind: 'sqlite',
      path: resolve('.deadletter/deadletter.db'),
    });
  });

  // PostgreSQL URLs are parsed by the PostgreSQL store (test/store/postgres-open.test.ts).
  it('refuses anything else with the accepted forms', async () => {
    for (const url of ['', 'sqlite:', 'mysql://x', './dl.db', 'redis://localhost']) {
      expect(() => parseStoreUrl(url)).toThrow(ValidationError);
      expect(() => parseStoreUrl(url)).toThrow('sqlite::memory:');
    }
  });

  it('resolves the URL from the flag, then DEADLETTER_STORE, then the default', () => {
    expect(resolveStoreUrl('sqlite:/a.db', { DEADLETTER_STORE: 'sqlite:/b.db' })).toBe('sqlite:/a.db');
    expect(resolveStoreUrl(undefined, { DEADLETTER_STORE: 'sqlite:/b.db' })).toBe('sqlite:/b.db');
    expect(resolveStoreUrl(undefined, {})).toBe(DEFAULT_STORE_URL);
    expect(DEFAULT_STORE_URL).toBe('sqlite:./.deadletter/deadletter.db');
  });
});
