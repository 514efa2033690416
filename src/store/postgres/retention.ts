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
import { appendAudit } from './audit.ts';
import { quoteIdent } from './connection.ts';
import { type PgDb, type Queryable, UNPREPARED } from './db.ts';
import { randomCounterSlot, storableText } from './lease-batches.ts';
import { type DeadLetterRow, toDeadLetter } from './rows.ts';
import { DEAD_LETTER_SUMMARY_COLUMNS } from './statements.ts';

/** The columns shared by `dead_letters` and the view `replayed_dead_letters`, as the sweeper reads them. */
const LETTER_COLUMNS = `${DEAD_LETTER_SUMMARY_COLUMNS.split(', ')
  .map((column) => `x.${column}`)
  .join(', ')}, x.body, x.headers, x.attempts, x.original_body, x.edits`;

const INSERT_COLUMNS =
  'id, queue, body, headers, idempotency_key, enqueued_at, attempts, attempt_count, error_name, error_message, ' +
  'error_stack, error_code, error_status, tier, fingerprint, group_id, died_at, replay_count, previous_id, ' +
  'original_body, edits';
/** Placeholders of {@link INSERT_COLUMNS}, JSON columns cast from text. */
const INSERT_VALUES =
  '$1, $2, $3::json, $4::json, $5, $6, $7::json, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20::json, $21::json';

interface ExpiredDeadRow extends DeadLetterRow {
  normalized_message: string | null;
}

interface ExpiredReplayedRow extends ExpiredDeadRow, ReplayRecordColumns {}

function toArchivable(row: ExpiredDeadRow): ArchivableDeadLetter {
  return {
    ...toDeadLetter(row),
    originalBody: row.original_body,
    edits: row.edits,
    normalizedMessage: row.normalized_message ?? row.error_message,
    state: 'dead',
  };
}

function toArchivableReplayed(row: ExpiredReplayedRow): ArchivableDeadLetter {
  return asReplayed(toArchivable(row), row);
}

/** The parameters of an insert of {@link INSERT_COLUMNS} for an archived record. */
function insertValues(record: ArchiveRecord): unknown[] {
  return [
    record.id,
    record.queue,
    JSON.stringify(record.body),
    JSON.stringify(record.headers),
    record.idempotencyKey,
    record.enqueuedAt,
    JSON.stringify(record.attempts),
    record.attempts.length,
    storableText(record.error.name),
    storableText(record.error.message),
    record.error.stack === undefined ? null : storableText(record.error.stack),
    record.error.code === undefined ? null : storableText(record.error.code),
    record.error.status ?? null,
    record.tier,
    record.fingerprint,
    record.groupId,
    record.diedAt,
    record.replayCount,
    record.previousId,
    record.originalBody === null || record.originalBody === undefined
      ? null
      : JSON.stringify(record.originalBody),
    JSON.stringify(record.edits ?? []),
  ];
}

/**
 * Retention on PostgreSQL: listing expired rows, deleting archived ones and importing archives.
 * Each change is one transaction with its counters (sharded slots), group counts and audit entry.
 */
export class PostgresRetention {
  private readonly s: string;

  constructor(
    private readonly db: PgDb,
    private readonly schema: string,
  ) {
    this.s = quoteIdent(schema);
  }

  /**
   * Expired rows of a queue, oldest first: a range walk of the (queue, died_at, id) index for
   * dead letters, of (queue, replayed_at) for the replay history. The row value continues a page.
   */
  async listExpired(params: {
    queue: string;
    state: 'dead' | 'replayed';
    before: number;
    limit: number;
    after?: { at: number; id: string };
  }): Promise<ArchivableDeadLetter[]> {
    if (params.limit <= 0) return [];
    const { s } = this;
    // Without `after`, start before every row: times are non-negative and '' sorts first.
    const values = [
      params.queue,
      params.before,
      params.after?.at ?? Number.MIN_SAFE_INTEGER,
      params.after?.id ?? '',
      params.limit,
    ];
    const groupJoin = `LEFT JOIN ${s}.groups g ON g.id = x.group_id`;
    if (params.state === 'dead') {
      const { rows } = await this.db.query<ExpiredDeadRow>(
        'retention_expired_dead',
        `SELECT ${LETTER_COLUMNS}, g.normalized_message FROM ${s}.dead_letters x ${groupJoin} ` +
          'WHERE NOT x.replayed AND x.queue = $1 AND x.died_at < $2 AND (x.died_at, x.id) > ($3, $4) ' +
          'ORDER BY x.died_at, x.id LIMIT $5',
        values,
      );
      return rows.map(toArchivable);
    }
    const { rows } = await this.db.query<ExpiredReplayedRow>(
      'retention_expired_replayed',
      `SELECT ${LETTER_COLUMNS}, x.replayed_at, x.replayed_by, x.replay_job_id, x.replayed_to, x.destination, ` +
        `g.normalized_message FROM ${s}.replayed_dead_letters x ${groupJoin} ` +
        'WHERE x.queue = $1 AND x.replayed_at < $2 AND (x.replayed_at, x.id) > ($3, $4) ' +
        'ORDER BY x.replayed_at, x.id LIMIT $5',
      values,
    );
    return rows.map(toArchivableReplayed);
  }

