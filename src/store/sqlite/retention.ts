import type Database from 'better-sqlite3';
import type { ArchivableDeadLetter, ArchiveRecord } from '../../core/archive-record.ts';
import { commitUnlessDryRun, dryRunResult } from '../dry-run.ts';
import {
  archiveAudit,
  asReplayed,
  ImportTally,
  missingQueueError,
  type ReplayRecordColumns,
} from '../retention-rows.ts';
import type { ArchivedRef, DeadLetterImportResult, ImportSkipReason } from '../store.ts';
import type { SqliteAuditLog } from './audit.ts';
import { DEAD_LETTER_SUMMARY_COLUMNS, type DeadLetterRow, toDeadLetter } from './rows.ts';

/** The columns shared by `dead_letters` and the view `replayed_dead_letters`, as the sweeper reads them. */
const LETTER_COLUMNS = `${DEAD_LETTER_SUMMARY_COLUMNS.split(', ')
  .map((column) => `x.${column}`)
  .join(', ')}, x.body, x.headers, x.attempts, x.original_body, x.edits`;

/** The group's normalised message travels with the record, so another store can create the group. */
const GROUP_JOIN = 'LEFT JOIN groups g ON g.id = x.group_id';

/**
 * Expired dead letters of a queue, oldest first: a range walk of the (queue, died_at, id)
 * index, which also gives the order. The row value `(died_at, id) > (?, ?)` continues a page.
 */
export const EXPIRED_DEAD_SQL =
  `SELECT ${LETTER_COLUMNS}, g.normalized_message FROM dead_letters x ${GROUP_JOIN} ` +
  'WHERE x.replayed = 0 AND x.queue = @queue AND x.died_at < @before AND (x.died_at, x.id) > (@at, @id) ' +
  'ORDER BY x.died_at, x.id LIMIT @limit';

/**
 * Expired rows of the replay history: a walk of the (queue, replayed_at) index; only ties of
 * equal replayed_at need sorting by id.
 */
export const EXPIRED_REPLAYED_SQL =
  `SELECT ${LETTER_COLUMNS}, x.replayed_at, x.replayed_by, x.replay_job_id, x.replayed_to, x.destination, ` +
  `g.normalized_message FROM replayed_dead_letters x ${GROUP_JOIN} ` +
  'WHERE x.queue = @queue AND x.replayed_at < @before AND (x.replayed_at, x.id) > (@at, @id) ' +
  'ORDER BY x.replayed_at, x.id LIMIT @limit';

/** A row of {@link EXPIRED_DEAD_SQL}. */
interface ExpiredDeadRow extends DeadLetterRow {
  normalized_message: string | null;
}

/** A row of {@link EXPIRED_REPLAYED_SQL}. */
interface ExpiredReplayedRow extends ExpiredDeadRow, ReplayRecordColumns {}

interface PageParams {
  queue: string;
  before: number;
  at: number;
  id: string;
  limit: number;
}

/** The row of a dead letter or replay-history insert (JSON serialised). */
interface LetterInsertRow {
  id: string;
  queue: string;
  body: string;
  headers: string;
  idempotency_key: string | null;
  enqueued_at: number;
  attempts: string;
  attempt_count: number;
  error_name: string;
  error_message: string;
  error_stack: string | null;
  error_code: string | null;
  error_status: number | null;
  tier: string;
  fingerprint: string;
  group_id: string;
  died_at: number;
  replay_count: number;
  previous_id: string | null;
  original_body: string | null;
  edits: string;
}

const INSERT_COLUMNS =
  'id, queue, body, headers, idempotency_key, enqueued_at, attempts, attempt_count, error_name, error_message, ' +
  'error_stack, error_code, error_status, tier, fingerprint, group_id, died_at, replay_count, previous_id, ' +
  'original_body, edits';
const INSERT_VALUES = INSERT_COLUMNS.split(', ')
  .map((column) => `@${column}`)
  .join(', ');

