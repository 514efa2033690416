import type Database from 'better-sqlite3';
import type { DeadLetter, DeadLetterEdit } from '../../core/dead-letter.ts';
import { NotFoundError } from '../../core/errors.ts';
import { diffJson } from '../../core/json-diff.ts';
import type { Json } from '../../core/message.ts';
import type { SqliteAuditLog } from './audit.ts';
import { DEAD_LETTER_SUMMARY_COLUMNS, type DeadLetterRow, toDeadLetter } from './rows.ts';

const WHOLE_ROW = `${DEAD_LETTER_SUMMARY_COLUMNS}, body, headers, attempts, original_body, edits`;

/** How many changed paths an edit's audit entry lists (the count is always exact). */
const AUDITED_PATHS = 50;

/**
 * `dlq edit` on SQLite: replaces a dead letter's body in one immediate transaction. The first
 * edit moves the body it died with to `original_body` (COALESCE keeps it on later edits); each
 * edit is appended to the `edits` JSON array.
 */
export class SqliteDeadLetterEdit {
  private readonly db: Database.Database;
  private readonly audit: SqliteAuditLog;
  private readonly select: Database.Statement<[string], DeadLetterRow>;
  private readonly update: Database.Statement<{ id: string; body: string; edit: string }, DeadLetterRow>;

  constructor(db: Database.Database, audit: SqliteAuditLog) {
    this.db = db;
    this.audit = audit;
    this.select = db.prepare(`SELECT ${WHOLE_ROW} FROM dead_letters WHERE id = ? AND replayed = 0`);
    this.update = db.prepare(
      'UPDATE dead_letters SET original_body = COALESCE(original_body, body), body = @body, ' +
        `edits = json_insert(edits, '$[#]', json(@edit)) WHERE id = @id AND replayed = 0 RETURNING ${WHOLE_ROW}`,
    );
  }

  edit(params: { id: string; body: Json; actor: string; now: number }): DeadLetter {
    return this.db
      .transaction(() => {
        const current = this.select.get(params.id);
        if (!current) throw new NotFoundError(`dead letter "${params.id}" is not in the DLQ`);
        const edit: DeadLetterEdit = { at: params.now, actor: params.actor, body: params.body };
        const row = this.update.get({
          id: params.id,
          body: JSON.stringify(params.body),
          edit: JSON.stringify(edit),
        }) as DeadLetterRow;
        const changes = diffJson(JSON.parse(current.body) as Json, params.body);
        this.audit.append({
          at: params.now,
          actor: params.actor,
          action: 'dead_letter.edit',
          targetType: 'dead_letter',
          targetId: params.id,
          details: {
            queue: row.queue,
            edit: (JSON.parse(current.edits) as unknown[]).length + 1,
            changed: changes.length,
            paths: changes.slice(0, AUDITED_PATHS).map((change) => change.path),
          },
        });
        return toDeadLetter(row);
      })
      .immediate();
  }
}
