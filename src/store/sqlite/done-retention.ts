import type Database from 'better-sqlite3';
import { ATTEMPTS_DELETE_SQL } from './statements.ts';

/**
 * The oldest done messages of a queue up to a cutoff, as rowids: a range of the partial index
 * messages_done_at (queue, done_at) WHERE state = 'done' (migration 0010), read in its order.
 */
export const DONE_PRUNE_SQL =
  'DELETE FROM messages WHERE rowid IN (SELECT rowid FROM messages ' +
  "WHERE queue = @queue AND state = 'done' AND done_at <= @cutoff ORDER BY done_at LIMIT @limit) " +
  // A message received more than once may have failed attempts (message_attempts) to delete too.
  'RETURNING CASE WHEN receives > 1 THEN id END';

/**
 * The deletion of done messages past their queue's done retention, with their failed attempts.
 * Each call is one short `BEGIN IMMEDIATE` transaction of at most `limit` rows, so a worker
 * waiting for the write lock waits for one batch at most. The queue's `done` counter is left as it is: it counts every
 * message that ever succeeded, not the rows still kept.
 */
export class SqliteDoneRetention {
  private readonly prune: Database.Statement<{ queue: string; cutoff: number; limit: number }, string | null>;
  private readonly forgetAttempts: Database.Statement<[messageId: string]>;
  private readonly db: Database.Database;

  constructor(db: Database.Database) {
    this.db = db;
    this.prune = db
      .prepare<{ queue: string; cutoff: number; limit: number }, string | null>(DONE_PRUNE_SQL)
      .pluck(true);
    this.forgetAttempts = db.prepare(ATTEMPTS_DELETE_SQL);
  }

  /** Deletes up to `limit` done messages of `queue` done at or before `cutoff`, oldest first. */
  pruneDone(params: { queue: string; cutoff: number; limit: number }): { deleted: number } {
    const { queue, cutoff, limit } = params;
    if (limit <= 0) return { deleted: 0 };
    const deleted = this.db
      .transaction(() => {
        const retried = this.prune.all({ queue, cutoff, limit });
        for (const id of retried) if (id !== null) this.forgetAttempts.run(id);
        return retried.length;
      })
      .immediate();
    return { deleted };
  }
}