/** Where an id already is, in the order an import checks. */
const WHERE_IS_SQL =
  "SELECT 'dead' AS reason FROM dead_letters WHERE id = @id AND replayed = 0 " +
  "UNION ALL SELECT 'replayed' FROM dead_letter_replays WHERE id = @id " +
  "UNION ALL SELECT 'discarded' FROM tombstones WHERE id = @id " +
  "UNION ALL SELECT 'message' FROM messages WHERE id = @id LIMIT 1";

/**
 * Whether this store wrote an archive file: one of its `retention.archive` audit entries names
 * the file's archiveId for the queue. A walk of the (action, id) index over the archive entries
 * (one per file and sweep pass), done once per archiveId and import.
 */
const ARCHIVED_HERE_SQL =
  "SELECT 1 AS found FROM audit_log WHERE action = 'retention.archive' " +
  "AND json_extract(details, '$.archiveId') = ? AND json_extract(details, '$.queue') = ? LIMIT 1";

function toArchivable(row: ExpiredDeadRow): ArchivableDeadLetter {
  const letter = toDeadLetter(row);
  return {
    ...letter,
    originalBody: row.original_body === null ? null : JSON.parse(row.original_body),
    edits: JSON.parse(row.edits),
    normalizedMessage: row.normalized_message ?? row.error_message,
    state: 'dead',
  };
}

function toArchivableReplayed(row: ExpiredReplayedRow): ArchivableDeadLetter {
  return asReplayed(toArchivable(row), row);
}

function toInsertRow(record: ArchiveRecord): LetterInsertRow {
  return {
    id: record.id,
    queue: record.queue,
    body: JSON.stringify(record.body),
    headers: JSON.stringify(record.headers),
    idempotency_key: record.idempotencyKey,
    enqueued_at: record.enqueuedAt,
    attempts: JSON.stringify(record.attempts),
    attempt_count: record.attempts.length,
    error_name: record.error.name,
    error_message: record.error.message,
    error_stack: record.error.stack ?? null,
    error_code: record.error.code ?? null,
    error_status: record.error.status ?? null,
    tier: record.tier,
    fingerprint: record.fingerprint,
    group_id: record.groupId,
    died_at: record.diedAt,
    replay_count: record.replayCount,
    previous_id: record.previousId,
    original_body: record.originalBody === null ? null : JSON.stringify(record.originalBody),
    edits: JSON.stringify(record.edits),
  };
}

/**
 * Retention on SQLite: listing expired rows, deleting archived ones and importing archives.
 * Each change is one immediate transaction with its counters, group counts and audit entry.
 */
export class SqliteRetention {
  private readonly db: Database.Database;
  private readonly audit: SqliteAuditLog;
  private readonly sql;