  async countExpired(params: { queue: string; before: number }): Promise<{ dead: number; replayed: number }> {
    const { s } = this;
    const { rows } = await this.db.query<{ dead: number; replayed: number }>(
      'retention_count_expired',
      `SELECT (SELECT count(*) FROM ${s}.dead_letters WHERE NOT replayed AND queue = $1 AND died_at < $2) AS dead, ` +
        `(SELECT count(*) FROM ${s}.dead_letter_replays WHERE queue = $1 AND replayed_at < $2) AS replayed`,
      [params.queue, params.before],
    );
    return rows[0] ?? { dead: 0, replayed: 0 };
  }

  async archive(params: {
    queue: string;
    day: string;
    file: string;
    archiveId: string;
    letters: ArchivedRef[];
    actor: string;
    now: number;
  }): Promise<{ dead: number; replayed: number; stale: string[] }> {
    if (params.letters.length === 0) return { dead: 0, replayed: 0, stale: [] };
    const { s } = this;
    return this.db.transaction(async (tx) => {
      const deadRefs = params.letters.filter((ref) => ref.state === 'dead');
      const replayedRefs = params.letters.filter((ref) => ref.state === 'replayed');
      // A row goes only if it is still there, of this queue and (dead letters) unedited since it
      // was written to the file.
      const deadGone = await tx.query<{ id: string; group_id: string }>(
        UNPREPARED,
        'WITH r AS (SELECT * FROM unnest($1::text[], $2::int[]) AS r(id, edits)) ' +
          `DELETE FROM ${s}.dead_letters d USING r WHERE d.id = ANY($1::text[]) AND d.id = r.id AND NOT d.replayed AND d.queue = $3 ` +
          'AND json_array_length(d.edits) = r.edits RETURNING d.id, d.group_id',
        [deadRefs.map((ref) => ref.id), deadRefs.map((ref) => ref.edits), params.queue],
      );
      const replayedGone = await tx.query<{ id: string }>(
        'retention_delete_replayed',
        // A replayed dead letter is its row (flagged) and its replay record.
        `WITH r AS (DELETE FROM ${s}.dead_letter_replays WHERE id = ANY($1::text[]) AND queue = $2 RETURNING id), ` +
          `d AS (DELETE FROM ${s}.dead_letters WHERE id IN (SELECT id FROM r) AND replayed) SELECT id FROM r`,
        [replayedRefs.map((ref) => ref.id), params.queue],
      );
      const gone = new Set([...deadGone.rows, ...replayedGone.rows].map((row) => row.id));
      const deleted = params.letters.filter((ref) => gone.has(ref.id)).map((ref) => ref.id);
      const stale = params.letters.filter((ref) => !gone.has(ref.id)).map((ref) => ref.id);
      const dead = deadGone.rows.length;
      const replayed = replayedGone.rows.length;
      if (deleted.length === 0) return { dead, replayed, stale };
      await this.addCounts(tx, params.queue, { dead: -dead, archived: dead });
      await this.addGroupDeadCounts(
        tx,
        deadGone.rows.map((row) => row.group_id),
        -1,
      );
      await appendAudit(tx, this.schema, [archiveAudit(params, deleted, { dead, replayed })]);
      return { dead, replayed, stale };
    });
  }

  async import(params: {
    file: string;
    records: ArchiveRecord[];
    actor: string;
    now: number;
    dryRun?: boolean;
  }): Promise<DeadLetterImportResult> {
    try {
      return await this.db.transaction(async (tx) => {
        // Taken before the group aliases are read: a group merge (which locks the table
        // EXCLUSIVE) then either committed already, and its alias is seen, or waits for us.
        await tx.query(undefined, `LOCK TABLE ${this.s}.dead_letters IN ROW EXCLUSIVE MODE`);
        // A dry run computes everything, then throws to roll the transaction back.
        return commitUnlessDryRun(await this.importRecords(tx, params), params.dryRun);
      });
    } catch (error) {
      return dryRunResult(error);
    }
  }

