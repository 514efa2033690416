import { quoteIdent } from './connection.ts';
import { QUEUE_COLUMNS } from './statements.ts';

/**
 * The columns of `queues` the store reads since migration 0010: those of QUEUE_COLUMNS
 * (statements.ts) plus the done retention. Named, never `*` (see QUEUE_COLUMNS).
 */
export const QUEUE_COLUMNS_WITH_DONE_RETENTION = `${QUEUE_COLUMNS}, done_retention_ms`;

/** The statements on `queues` of the PostgreSQL store, for a schema. */
export function queueStatements(schema: string) {
  const s = quoteIdent(schema);
  const columns = QUEUE_COLUMNS_WITH_DONE_RETENTION;
  return {
    insert:
      `INSERT INTO ${s}.queues (${columns}) ` +
      'VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10) ON CONFLICT (name) DO NOTHING ' +
      `RETURNING ${columns}`,
    // A patch field left out is passed as NULL: no setting is nullable, so NULL means "keep".
    update:
      `UPDATE ${s}.queues SET max_receives = COALESCE($2, max_receives), ` +
      'visibility_timeout_ms = COALESCE($3, visibility_timeout_ms), backoff = COALESCE($4::jsonb, backoff), ' +
      'dead_letter = COALESCE($5, dead_letter), retention_days = COALESCE($6, retention_days), ' +
      'replay_limit = COALESCE($8, replay_limit), done_retention_ms = COALESCE($9, done_retention_ms), ' +
      `updated_at = $7 WHERE name = $1 RETURNING ${columns}`,
    get: `SELECT ${columns} FROM ${s}.queues WHERE name = $1`,
    /** The queue, locked until the end of the caller's transaction (an audited update reads it first). */
    getForUpdate: `SELECT ${columns} FROM ${s}.queues WHERE name = $1 FOR UPDATE`,
    list: `SELECT ${columns} FROM ${s}.queues ORDER BY name`,
  };
}

export type QueueStatements = ReturnType<typeof queueStatements>;
