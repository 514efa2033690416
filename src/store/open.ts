import { resolve } from 'node:path';
import { ValidationError } from '../core/errors.ts';
import { isPostgresUrl, type PostgresTarget, parsePostgresUrl } from './postgres/postgres-url.ts';
import type { MigrationResult } from './sqlite/migrate.ts';
import { MEMORY, migrateSqliteStore, openSqliteStore } from './sqlite/open-sqlite.ts';
import type { Store } from './store.ts';

/** Where the store lives when neither `--store` nor `DEADLETTER_STORE` says otherwise. */
export const DEFAULT_STORE_URL = 'sqlite:./.deadletter/deadletter.db';

const ACCEPTED_FORMS =
  'use sqlite:./relative/path.db, sqlite:/absolute/path.db, sqlite::memory: or ' +
  'postgres://user@host:port/db?schema=name&pool=10&statementTimeout=30s';

/** A parsed store URL. */
export type StoreTarget = { kind: 'sqlite'; path: string } | ({ kind: 'postgres' } & PostgresTarget);

/**
 * Parses a store URL. Relative SQLite paths are resolved against the current directory;
 * `sqlite::memory:` keeps the path `:memory:`. `postgres://` and `postgresql://` URLs take
 * Deadletter's own parameters `schema` (default `deadletter`), `pool` (default 10) and
 * `statementTimeout` (default 30s, 0 disables); other parameters go to the driver.
 * Throws `ValidationError` for anything else.
 */
export function parseStoreUrl(url: string): StoreTarget {
  const text = url.trim();
  if (isPostgresUrl(text)) return { kind: 'postgres', ...parsePostgresUrl(text) };
  if (text.startsWith('sqlite:')) {
    const rest = text.slice('sqlite:'.length);
    if (rest === MEMORY) return { kind: 'sqlite', path: MEMORY };
    // Tolerate sqlite:///abs/path.db and sqlite://./rel.db, which people type by habit.
    const path = rest.startsWith('//') ? rest.slice(2) : rest;
    if (path.length > 0 && path !== MEMORY) return { kind: 'sqlite', path: resolve(path) };
  }
  throw new ValidationError(`invalid store URL "${url}": ${ACCEPTED_FORMS}`);
}

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /**
   * Initialise a new database (a missing file, or one without any table; on PostgreSQL a
   * missing or empty schema). An existing Deadletter database with an older schema is never
   * upgraded here: that needs `dlq migrate` ({@link migrateStore}). Default false.
   */
  migrate?: boolean;
}

// The PostgreSQL store is loaded on first use, so SQLite users never load `pg`.
const loadPostgres = () => import('./postgres/open-postgres.ts');

/**
 * Opens the store at `url` and checks its schema. Throws `ValidationError` for a bad URL,
 * `SchemaVersionError` for an uninitialised (without `migrate`), older or newer schema, and
 * `NotAStoreError` for a file or PostgreSQL schema that is not Deadletter's (left untouched).
 * Parent directories of a new SQLite file are created.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const target = parseStoreUrl(url);
  if (target.kind === 'postgres') return (await loadPostgres()).openPostgresStore(target, options);
  return openSqliteStore(target.path, options);
}

/**
 * Applies pending migrations to the store at `url` (creating it if new), for `dlq migrate`.
 * `from`/`to` are schema versions (0 for a new database); `applied` names the migrations run.
 */
export async function migrateStore(url: string): Promise<MigrationResult> {
  const target = parseStoreUrl(url);
  if (target.kind === 'postgres') return (await loadPostgres()).migratePostgresStore(target);
  return migrateSqliteStore(target.path);
}

/** The store URL to use: the `--store` flag, else `DEADLETTER_STORE`, else {@link DEFAULT_STORE_URL}. */
export function resolveStoreUrl(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined && flag.trim() !== '') return flag;
  const fromEnv = env.DEADLETTER_STORE;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv;
  return DEFAULT_STORE_URL;
}
