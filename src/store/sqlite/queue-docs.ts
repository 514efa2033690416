import type Database from 'better-sqlite3';
import { NotFoundError } from '../../core/errors.ts';
import { QUEUE_DOCS_FIELDS, type QueueDocs, type QueueDocsInput } from '../../core/queue-docs.ts';
import type { SqliteAuditLog } from './audit.ts';

interface QueueDocsRow {
  queue: string;
  owner: string | null;
  contact: string | null;
  source: string | null;
  purpose: string | null;
  failure_meaning: string | null;
  runbook: string | null;
  updated_at: number;
  updated_by: string;
}

function toQueueDocs(row: QueueDocsRow): QueueDocs {
  return {
    queue: row.queue,
    owner: row.owner,
    contact: row.contact,
    source: row.source,
    purpose: row.purpose,
    failureMeaning: row.failure_meaning,
    runbook: row.runbook,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

/** The longest value an audit entry keeps of a documentation field (runbooks can be long). */
const AUDITED_CHARS = 200;

function forAudit(value: string | null): string | null {
  if (value === null) return null;
  const chars = [...value];
  return chars.length <= AUDITED_CHARS ? value : `${chars.slice(0, AUDITED_CHARS - 1).join('')}…`;
}

/** Each queue's DLQ documentation (table `queue_docs`), on SQLite. */
export class SqliteQueueDocs {
  private readonly db: Database.Database;
  private readonly audit: SqliteAuditLog;
  private readonly select: Database.Statement<[string], QueueDocsRow>;
  private readonly queueExists: Database.Statement<[string], { found: number }>;
  private readonly upsert: Database.Statement<QueueDocsRow>;

  constructor(db: Database.Database, audit: SqliteAuditLog) {
    this.db = db;
    this.audit = audit;
    this.select = db.prepare('SELECT * FROM queue_docs WHERE queue = ?');
    this.queueExists = db.prepare('SELECT 1 AS found FROM queues WHERE name = ?');
    this.upsert = db.prepare(
      'INSERT INTO queue_docs (queue, owner, contact, source, purpose, failure_meaning, runbook, updated_at, updated_by) ' +
        'VALUES (@queue, @owner, @contact, @source, @purpose, @failure_meaning, @runbook, @updated_at, @updated_by) ' +
        'ON CONFLICT (queue) DO UPDATE SET owner = excluded.owner, contact = excluded.contact, ' +
        'source = excluded.source, purpose = excluded.purpose, failure_meaning = excluded.failure_meaning, ' +
        'runbook = excluded.runbook, updated_at = excluded.updated_at, updated_by = excluded.updated_by',
    );
  }

  get(queue: string): QueueDocs | undefined {
    const row = this.select.get(queue);
    return row ? toQueueDocs(row) : undefined;
  }

  set(params: { queue: string; patch: QueueDocsInput; actor: string; now: number }): QueueDocs {
    return this.db
      .transaction(() => {
        if (!this.queueExists.get(params.queue)) {
          throw new NotFoundError(`queue "${params.queue}" does not exist`);
        }
        const current = this.get(params.queue);
        const next: QueueDocs = {
          queue: params.queue,
          owner: null,
          contact: null,
          source: null,
          purpose: null,
          failureMeaning: null,
          runbook: null,
          ...current,
          updatedAt: params.now,
          updatedBy: params.actor,
        };
        const from: Record<string, string | null> = {};
        const to: Record<string, string | null> = {};
        for (const field of QUEUE_DOCS_FIELDS) {
          const value = params.patch[field];
          if (value === undefined || value === next[field]) continue;
          from[field] = forAudit(next[field]);
          to[field] = forAudit(value);
          next[field] = value;
        }
        // Setting what is already there is no change: nothing is written or audited.
        if (Object.keys(to).length === 0) return current ?? next;
        this.upsert.run({
          queue: next.queue,
          owner: next.owner,
          contact: next.contact,
          source: next.source,
          purpose: next.purpose,
          failure_meaning: next.failureMeaning,
          runbook: next.runbook,
          updated_at: next.updatedAt,
          updated_by: next.updatedBy,
        });
        this.audit.append({
          at: params.now,
          actor: params.actor,
          action: 'queue.docs',
          targetType: 'queue',
          targetId: params.queue,
          details: { fields: Object.keys(to), from, to },
        });
        return next;
      })
      .immediate();
  }
}
