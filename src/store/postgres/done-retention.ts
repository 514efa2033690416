import { quoteIdent } from './connection.ts';
import type { PgDb } from './db.ts';

/**
 * The deletion statement of {@link PostgresDoneRetention}: the oldest done messages of a queue
 * up to a cutoff, found on the partial index messages_done_at (queue, done_at) WHERE
 * state = 'done' (migration 0010), deleted with their failed attempts (message_attempts).
 */
export function donePruneSql(schema: string): string {
  const s = quoteIdent(schema);
  return (
    // The ids as an array: the deletion probes the primary key per id, where a join with the
    // batch would be planned as a hash join over a scan of every done row (5,000 ids expected).
    `WITH gone AS (DELETE FROM ${s}.messages WHERE id = ANY (ARRAY(SELECT id FROM ${s}.messages ` +
    "WHERE queue = $1 AND state = 'done' AND done_at <= $2 ORDER BY done_at LIMIT $3)) AND state = 'done' " +
    'RETURNING id), ' +
    `forgotten AS (DELETE FROM ${s}.message_attempts WHERE message_id = ANY (ARRAY(SELECT id FROM gone))) ` +
    'SELECT count(*)::int AS deleted FROM gone'
  );
}

/**
 * The deletion of done messages past their queue's done retention: one statement (its own
 * short transaction) per batch of at most `limit` rows. Done rows are final, so no lock is
 * taken on live messages; the queue's `done` counter is left as it is.
 */
export class PostgresDoneRetention {
  private readonly sql: string;

  constructor(
    private readonly db: PgDb,
    schema: string,
  ) {
    this.sql = donePruneSql(schema);
  }

  /** Deletes up to `limit` done messages of `queue` done at or before `cutoff`, oldest first. */
  async pruneDone(params: { queue: string; cutoff: number; limit: number }): Promise<{ deleted: number }> {
    const { queue, cutoff, limit } = params;
    if (limit <= 0) return { deleted: 0 };
    const { rows } = await this.db.query<{ deleted: number }>('done_prune', this.sql, [queue, cutoff, limit]);
    return { deleted: rows[0]?.deleted ?? 0 };
  }
}
