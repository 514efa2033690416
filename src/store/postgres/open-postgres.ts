import { Client } from 'pg';
import { SchemaVersionError } from '../../core/errors.ts';
import { assertSchemaVersion } from '../sqlite/migrate.ts';
import { clientConfig, createPool } from './connection.ts';
import {
  applyPostgresMigrations,
  foreignSchemaError,
  inspectSchema,
  latestPostgresSchemaVersion,
  type MigrationResult,
} from './migrate.ts';
import { PostgresStore } from './postgres-store.ts';
import type { PostgresTarget } from './postgres-url.ts';

/** Options of {@link openPostgresStore}. */
export interface PostgresOpenOptions {
  /**
   * Initialise a *new* schema: one that does not exist or holds no tables. It never upgrades
   * an existing Deadletter schema (that is `dlq migrate`'s job, done on purpose) and never
   * touches a schema that belongs to something else.
   */
  migrate?: boolean;
}

function uninitialisedError(target: PostgresTarget): SchemaVersionError {
  const latest = latestPostgresSchemaVersion();
  return new SchemaVersionError(
    `no Deadletter schema "${target.schema}" at ${target.location} yet (this version needs schema ${latest}): ` +
      'run `dlq migrate` to create it, or open it with { migrate: true }',
    0,
    latest,
  );
}

/**
 * Opens a PostgreSQL store after checking its schema:
 * - missing or table-less: initialised with `migrate: true`, else `SchemaVersionError`;
 * - a Deadletter schema at the current version: opened;
 * - older: `SchemaVersionError` (run `dlq migrate`); newer: `SchemaVersionError` (upgrade);
 * - tables without `deadletter_migrations`: `NotAStoreError`, schema untouched.
 * A server that cannot be reached fails with `pg`'s own connection error.
 */
export async function openPostgresStore(
  target: PostgresTarget,
  options: PostgresOpenOptions = {},
): Promise<PostgresStore> {
  const pool = createPool(target);
  try {
    const client = await pool.connect();
    try {
      const found = await inspectSchema(client, target.schema);
      if (found.kind === 'foreign') throw foreignSchemaError(target.location, target.schema, found.tables);
      if (found.kind === 'deadletter')
        assertSchemaVersion(found.version, target.location, latestPostgresSchemaVersion());
      else if (options.migrate) await applyPostgresMigrations(client, target.schema, target.location);
      else throw uninitialisedError(target);
    } finally {
      client.release();
    }
    return new PostgresStore(target, pool);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
}

/**
 * Brings the schema of `target` to the current version (creating it if missing), for
 * `dlq migrate`. Refuses schemas that are not Deadletter's and newer schemas. Safe to run from
 * several processes at once (see `applyPostgresMigrations`).
 */
export async function migratePostgresStore(target: PostgresTarget): Promise<MigrationResult> {
  const client = new Client(clientConfig(target));
  // Errors surface through the rejected query; an 'error' event without a listener would throw.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await applyPostgresMigrations(client, target.schema, target.location);
  } finally {
    await client.end().catch(() => undefined);
  }
}
