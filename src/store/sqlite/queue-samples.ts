import type Database from 'better-sqlite3';
import type { QueueSample } from '../store.ts';

interface QueueSampleRow {
  queue: string;
  at: number;
  depth: number;
  inflow: number;
  dead_total: number;
}

/** The `queue_samples` statements of one connection (the dashboard's time series), prepared once. */
export class SqliteQueueSamples {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[QueueSampleRow]>;
  private readonly range: Database.Statement<[string, number, number], QueueSampleRow>;
  private readonly deleteBefore: Database.Statement<[number]>;

  constructor(db: Database.Database) {
    this.db = db;
    this.insert = db.prepare(
      `INSERT INTO queue_samples (queue, at, depth, inflow, dead_total)
       VALUES (@queue, @at, @depth, @inflow, @dead_total) ON CONFLICT (queue, at) DO NOTHING`,
    );
    this.range = db.prepare('SELECT * FROM queue_samples WHERE queue = ? AND at >= ? AND at < ? ORDER BY at');
    this.deleteBefore = db.prepare('DELETE FROM queue_samples WHERE at < ?');
  }

  insertAll(samples: QueueSample[]): void {
    if (samples.length === 0) return;
    this.db
      .transaction(() => {
        for (const s of samples) {
          this.insert.run({
            queue: s.queue,
            at: s.at,
            depth: s.depth,
            inflow: s.inflow,
            dead_total: s.deadTotal,
          });
        }
      })
      .immediate();
  }

  list(params: { queue: string; since?: number; until?: number }): QueueSample[] {
    return this.range
      .all(params.queue, params.since ?? Number.MIN_SAFE_INTEGER, params.until ?? Number.MAX_SAFE_INTEGER)
      .map((row) => ({
        queue: row.queue,
        at: row.at,
        depth: row.depth,
        inflow: row.inflow,
        deadTotal: row.dead_total,
      }));
  }

  deleteOlder(before: number): number {
    return this.db.transaction(() => this.deleteBefore.run(before).changes).immediate();
  }
}
