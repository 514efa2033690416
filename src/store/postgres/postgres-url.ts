import { parseDuration } from '../../core/duration.ts';
import { ValidationError } from '../../core/errors.ts';

/** The schema a PostgreSQL store lives in when the URL names none. */
export const DEFAULT_SCHEMA = 'deadletter';
/** Connections in the pool when the URL does not say (`pool=`). */
export const DEFAULT_POOL_SIZE = 10;
/** Statement timeout when the URL does not say (`statementTimeout=`): 30 s. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

/**
 * Longest schema name accepted. The notification channel is `deadletter_<schema>` and
 * PostgreSQL identifiers stop at 63 bytes, so the schema must leave room for the prefix.
 */
export const MAX_SCHEMA_LENGTH = 48;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;
const MAX_POOL_SIZE = 1_000;

/** A parsed `postgres://` store URL. */
export interface PostgresTarget {
  /** The URL without Deadletter's own parameters, as handed to `pg`. */
  connectionString: string;
  /** The schema holding Deadletter's tables (a lowercase identifier, never quoted away). */
  schema: string;
  /** Maximum connections of the store's pool (the listener has one more of its own). */
  poolSize: number;
  /** `statement_timeout` of every pooled connection in milliseconds; 0 disables it. */
  statementTimeoutMs: number;
  /** The URL for logs and `--json`: password hidden, schema always shown. */
  location: string;
}

/** Whether `url` is a PostgreSQL URL (`postgres://` or `postgresql://`). */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url.trim());
}

/**
 * Throws `ValidationError` unless `schema` is a name Deadletter accepts: lowercase letters,
 * digits and underscores, not starting with a digit, at most {@link MAX_SCHEMA_LENGTH}
 * characters, and not `pg_...` (reserved by PostgreSQL). Keeping to unquoted-identifier
 * spelling means the name reads the same in `psql` as in the URL.
 */
export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema) || schema.length > MAX_SCHEMA_LENGTH || schema.startsWith('pg_')) {
    throw new ValidationError(
      `invalid schema name "${schema}": use lowercase letters, digits and _ (not starting with a digit ` +
        `or pg_), at most ${MAX_SCHEMA_LENGTH} characters`,
    );
  }
}

/** Takes Deadletter's own parameter `name` out of `params`; at most once. */
function takeParam(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  params.delete(name);
  if (values.length > 1) throw new ValidationError(`store URL parameter "${name}" is given twice`);
  return values[0];
}

function parsePoolSize(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_POOL_SIZE) {
    throw new ValidationError(`invalid pool size "${text}": use a whole number from 1 to ${MAX_POOL_SIZE}`);
  }
  return n;
}

/**
 * Parses `postgres://user:password@host:port/db?schema=name&pool=10&statementTimeout=30s`
 * (also `postgresql://`). Deadletter's parameters (`schema`, `pool`, `statementTimeout`) are
 * taken out; every other parameter (`sslmode`, `application_name`, ...) stays for `pg`.
 * Throws `ValidationError` for a malformed URL or a bad parameter.
 */
export function parsePostgresUrl(url: string): PostgresTarget {
  const text = url.trim();
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch (cause) {
    throw new ValidationError(`invalid PostgreSQL URL "${redact(text)}"`, { cause });
  }
  if (!/^postgres(ql)?:$/i.test(parsed.protocol)) {
    throw new ValidationError(`invalid PostgreSQL URL "${redact(text)}": use postgres://user@host:port/db`);
  }
  const schema = takeParam(parsed.searchParams, 'schema') ?? DEFAULT_SCHEMA;
  assertSchemaName(schema);
  const pool = takeParam(parsed.searchParams, 'pool');
  const timeout = takeParam(parsed.searchParams, 'statementTimeout');
  const connectionString = parsed.toString();

  const shown = new URL(connectionString);
  if (shown.password !== '') shown.password = '***';
  shown.searchParams.set('schema', schema);
  return {
    connectionString,
    schema,
    poolSize: pool === undefined ? DEFAULT_POOL_SIZE : parsePoolSize(pool),
    statementTimeoutMs:
      timeout === undefined ? DEFAULT_STATEMENT_TIMEOUT_MS : parseDuration(timeout, 'statementTimeout'),
    location: shown.toString(),
  };
}

/** `url` with any password replaced, for error messages. */
function redact(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}