  constructor(db: Database.Database, audit: SqliteAuditLog) {
    this.db = db;
    this.audit = audit;
    this.sql = {
      expiredDead: db.prepare<PageParams, ExpiredDeadRow>(EXPIRED_DEAD_SQL),
      expiredReplayed: db.prepare<PageParams, ExpiredReplayedRow>(EXPIRED_REPLAYED_SQL),
      countDead: db.prepare<[string, number], { n: number }>(
        'SELECT COUNT(*) AS n FROM dead_letters WHERE replayed = 0 AND queue = ? AND died_at < ?',
      ),
      countReplayed: db.prepare<[string, number], { n: number }>(
        'SELECT COUNT(*) AS n FROM dead_letter_replays WHERE queue = ? AND replayed_at < ?',
      ),
      deleteDead: db.prepare<[string, string, number], { group_id: string }>(
        'DELETE FROM dead_letters WHERE id = ? AND replayed = 0 AND queue = ? AND json_array_length(edits) = ? RETURNING group_id',
      ),
      // A replayed dead letter is its row (flagged) and its replay record.
      deleteReplayRecord: db.prepare<[string, string], { id: string }>(
        'DELETE FROM dead_letter_replays WHERE id = ? AND queue = ? RETURNING id',
      ),
      deleteReplayedRow: db.prepare<[string]>('DELETE FROM dead_letters WHERE id = ? AND replayed = 1'),
      countersArchive: db.prepare<[number, number, string]>(
        'UPDATE queue_counters SET dead = dead - ?, archived = archived + ? WHERE queue = ?',
      ),
      countersImport: db.prepare<[number, number, string]>(
        'UPDATE queue_counters SET dead = dead + ?, archived = archived - ? WHERE queue = ?',
      ),
      groupDeadCountAdd: db.prepare<[number, string]>(
        'UPDATE groups SET dead_count = dead_count + ? WHERE id = ?',
      ),
      queueExists: db.prepare<[string], { name: string }>('SELECT name FROM queues WHERE name = ?'),
      aliasTarget: db.prepare<[string], { target_id: string }>(
        'SELECT target_id FROM group_aliases WHERE source_id = ?',
      ),
      whereIs: db.prepare<{ id: string }, { reason: ImportSkipReason }>(WHERE_IS_SQL),
      archivedHere: db.prepare<[string, string], { found: number }>(ARCHIVED_HERE_SQL),
      insertDead: db.prepare<LetterInsertRow>(
        `INSERT INTO dead_letters (${INSERT_COLUMNS}) VALUES (${INSERT_VALUES})`,
      ),
      insertReplayedRow: db.prepare<LetterInsertRow>(
        `INSERT INTO dead_letters (${INSERT_COLUMNS}, replayed) VALUES (${INSERT_VALUES}, 1)`,
      ),
      insertReplayRecord: db.prepare<{
        id: string;
        queue: string;
        replayed_at: number;
        replayed_by: string;
        replay_job_id: string | null;
        replayed_to: string;
        destination: string;
      }>(
        'INSERT INTO dead_letter_replays (id, queue, replayed_at, replayed_by, replay_job_id, replayed_to, destination) ' +
          'VALUES (@id, @queue, @replayed_at, @replayed_by, @replay_job_id, @replayed_to, @destination)',
      ),
      // An imported dead letter that creates its group: seen when it died; status new.
      groupInsertOrCount: db.prepare<{
        id: string;
        fingerprint: string;
        errorName: string;
        normalizedMessage: string;
        tier: string;
        diedAt: number;
        sampleId: string;
        added: number;
      }>(
        'INSERT INTO groups (id, fingerprint, error_name, normalized_message, tier, status, first_seen, last_seen, ' +
          "count, dead_count, sample_id, status_changed_at) VALUES (@id, @fingerprint, @errorName, @normalizedMessage, @tier, 'new', " +
          '@diedAt, @diedAt, 1, 1, @sampleId, @diedAt) ON CONFLICT (id) DO UPDATE SET dead_count = dead_count + 1, ' +
          'count = count + @added, first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen)',
      ),
      groupQueueInsertOrCount: db.prepare<{ groupId: string; queue: string; added: number }>(
        'INSERT INTO group_queues (group_id, queue, count) VALUES (@groupId, @queue, 1) ' +
          'ON CONFLICT (group_id, queue) DO UPDATE SET count = count + @added',
      ),
    };
  }

  listExpired(params: {
    queue: string;
    state: 'dead' | 'replayed';
    before: number;
    limit: number;
    after?: { at: number; id: string };
  }): ArchivableDeadLetter[] {
    if (params.limit <= 0) return [];
    // Without `after`, start before every row: times are non-negative and '' sorts first.
    const page: PageParams = {
      queue: params.queue,
      before: params.before,
      at: params.after?.at ?? Number.MIN_SAFE_INTEGER,
      id: params.after?.id ?? '',
      limit: params.limit,
    };
    if (params.state === 'dead') return this.sql.expiredDead.all(page).map(toArchivable);
    return this.sql.expiredReplayed.all(page).map(toArchivableReplayed);
  }

  countExpired(params: { queue: string; before: number }): { dead: number; replayed: number } {
    return this.db.transaction(() => ({
      dead: this.sql.countDead.get(params.queue, params.before)?.n ?? 0,
      replayed: this.sql.countReplayed.get(params.queue, params.before)?.n ?? 0,
    }))();
  }

