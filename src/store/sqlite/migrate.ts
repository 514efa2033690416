import { readdirSync, readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { NotAStoreError, SchemaVersionError } from '../../core/errors.ts';

/** One numbered SQL file of `migrations/`, e.g. `0001_init.sql` → version 1, name `0001_init`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const MIGRATION_FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

let cached: Migration[] | undefined;

/**
 * The migrations shipped with this version, in order. Numbers must run 1, 2, 3... without
 * gaps (they are kept in lockstep with the PostgreSQL store).
 */
export function loadMigrations(): Migration[] {
  if (cached) return cached;
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((file) => MIGRATION_FILE.test(file))
    .sort();
  const migrations = files.map((file, index) => {
    const version = Number(file.slice(0, 4));
    if (version !== index + 1) {
      throw new Error(`migration ${file} is out of sequence: expected number ${index + 1}`);
    }
    return {
      version,
      name: file.slice(0, -'.sql'.length),
      sql: readFileSync(new URL(file, MIGRATIONS_DIR), 'utf8'),
    };
  });
  cached = migrations;
  return migrations;
}

/** The schema version this version of Deadletter expects: the highest migration number. */
export function latestSchemaVersion(): number {
  return loadMigrations().length;
}

/**
 * What a SQLite database holds, found by reading only (nothing is written).
 * - `empty`: no tables at all: a new database that may be initialised;
 * - `deadletter`: a Deadletter database at `version`;
 * - `foreign`: tables, but no `deadletter_migrations`: someone else's database.
 */
export type DatabaseKind =
  | { kind: 'empty' }
  | { kind: 'deadletter'; version: number }
  | { kind: 'foreign'; tables: string[] };

/** Reads what kind of database `db` is. Throws `NotAStoreError` if SQLite cannot read it. */
export function inspectDatabase(db: Database.Database, location: string): DatabaseKind {
  let tables: string[];
  try {
    tables = db
      .prepare<[], { name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all()
      .map((row) => row.name);
  } catch (cause) {
    throw new NotAStoreError(`${location} is not a readable SQLite database`, { cause });
  }
  if (tables.length === 0) return { kind: 'empty' };
  if (!tables.includes('deadletter_migrations')) return { kind: 'foreign', tables };
  const row = db
    .prepare<[], { version: number | null }>('SELECT MAX(version) AS version FROM deadletter_migrations')
    .get();
  return { kind: 'deadletter', version: row?.version ?? 0 };
}

/** The error for a database that is not Deadletter's (never touched). */
export function foreignDatabaseError(location: string, tables: string[]): NotAStoreError {
  const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', ...' : '');
  return new NotAStoreError(
    `${location} is a SQLite database of something else (tables: ${shown}; no deadletter_migrations table): ` +
      'point Deadletter at a new file or an existing Deadletter database',
  );
}

/** Throws `SchemaVersionError` unless `version` is exactly the one this version of Deadletter knows. */
export function assertSchemaVersion(version: number, location: string, latest = latestSchemaVersion()): void {
  if (version > latest) {
    throw new SchemaVersionError(
      `${location} was created by a newer Deadletter (schema ${version}, this version knows ${latest}): upgrade Deadletter`,
      version,
      latest,
    );
  }
  if (version < latest) {
    throw new SchemaVersionError(
      version === 0
        ? `${location} has no Deadletter schema yet (this version needs schema ${latest}): run \`dlq migrate\` to initialise it`
        : `${location} has an older schema (schema ${version}, this version needs ${latest}): run \`dlq migrate\``,
      version,
      latest,
    );
  }
}

/** The outcome of {@link applyMigrations}. */
export interface MigrationResult {
  from: number;
  to: number;
  /** Names of the migrations applied, oldest first; empty if the schema was current. */
  applied: string[];
}

/**
 * Applies the pending migrations, each in its own immediate transaction together with its
 * `deadletter_migrations` row. The database's kind is re-read inside each transaction, so
 * two processes migrating the same file at once apply each migration exactly once.
 * Refuses foreign databases (`NotAStoreError`) and newer schemas (`SchemaVersionError`).
 * `migrations` defaults to the shipped ones (tests pass their own to simulate an upgrade).
 */
export function applyMigrations(
  db: Database.Database,
  location: string,
  migrations: Migration[] = loadMigrations(),
): MigrationResult {
  if (migrations.length === 0) throw new Error('no migrations to apply');
  const applied: string[] = [];
  let from: number | undefined;
  for (const migration of migrations) {
    const step = db.transaction(() => {
      const found = inspectDatabase(db, location);
      if (found.kind === 'foreign') throw foreignDatabaseError(location, found.tables);
      const version = found.kind === 'deadletter' ? found.version : 0;
      from ??= version;
      if (version > migrations.length) assertSchemaVersion(version, location, migrations.length);
      if (version >= migration.version) return;
      if (found.kind === 'empty') {
        db.exec(
          'CREATE TABLE deadletter_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
        );
      }
      db.exec(migration.sql);
      db.prepare('INSERT INTO deadletter_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      );
      applied.push(migration.name);
    });
    step.immediate();
  }
  const last = inspectDatabase(db, location);
  const to = last.kind === 'deadletter' ? last.version : 0;
  return { from: from ?? to, to, applied };
}
