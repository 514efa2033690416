// Helpers of the PostgreSQL store tests. They reach the server with `pg` directly, to create
// what another program would (foreign tables, old schemas), kill connections and drop schemas:
// these are tests of the PostgreSQL store itself (test/store mirrors src/store).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The test server: the machine's PostgreSQL unless `DEADLETTER_TEST_POSTGRES` says otherwise. */
export const POSTGRES_URL = process.env.DEADLETTER_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A new schema name, unique to this process and call: `<prefix>_<pid>_<random>`. */
export function tempSchema(prefix = 'dltest'): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** The store URL of `schema` on the test server, with more `&`-separated parameters if given. */
export function storeUrl(schema: string, extra = ''): string {
  return `${POSTGRES_URL}?schema=${schema}${extra === '' ? '' : `&${extra}`}`;
}

/** Runs `fn` on a connection of its own to the test server, closed afterwards. */
export async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Seeds a migrated schema straight with SQL (a store would take minutes): four queues q0-q3 and
 * `done` done messages spread over them, ids `done-00000001`… done one after the other from `t0`.
 */
export async function seedQueuesAndDoneMessages(
  client: pg.Client,
  schema: string,
  t0: number,
  done: number,
): Promise<void> {
  const s = `"${schema}"`;
  await client.query(
    `INSERT INTO ${s}.queues (name, max_receives, visibility_timeout_ms, backoff, dead_letter, retention_days, created_at, updated_at)
     SELECT 'q' || i, 5, 30000, '{"type":"fixed","delayMs":0}', true, 14, $1::bigint, $1::bigint FROM generate_series(0, 3) i`,
    [t0],
  );
  await client.query(
    `INSERT INTO ${s}.messages (id, queue, state, body, headers, enqueued_at, visible_at, receives, done_at)
     SELECT 'done-' || lpad(i::text, 8, '0'), 'q' || (i % 4), 'done', '{"n":1}', '{}', $1::bigint + i, $1::bigint + i, 1, $1::bigint + i + 1
     FROM generate_series(1, $2::int) i`,
    [t0, done],
  );
}

/** Drops schemas and everything in them; missing ones are fine. */
export async function dropSchemas(...schemas: string[]): Promise<void> {
  if (schemas.length === 0) return;
  await withClient((client) =>
    client.query(`DROP SCHEMA IF EXISTS ${schemas.map((s) => `"${s}"`).join(', ')} CASCADE`),
  );
}

/**
 * Empties every table of a Deadletter schema but its migration bookkeeping: the schema is as
 * new, without the cost of creating it again. DELETE, not TRUNCATE: a test leaves a few rows,
 * and TRUNCATE makes new files for every table and index (about 0.1 s for this schema).
 */
export async function emptySchema(schema: string): Promise<void> {
  await withClient(async (client) => {
    const { rows } = await client.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 AND tablename <> 'deadletter_migrations'",
      [schema],
    );
    await client.query(rows.map((r) => `DELETE FROM "${schema}"."${r.name}";`).join('\n'));
  });
}
