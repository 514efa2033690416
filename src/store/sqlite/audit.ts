import type Database from 'better-sqlite3';
import type { AuditAction, AuditEntry, AuditEntryInput, AuditFilter } from '../../core/audit.ts';

interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  details: string;
}

/** The audit-log statements of one connection, prepared once. */
export class SqliteAuditLog {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[number, string, string, string, string, string]>;
  private readonly lists = new Map<string, Database.Statement<(string | number)[], AuditRow>>();

  constructor(db: Database.Database) {
    this.db = db;
    this.insert = db.prepare(
      'INSERT INTO audit_log (at, actor, action, target_type, target_id, details) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  /** Appends one entry; call it inside the transaction of the change it records. */
  append(entry: AuditEntryInput): void {
    this.insert.run(
      entry.at,
      entry.actor,
      entry.action,
      entry.targetType,
      entry.targetId,
      JSON.stringify(entry.details),
    );
  }

  appendAll(entries: AuditEntryInput[]): void {
    this.db
      .transaction(() => {
        for (const entry of entries) this.append(entry);
      })
      .immediate();
  }

  /**
   * Newest first. Each equality filter has an index ending in `id`, so the walk is in order
   * and stops at the limit; time bounds are checked per row (entries are in time order, so
   * `since` ends the walk early when the id order is used).
   */
  list(params: AuditFilter & { limit: number; beforeId?: number }): AuditEntry[] {
    const where: string[] = [];
    const values: (string | number)[] = [];
    let key = 'audit';
    for (const [field, column] of [
      ['action', 'action'],
      ['actor', 'actor'],
      ['targetId', 'target_id'],
    ] as const) {
      const value = params[field];
      if (value !== undefined) {
        where.push(`${column} = ?`);
        values.push(value);
        key += `:${field}`;
      }
    }
    if (params.since !== undefined) {
      where.push('at >= ?');
      values.push(params.since);
      key += ':since';
    }
    if (params.until !== undefined) {
      where.push('at < ?');
      values.push(params.until);
      key += ':until';
    }
    if (params.beforeId !== undefined) {
      where.push('id < ?');
      values.push(params.beforeId);
      key += ':before';
    }
    values.push(params.limit);
    let statement = this.lists.get(key);
    if (!statement) {
      statement = this.db.prepare<(string | number)[], AuditRow>(
        `SELECT * FROM audit_log${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
      );
      this.lists.set(key, statement);
    }
    return statement.all(...values).map((row) => ({
      id: row.id,
      at: row.at,
      actor: row.actor,
      action: row.action as AuditAction,
      targetType: row.target_type,
      targetId: row.target_id,
      details: JSON.parse(row.details) as AuditEntry['details'],
    }));
  }
}
