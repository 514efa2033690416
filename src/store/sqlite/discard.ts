import type Database from 'better-sqlite3';
import type { Tombstone } from '../../core/discard.ts';
import type { Tier } from '../../core/tier.ts';
import type { SqliteAuditLog } from './audit.ts';

interface TombstoneRow {
  id: string;
  queue: string;
  group_id: string;
  tier: Tier;
  reason: string;
  actor: string;
  died_at: number;
  discarded_at: number;
}

/** A dead letter as it leaves the DLQ: what its tombstone, the counters and its group need. */
interface RemovedRow {
  id: string;
  queue: string;
  group_id: string;
  tier: Tier;
  died_at: number;
}

/**
 * Discard and tombstones on SQLite. A discard is one immediate transaction: each row is
 * deleted with `DELETE ... RETURNING`, so a dead letter that another process replayed (or
 * discarded) a moment before is simply not found, never deleted or counted twice.
 */
export class SqliteDiscard {
  private readonly db: Database.Database;
  private readonly audit: SqliteAuditLog;
  private readonly remove: Database.Statement<[string], RemovedRow>;
  private readonly tombstoneInsert: Database.Statement<TombstoneRow>;
  private readonly tombstoneSelect: Database.Statement<[string], TombstoneRow>;
  private readonly countersDiscard: Database.Statement<[number, number, string]>;
  private readonly groupDeadCountSubtract: Database.Statement<[number, string]>;

  constructor(db: Database.Database, audit: SqliteAuditLog) {
    this.db = db;
    this.audit = audit;
    this.remove = db.prepare(
      'DELETE FROM dead_letters WHERE id = ? AND replayed = 0 RETURNING id, queue, group_id, tier, died_at',
    );
    this.tombstoneInsert = db.prepare(
      'INSERT INTO tombstones (id, queue, group_id, tier, reason, actor, died_at, discarded_at) ' +
        'VALUES (@id, @queue, @group_id, @tier, @reason, @actor, @died_at, @discarded_at)',
    );
    this.tombstoneSelect = db.prepare('SELECT * FROM tombstones WHERE id = ?');
    this.countersDiscard = db.prepare(
      'UPDATE queue_counters SET dead = dead - ?, discarded = discarded + ? WHERE queue = ?',
    );
    this.groupDeadCountSubtract = db.prepare('UPDATE groups SET dead_count = dead_count - ? WHERE id = ?');
  }

  discard(params: { ids: string[]; reason: string; actor: string; now: number }): {
    discarded: string[];
    missing: string[];
  } {
    if (params.ids.length === 0) return { discarded: [], missing: [] };
    return this.db
      .transaction(() => {
        const discarded: string[] = [];
        const missing: string[] = [];
        const byQueue = new Map<string, string[]>();
        const byGroup = new Map<string, number>();
        for (const id of new Set(params.ids)) {
          const row = this.remove.get(id);
          if (!row) {
            missing.push(id);
            continue;
          }
          this.tombstoneInsert.run({
            ...row,
            reason: params.reason,
            actor: params.actor,
            discarded_at: params.now,
          });
          discarded.push(id);
          byQueue.set(row.queue, [...(byQueue.get(row.queue) ?? []), id]);
          byGroup.set(row.group_id, (byGroup.get(row.group_id) ?? 0) + 1);
        }
        for (const [group, n] of byGroup) this.groupDeadCountSubtract.run(n, group);
        for (const [queue, ids] of byQueue) {
          this.countersDiscard.run(ids.length, ids.length, queue);
          this.audit.append({
            at: params.now,
            actor: params.actor,
            action: 'discard',
            targetType: 'queue',
            targetId: queue,
            details: { reason: params.reason, count: ids.length, ids },
          });
        }
        return { discarded, missing };
      })
      .immediate();
  }

  tombstoneGet(id: string): Tombstone | undefined {
    const row = this.tombstoneSelect.get(id);
    return row
      ? {
          id: row.id,
          queue: row.queue,
          groupId: row.group_id,
          tier: row.tier,
          reason: row.reason,
          actor: row.actor,
          diedAt: row.died_at,
          discardedAt: row.discarded_at,
        }
      : undefined;
  }
}
