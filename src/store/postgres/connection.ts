import { type ClientConfig, DatabaseError, Pool, TypeOverrides } from 'pg';
import type { PostgresTarget } from './postgres-url.ts';

/** OID of PostgreSQL's `bigint` (int8). */
const INT8_OID = 20;

/**
 * Type parsers of the store's own connections. `bigint` comes back as a JS number: every
 * bigint here is an epoch-millisecond time or a count, far below 2^53. The overrides are per
 * connection, never `pg.types` globally, so an application's own `pg` use is unaffected.
 */
function storeTypes(): TypeOverrides {
  const types = new TypeOverrides();
  types.setTypeParser(INT8_OID, Number);
  return types;
}

/** Quotes an identifier for SQL (`"name"`); schema names are validated before they get here. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The `pg` client settings for a target: its connection string (without Deadletter's own
 * parameters), the statement timeout, TCP keepalives (a peer that vanished without a FIN is
 * noticed in seconds, not the OS default of two hours) and the store's type parsers.
 */
export function clientConfig(target: PostgresTarget): ClientConfig {
  return {
    connectionString: target.connectionString,
    statement_timeout: target.statementTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    fallback_application_name: 'deadletter',
    types: storeTypes(),
  };
}

/** The store's connection pool. */
export function createPool(target: PostgresTarget): Pool {
  const pool = new Pool({ ...clientConfig(target), max: target.poolSize, idleTimeoutMillis: 30_000 });
  // An idle pooled connection that breaks (server restart, network) emits 'error' on the pool;
  // unhandled, that would crash the process. pg already drops the broken connection, and the
  // next query opens a new one, so there is nothing to do here.
  pool.on('error', () => undefined);
  return pool;
}

/** Whether `error` is PostgreSQL's `unique_violation`, optionally on the named constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): error is DatabaseError {
  return (
    error instanceof DatabaseError &&
    error.code === '23505' &&
    (constraint === undefined || error.constraint === constraint)
  );
}

/**
 * Whether `error` is PostgreSQL's `deadlock_detected`: the server aborted this transaction to
 * let another go on. Nothing of it was applied, so it may simply be run again.
 */
export function isDeadlock(error: unknown): boolean {
  return error instanceof DatabaseError && error.code === '40P01';
}
