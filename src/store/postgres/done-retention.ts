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
    `WITH doomed AS (SELECT id FROM ${s}.messages WHERE queue = $1 AND state = 'done' AND done_at <= $2 ` +
    'ORDER BY done_at LIMIT $3), ' +
    `gone AS (DELETE FROM ${s}.messages m USING doomed d WHERE m.id = d.id AND m.state = 'done' RETURNING m.id), ` +
    `forgotten AS (DELETE FROM ${s}.message_attempts a USING gone g WHERE a.message_id = g.id) ` +
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
