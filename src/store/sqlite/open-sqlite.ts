import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { NotAStoreError, SchemaVersionError } from '../../core/errors.ts';
import { Checkpointer, WRITER_AUTOCHECKPOINT_PAGES } from './checkpointer.ts';
import {
  applyMigrations,
  assertSchemaVersion,
  foreignDatabaseError,
  inspectDatabase,
  latestSchemaVersion,
  type MigrationResult,
} from './migrate.ts';
import { SqliteStore } from './sqlite-store.ts';

/** The path that opens a private in-memory database (gone when the store closes). */
export const MEMORY = ':memory:';

/** How long a connection waits for another one's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;

/** The page cache of a read-write connection, in KiB. */
const PAGE_CACHE_KIB = 4_096;

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** What is at a path before anything is opened. */
type FileState = 'missing' | 'empty' | 'sqlite';

/**
 * Looks at a path without opening it as a database, so that a file that is not SQLite is
 * never handed to SQLite (which could otherwise write a journal or a WAL next to it).
 */
function fileState(path: string): FileState {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new NotAStoreError(`${path} is not a file: point the store at a database file`);
    size = stat.size;
  } catch (cause) {
    if (cause instanceof NotAStoreError) throw cause;
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw new NotAStoreError(`cannot read ${path}`, { cause });
  }
  if (size === 0) return 'empty';
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!header.equals(SQLITE_HEADER)) {
    throw new NotAStoreError(
      `${path} is not a SQLite database, so not a Deadletter store; it was left untouched: ` +
        'point the store at a new file or at an existing Deadletter database',
    );
  }
  return 'sqlite';
}

function uninitialisedError(location: string): SchemaVersionError {
  const latest = latestSchemaVersion();
  return new SchemaVersionError(
    `no Deadletter database at ${location} yet (this version needs schema ${latest}): ` +
      'run `dlq migrate` to create it, or open it with { migrate: true }',
    0,
    latest,
  );
}

/** Reads what an existing file holds through a read-only connection (it cannot write). */
function inspectFile(path: string, location: string): ReturnType<typeof inspectDatabase> {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  } catch (cause) {
    throw new NotAStoreError(`${location} cannot be opened as a SQLite database`, { cause });
  }
  try {
    return inspectDatabase(db, location);
  } finally {
    db.close();
  }
}

/** A read-write connection with Deadletter's settings. */
function connect(path: string): Database.Database {
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  if (path !== MEMORY) {
    // WAL: readers never block the writer and a commit is one append. It is a property of
    // the file, so it is only set once the file is known to be (or become) a Deadletter store.
    db.pragma('journal_mode = WAL');
  }
  // NORMAL in WAL mode: a power loss may lose the last commits, never corrupt the database.
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // Temporary tables in memory: every claim (UPDATE … RETURNING, rowid IN (…)) and many list
  // queries build a small ephemeral table, which this build of SQLite otherwise backs with a
  // temporary file, created and unlinked each time. Our queries are index-backed, so these stay
  // small.
  db.pragma('temp_store = MEMORY');
  // A 4 MiB page cache instead of this build's 16 MiB: the pipeline bench runs as fast with it
  // (pages it misses come from the OS page cache) and its peak RSS is about 15 MB lower.
  db.pragma(`cache_size = ${-PAGE_CACHE_KIB}`);
  return db;
}

function locationOf(path: string): string {
  return `sqlite:${path}`;
}

/** Options of {@link openSqliteStore}. */
export interface SqliteOpenOptions {
  /**
   * Initialise a *new* database: a missing file, a zero-byte file or a SQLite database with
   * no tables at all. It never upgrades an existing Deadletter database (that is
   * `dlq migrate`'s job, done on purpose) and never touches someone else's database.
   */
  migrate?: boolean;
}

/**
 * Opens a SQLite store at an absolute `path` (or {@link MEMORY}) after checking its schema:
 * - missing, empty or table-less: initialised with `migrate: true`, else `SchemaVersionError`;
 * - a Deadletter database at the current schema: opened;
 * - older schema: `SchemaVersionError` (run `dlq migrate`); newer: `SchemaVersionError` (upgrade);
 * - not SQLite, or SQLite without `deadletter_migrations`: `NotAStoreError`, file untouched.
 */
export function openSqliteStore(path: string, options: SqliteOpenOptions = {}): SqliteStore {
  const location = locationOf(path);
  const state = path === MEMORY ? 'missing' : fileState(path);
  if (state !== 'missing') {
    const found = inspectFile(path, location);
    if (found.kind === 'foreign') throw foreignDatabaseError(location, found.tables);
    if (found.kind === 'deadletter') assertSchemaVersion(found.version, location);
    else if (!options.migrate) throw uninitialisedError(location);
  } else if (!options.migrate) {
    throw uninitialisedError(location);
  } else if (path !== MEMORY) {
    mkdirSync(dirname(path), { recursive: true });
  }
  const db = connect(path);
  try {
    // Re-checked on the writable connection: another process may have changed the file in
    // between. applyMigrations re-reads the schema inside its immediate transaction.
    const found = inspectDatabase(db, location);
    if (found.kind === 'deadletter') assertSchemaVersion(found.version, location);
    else if (options.migrate) applyMigrations(db, location);
    else throw uninitialisedError(location);
    if (path === MEMORY) return new SqliteStore(db, location);
    // Checkpoints run on a thread of their own (see Checkpointer); the writer's autocheckpoint
    // stays as a safety net.
    db.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT_PAGES}`);
    return new SqliteStore(db, location, new Checkpointer(path));
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Brings the database at `path` to the current schema (creating it if missing), for
 * `dlq migrate`. Refuses files that are not Deadletter databases and newer schemas.
 */
export function migrateSqliteStore(path: string): MigrationResult {
  const location = locationOf(path);
  const state = path === MEMORY ? 'missing' : fileState(path);
  if (state === 'sqlite') {
    const found = inspectFile(path, location);
    if (found.kind === 'foreign') throw foreignDatabaseError(location, found.tables);
    if (found.kind === 'deadletter' && found.version > latestSchemaVersion()) {
      assertSchemaVersion(found.version, location);
    }
  } else if (state === 'missing' && path !== MEMORY) {
    mkdirSync(dirname(path), { recursive: true });
  }
  const db = connect(path);
  try {
    return applyMigrations(db, location);
  } finally {
    db.close();
  }
}