  private async importRecords(
    tx: Queryable,
    params: { file: string; records: ArchiveRecord[]; actor: string; now: number },
  ): Promise<DeadLetterImportResult> {
    const { s } = this;
    const queues = [...new Set(params.records.map((record) => record.queue))];
    const known = await tx.query<{ name: string }>(
      'retention_queues_exist',
      `SELECT name FROM ${s}.queues WHERE name = ANY($1::text[])`,
      [queues],
    );
    const existing = new Set(known.rows.map((row) => row.name));
    for (const queue of queues) {
      if (!existing.has(queue)) throw missingQueueError(queue);
    }
    const tally = new ImportTally();
    const archivedHere = new Map<string, boolean>();
    for (let record of params.records) {
      const found = await tx.query<{ reason: ImportSkipReason }>(
        'retention_where_is',
        `(SELECT 'dead' AS reason FROM ${s}.dead_letters WHERE id = $1 AND NOT replayed) UNION ALL ` +
          `(SELECT 'replayed' FROM ${s}.dead_letter_replays WHERE id = $1) UNION ALL ` +
          `(SELECT 'discarded' FROM ${s}.tombstones WHERE id = $1) UNION ALL ` +
          `(SELECT 'message' FROM ${s}.messages WHERE id = $1) LIMIT 1`,
        [record.id],
      );
      const reason = found.rows[0]?.reason;
      if (reason !== undefined) {
        tally.skipped(record.id, reason);
        continue;
      }
      if (record.state === 'dead') {
        // A dead letter of a group merged since it was archived comes back in the merged group.
        const alias = await tx.query<{ target_id: string }>(
          'retention_alias_target',
          `SELECT target_id FROM ${s}.group_aliases WHERE source_id = $1`,
          [record.groupId],
        );
        const target = alias.rows[0]?.target_id;
        if (target !== undefined) record = { ...record, groupId: target };
      }
      if (record.state === 'replayed') {
        await tx.query(
          'retention_insert_replayed',
          `WITH d AS (INSERT INTO ${s}.dead_letters (${INSERT_COLUMNS}, replayed) VALUES (${INSERT_VALUES}, true)) ` +
            `INSERT INTO ${s}.dead_letter_replays (id, queue, replayed_at, replayed_by, replay_job_id, replayed_to, ` +
            'destination) VALUES ($1, $2, $22, $23, $24, $25, $26)',
          [
            ...insertValues(record),
            record.replayedAt,
            record.replayedBy,
            record.replayJobId,
            record.replayedTo,
            record.destination,
          ],
        );
        tally.wroteHistory(record.id);
        continue;
      }
      const key = `${record.queue}\u0000${record.archiveId}`;
      let restored = archivedHere.get(key);
      if (restored === undefined) {
        // This store wrote the file if one of its retention.archive entries names the archiveId.
        const here = await tx.query(
          'retention_archived_here',
          `SELECT 1 FROM ${s}.audit_log WHERE action = 'retention.archive' ` +
            "AND details->>'archiveId' = $1 AND details->>'queue' = $2 LIMIT 1",
          [record.archiveId, record.queue],
        );
        restored = (here.rowCount ?? 0) > 0;
        archivedHere.set(key, restored);
      }
      await tx.query(
        'retention_insert_dead',
        `INSERT INTO ${s}.dead_letters (${INSERT_COLUMNS}) VALUES (${INSERT_VALUES})`,
        insertValues(record),
      );
      tally.wroteDead(record, restored);
      // A restored dead letter was counted by its group when it died; a new one is counted now.
      const added = restored ? 0 : 1;
      await tx.query(
        'retention_group_upsert',
        `INSERT INTO ${s}.groups AS g (id, fingerprint, error_name, normalized_message, tier, status, first_seen, ` +
          "last_seen, count, dead_count, sample_id, status_changed_at) VALUES ($1, $2, $3, $4, $5, 'new', $6, $6, 1, 1, " +
          '$7, $6) ON CONFLICT (id) DO UPDATE SET dead_count = g.dead_count + 1, count = g.count + $8, ' +
          'first_seen = LEAST(g.first_seen, excluded.first_seen), last_seen = GREATEST(g.last_seen, excluded.last_seen)',
        [
          record.groupId,
          record.fingerprint,
          storableText(record.error.name),
          storableText(record.normalizedMessage),
          record.tier,
          record.diedAt,
          record.id,
          added,
        ],
      );
      await tx.query(
        'retention_group_queue_upsert',
        `INSERT INTO ${s}.group_queues AS q (group_id, queue, count) VALUES ($1, $2, 1) ` +
          'ON CONFLICT (group_id, queue) DO UPDATE SET count = q.count + $3',
        [record.groupId, record.queue, added],
      );
    }
    for (const [queue, n] of tally.perQueue) {
      await this.addCounts(tx, queue, { dead: n.dead, archived: -n.restored });
    }
    await appendAudit(tx, this.schema, tally.audit(params));
    return tally.result;
  }

  /** Adds to a queue's dead and archived counters, in a random slot. */
  private async addCounts(
    tx: Queryable,
    queue: string,
    delta: { dead: number; archived: number },
  ): Promise<void> {
    await tx.query(
      'retention_counters',
      `INSERT INTO ${this.s}.queue_counters AS c (queue, slot, dead, archived) VALUES ($1, $2, $3, $4) ` +
        'ON CONFLICT (queue, slot) DO UPDATE SET dead = c.dead + excluded.dead, archived = c.archived + excluded.archived',
      [queue, randomCounterSlot(), delta.dead, delta.archived],
    );
  }

  /** Adds `sign` to the dead count of each group, once per occurrence in `groupIds`. */
  private async addGroupDeadCounts(tx: Queryable, groupIds: string[], sign: 1 | -1): Promise<void> {
    if (groupIds.length === 0) return;
    await tx.query(
      'retention_group_dead_counts',
      `UPDATE ${this.s}.groups g SET dead_count = g.dead_count + n.n * $2 ` +
        'FROM (SELECT id, count(*) AS n FROM unnest($1::text[]) AS u(id) GROUP BY id) n WHERE g.id = n.id',
      [groupIds, sign],
    );
  }
}
