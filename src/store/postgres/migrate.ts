import { readdirSync, readFileSync } from 'node:fs';
import type { ClientBase } from 'pg';
import { NotAStoreError } from '../../core/errors.ts';
import { assertSchemaVersion, type Migration, type MigrationResult } from '../sqlite/migrate.ts';
import { quoteIdent } from './connection.ts';

export type { Migration, MigrationResult };

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const MIGRATION_FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

let cached: Migration[] | undefined;

/**
 * The PostgreSQL migrations shipped with this version, in order. Their numbers and names are
 * kept in lockstep with the SQLite store's (a test checks it); where one database needs
 * nothing for a version, its file holds only a comment saying so (a no-op).
 */
export function loadPostgresMigrations(): Migration[] {
  if (cached) return cached;
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((file) => MIGRATION_FILE.test(file))
    .sort();
  cached = files.map((file, index) => {
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
  return cached;
}

/** The schema version this version of Deadletter expects on PostgreSQL. */
export function latestPostgresSchemaVersion(): number {
  return loadPostgresMigrations().length;
}

/**
 * What a schema holds, found by reading only.
 * - `empty`: the schema does not exist or has no tables: it may be initialised;
 * - `deadletter`: a Deadletter schema at `version`;
 * - `foreign`: tables, but no `deadletter_migrations`: someone else's schema, never touched.
 */
export type SchemaKind =
  | { kind: 'empty' }
  | { kind: 'deadletter'; version: number }
  | { kind: 'foreign'; tables: string[] };

/** Reads what kind of schema `schema` is. */
export async function inspectSchema(client: ClientBase, schema: string): Promise<SchemaKind> {
  // Tables, partitioned tables, views, materialized views and foreign tables all count as
  // "something is here"; sequences and indexes belong to one of those.
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY c.relname COLLATE "C"`,
    [schema],
  );
  const tables = rows.map((row) => row.name);
  if (tables.length === 0) return { kind: 'empty' };
  if (!tables.includes('deadletter_migrations')) return { kind: 'foreign', tables };
  const version = await client.query<{ version: number | null }>(
    `SELECT MAX(version) AS version FROM ${quoteIdent(schema)}.deadletter_migrations`,
  );
  return { kind: 'deadletter', version: version.rows[0]?.version ?? 0 };
}

/** The error for a schema that is not Deadletter's (never touched). */
export function foreignSchemaError(location: string, schema: string, tables: string[]): NotAStoreError {
  const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', ...' : '');
  return new NotAStoreError(
    `schema "${schema}" of ${location} belongs to something else (tables: ${shown}; no deadletter_migrations table): ` +
      'choose another schema with ?schema=name, or point Deadletter at an existing Deadletter schema',
  );
}

/**
 * Applies the pending migrations in one transaction under a transaction-scoped advisory lock
 * keyed by the schema name, so concurrent migrators (several processes starting at once) queue
 * up and each migration is applied exactly once. The schema is re-inspected under the lock.
 * Creates the schema if needed. Refuses foreign schemas (`NotAStoreError`) and newer schemas
 * (`SchemaVersionError`). `migrations` defaults to the shipped ones (tests pass their own).
 *
 * PostgreSQL's DDL is transactional, so a failed migration leaves the schema as it was.
 */
export async function applyPostgresMigrations(
  client: ClientBase,
  schema: string,
  location: string,
  migrations: Migration[] = loadPostgresMigrations(),
): Promise<MigrationResult> {
  if (migrations.length === 0) throw new Error('no migrations to apply');
  await client.query('BEGIN');
  try {
    // A migration may build an index over millions of rows, and waiting for another migrator's
    // lock is fine: the store's statement timeout does not apply here (SET LOCAL: this
    // transaction only).
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('deadletter.migrate.' || $1, 0))", [
      schema,
    ]);
    const found = await inspectSchema(client, schema);
    if (found.kind === 'foreign') throw foreignSchemaError(location, schema, found.tables);
    const from = found.kind === 'deadletter' ? found.version : 0;
    if (from > migrations.length) assertSchemaVersion(from, location, migrations.length);
    const ident = quoteIdent(schema);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident}`);
    // The migration files name no schema: they run with search_path set to this one only,
    // for this transaction (SET LOCAL ends with it).
    await client.query(`SET LOCAL search_path TO ${ident}`);
    if (found.kind === 'empty') {
      await client.query(
        'CREATE TABLE deadletter_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
      );
    }
    const applied: string[] = [];
    for (const migration of migrations) {
      if (migration.version <= from) continue;
      await client.query(migration.sql);
      await client.query(
        'INSERT INTO deadletter_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
        [migration.version, migration.name, Date.now()],
      );
      applied.push(migration.name);
    }
    await client.query('COMMIT');
    return { from, to: migrations.length, applied };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
