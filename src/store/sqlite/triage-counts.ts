import type Database from 'better-sqlite3';

/**
 * Dead letters of a queue that died in a window and are still in the DLQ: a range of the
 * (queue, died_at, id) index.
 */
export const COUNT_DIED_DEAD_SQL =
  'SELECT COUNT(*) AS n FROM dead_letters WHERE replayed = 0 AND queue = ? AND died_at >= ? AND died_at < ?';

/**
 * Those replayed since: a dead letter is replayed after it died, so `replayed_at >= since`
 * bounds the walk of the (queue, replayed_at) index to the window and what came after it.
 */
export const COUNT_DIED_REPLAYED_SQL =
  'SELECT COUNT(*) AS n FROM replayed_dead_letters WHERE queue = ? AND replayed_at >= ? AND died_at >= ? AND died_at < ?';

/** Those discarded since, bounded the same way on the (queue, discarded_at) index. */
export const COUNT_DIED_DISCARDED_SQL =
  'SELECT COUNT(*) AS n FROM tombstones WHERE queue = ? AND discarded_at >= ? AND died_at >= ? AND died_at < ?';

/**
 * Dead letters at their queue's replay limit. Only a message that came back from a replay has
 * `replay_count > 0`, and exactly those have a `previous_id`: the walk reads the small partial
 * index `dead_letters_previous`, never the whole DLQ.
 */
export const AT_REPLAY_LIMIT_SQL =
  'SELECT d.queue AS queue, COUNT(*) AS n FROM dead_letters d INDEXED BY dead_letters_previous ' +
  'JOIN queues q ON q.name = d.queue WHERE d.previous_id IS NOT NULL AND d.replayed = 0 ' +
  'AND d.replay_count >= q.replay_limit GROUP BY d.queue ORDER BY d.queue';

/** Replays out of a queue's DLQ in a window, per actor: a range of the (queue, replayed_at) index. */
export const REPLAYED_BY_SQL =
  'SELECT replayed_by AS actor, COUNT(*) AS n FROM dead_letter_replays WHERE queue = ? AND replayed_at >= ? ' +
  'AND replayed_at < ? GROUP BY replayed_by ORDER BY n DESC, actor';

/** Discards from a queue's DLQ in a window, per actor and reason: a range of the (queue, discarded_at) index. */
export const DISCARDED_BY_SQL =
  'SELECT actor, reason, COUNT(*) AS n FROM tombstones WHERE queue = ? AND discarded_at >= ? AND discarded_at < ? ' +
  'GROUP BY actor, reason ORDER BY n DESC, actor, reason';

const AT_REPLAY_LIMIT_SAMPLE_SQL =
  'SELECT d.id AS id FROM dead_letters d INDEXED BY dead_letters_previous ' +
  'JOIN queues q ON q.name = d.queue WHERE d.previous_id IS NOT NULL AND d.replayed = 0 AND d.queue = ? ' +
  'AND d.replay_count >= q.replay_limit ORDER BY d.died_at DESC, d.id DESC LIMIT ?';

/** Read-only counts for `dlq review` and `dlq doctor`, on SQLite. */
export class SqliteTriageCounts {
  private readonly db: Database.Database;
  private readonly died: Database.Statement<[string, number, number], { n: number }>;
  private readonly diedReplayed: Database.Statement<[string, number, number, number], { n: number }>;
  private readonly diedDiscarded: Database.Statement<[string, number, number, number], { n: number }>;
  private readonly atLimit: Database.Statement<[], { queue: string; n: number }>;
  private readonly atLimitSample: Database.Statement<[string, number], { id: string }>;
  private readonly replayedBy: Database.Statement<[string, number, number], { actor: string; n: number }>;
  private readonly discardedBy: Database.Statement<
    [string, number, number],
    { actor: string; reason: string; n: number }
  >;

  constructor(db: Database.Database) {
    this.db = db;
    this.died = db.prepare(COUNT_DIED_DEAD_SQL);
    this.diedReplayed = db.prepare(COUNT_DIED_REPLAYED_SQL);
    this.diedDiscarded = db.prepare(COUNT_DIED_DISCARDED_SQL);
    this.atLimit = db.prepare(AT_REPLAY_LIMIT_SQL);
    this.atLimitSample = db.prepare(AT_REPLAY_LIMIT_SAMPLE_SQL);
    this.replayedBy = db.prepare(REPLAYED_BY_SQL);
    this.discardedBy = db.prepare(DISCARDED_BY_SQL);
  }

  countDied(params: { queue: string; since: number; until: number }): {
    dead: number;
    replayed: number;
    discarded: number;
  } {
    const { queue, since, until } = params;
    // One read transaction: a dead letter replayed or discarded meanwhile is counted once.
    return this.db.transaction(() => ({
      dead: this.died.get(queue, since, until)?.n ?? 0,
      replayed: this.diedReplayed.get(queue, since, since, until)?.n ?? 0,
      discarded: this.diedDiscarded.get(queue, since, since, until)?.n ?? 0,
    }))();
  }

  countOutcomes(params: { queue: string; since: number; until: number }): {
    replayed: { actor: string; count: number }[];
    discarded: { actor: string; reason: string; count: number }[];
  } {
    const { queue, since, until } = params;
    return this.db.transaction(() => ({
      replayed: this.replayedBy.all(queue, since, until).map((r) => ({ actor: r.actor, count: r.n })),
      discarded: this.discardedBy
        .all(queue, since, until)
        .map((r) => ({ actor: r.actor, reason: r.reason, count: r.n })),
    }))();
  }

  listAtReplayLimit(sampleSize: number): { queue: string; count: number; sampleIds: string[] }[] {
    return this.db.transaction(() =>
      this.atLimit.all().map((row) => ({
        queue: row.queue,
        count: row.n,
        sampleIds: sampleSize > 0 ? this.atLimitSample.all(row.queue, sampleSize).map((r) => r.id) : [],
      })),
    )();
  }
}