  archive(params: {
    queue: string;
    day: string;
    file: string;
    archiveId: string;
    letters: ArchivedRef[];
    actor: string;
    now: number;
  }): { dead: number; replayed: number; stale: string[] } {
    if (params.letters.length === 0) return { dead: 0, replayed: 0, stale: [] };
    return this.db
      .transaction(() => {
        const deleted: string[] = [];
        const stale: string[] = [];
        const groups = new Map<string, number>();
        let dead = 0;
        let replayed = 0;
        for (const ref of params.letters) {
          if (ref.state === 'dead') {
            const row = this.sql.deleteDead.get(ref.id, params.queue, ref.edits);
            if (!row) {
              stale.push(ref.id);
              continue;
            }
            groups.set(row.group_id, (groups.get(row.group_id) ?? 0) + 1);
            dead++;
          } else {
            if (!this.sql.deleteReplayRecord.get(ref.id, params.queue)) {
              stale.push(ref.id);
              continue;
            }
            this.sql.deleteReplayedRow.run(ref.id);
            replayed++;
          }
          deleted.push(ref.id);
        }
        if (deleted.length === 0) return { dead, replayed, stale };
        this.sql.countersArchive.run(dead, dead, params.queue);
        for (const [groupId, n] of groups) this.sql.groupDeadCountAdd.run(-n, groupId);
        this.audit.append(archiveAudit(params, deleted, { dead, replayed }));
        return { dead, replayed, stale };
      })
      .immediate();
  }

  import(params: {
    file: string;
    records: ArchiveRecord[];
    actor: string;
    now: number;
    dryRun?: boolean;
  }): DeadLetterImportResult {
    try {
      // A dry run computes everything, then throws to roll the transaction back.
      return this.importInTransaction(params, (result) => commitUnlessDryRun(result, params.dryRun));
    } catch (error) {
      return dryRunResult(error);
    }
  }

  private importInTransaction(
    params: { file: string; records: ArchiveRecord[]; actor: string; now: number },
    beforeCommit: (result: DeadLetterImportResult) => void,
  ): DeadLetterImportResult {
    return this.db
      .transaction(() => {
        for (const queue of new Set(params.records.map((record) => record.queue))) {
          if (!this.sql.queueExists.get(queue)) throw missingQueueError(queue);
        }
        const tally = new ImportTally();
        const archivedHere = new Map<string, boolean>();
        for (const record of params.records) {
          const found = this.sql.whereIs.get({ id: record.id });
          if (found) {
            tally.skipped(record.id, found.reason);
            continue;
          }
          // A dead letter of a group merged since it was archived comes back in the merged group.
          const groupId = this.sql.aliasTarget.get(record.groupId)?.target_id ?? record.groupId;
          const row = { ...toInsertRow(record), group_id: groupId };
          if (record.state === 'replayed') {
            this.sql.insertReplayedRow.run(row);
            this.sql.insertReplayRecord.run({
              id: row.id,
              queue: row.queue,
              replayed_at: record.replayedAt,
              replayed_by: record.replayedBy,
              replay_job_id: record.replayJobId,
              replayed_to: record.replayedTo,
              destination: record.destination,
            });
            tally.wroteHistory(record.id);
            continue;
          }
          const key = `${record.queue}\u0000${record.archiveId}`;
          let restored = archivedHere.get(key);
          if (restored === undefined) {
            restored = this.sql.archivedHere.get(record.archiveId, record.queue) !== undefined;
            archivedHere.set(key, restored);
          }
          this.sql.insertDead.run(row);
          tally.wroteDead(record, restored);
          // A restored dead letter was counted by its group when it died; a new one is counted now.
          this.sql.groupInsertOrCount.run({
            id: groupId,
            fingerprint: record.fingerprint,
            errorName: record.error.name,
            normalizedMessage: record.normalizedMessage,
            tier: record.tier,
            diedAt: record.diedAt,
            sampleId: record.id,
            added: restored ? 0 : 1,
          });
          this.sql.groupQueueInsertOrCount.run({
            groupId,
            queue: record.queue,
            added: restored ? 0 : 1,
          });
        }
        for (const [queue, n] of tally.perQueue) this.sql.countersImport.run(n.dead, n.restored, queue);
        for (const entry of tally.audit(params)) this.audit.append(entry);
        beforeCommit(tally.result);
        return tally.result;
      })
      .immediate();
  }
}
