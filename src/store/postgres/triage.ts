import type { DeadLetter, DeadLetterEdit } from '../../core/dead-letter.ts';
import type { Tombstone } from '../../core/discard.ts';
import { NotFoundError } from '../../core/errors.ts';
import { diffJson } from '../../core/json-diff.ts';
import type { Json } from '../../core/message.ts';
import { QUEUE_DOCS_FIELDS, type QueueDocs, type QueueDocsInput } from '../../core/queue-docs.ts';
import type { Tier } from '../../core/tier.ts';
import { appendAudit } from './audit.ts';
import { quoteIdent } from './connection.ts';
import { appendJson, type PgDb, UNPREPARED } from './db.ts';
import { randomCounterSlot } from './lease-batches.ts';
import { type DeadLetterRow, toDeadLetter } from './rows.ts';
import { DEAD_LETTER_SUMMARY_COLUMNS } from './statements.ts';

/** Every column of a dead letter the store returns, edits included. */
export const DEAD_LETTER_COLUMNS = `${DEAD_LETTER_SUMMARY_COLUMNS}, body, headers, attempts, original_body, edits`;

/** How many changed paths an edit's audit entry lists (the count is always exact). */
const AUDITED_PATHS = 50;
/** The longest value an audit entry keeps of a documentation field (runbooks can be long). */
const AUDITED_CHARS = 200;

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

function forAudit(value: string | null): string | null {
  if (value === null) return null;
  const chars = [...value];
  return chars.length <= AUDITED_CHARS ? value : `${chars.slice(0, AUDITED_CHARS - 1).join('')}…`;
}

const QUEUE_DOCS_COLUMNS =
  'queue, owner, contact, source, purpose, failure_meaning, runbook, updated_at, updated_by';

/**
 * Triage on PostgreSQL: discard with tombstones, body edits, queue documentation and the
 * read-only counts of `dlq review` and `dlq doctor`. Same behaviour as the SQLite store's
 * modules of the same names; where SQLite relies on its single writer, rows are locked here.
 */
export class PostgresTriage {
  private readonly s: string;

  constructor(
    private readonly db: PgDb,
    private readonly schema: string,
  ) {
    this.s = quoteIdent(schema);
  }

  /**
   * One statement: the dead letters found are deleted (`DELETE ... RETURNING`, so one that
   * another caller replayed or discarded a moment before is simply not found), and their
   * tombstones, group counts, counters and one audit entry per queue are written with them.
   */
  async discard(params: { ids: string[]; reason: string; actor: string; now: number }): Promise<{
    discarded: string[];
    missing: string[];
  }> {
    if (params.ids.length === 0) return { discarded: [], missing: [] };
    const { s } = this;
    const { rows } = await this.db.query<{ id: string }>(
      UNPREPARED,
      'WITH i AS (SELECT id, min(ord) AS ord FROM unnest($1::text[]) WITH ORDINALITY AS u(id, ord) GROUP BY id), ' +
        `gone AS (DELETE FROM ${s}.dead_letters d USING i WHERE d.id = ANY($1::text[]) AND d.id = i.id AND NOT d.replayed ` +
        'RETURNING d.id, d.queue, d.group_id, d.tier, d.died_at, i.ord), ' +
        `tombs AS (INSERT INTO ${s}.tombstones (id, queue, group_id, tier, reason, actor, died_at, discarded_at) ` +
        'SELECT id, queue, group_id, tier, $2, $3, died_at, $4 FROM gone), ' +
        `grouped AS (UPDATE ${s}.groups g SET dead_count = g.dead_count - n.n ` +
        'FROM (SELECT group_id, count(*) AS n FROM gone GROUP BY group_id) n WHERE g.id = n.group_id), ' +
        `counted AS (INSERT INTO ${s}.queue_counters AS c (queue, slot, dead, discarded) ` +
        'SELECT queue, $5, -count(*), count(*) FROM gone GROUP BY queue ORDER BY queue ' +
        'ON CONFLICT (queue, slot) DO UPDATE SET dead = c.dead + excluded.dead, discarded = c.discarded + excluded.discarded), ' +
        `audited AS (INSERT INTO ${s}.audit_log (at, actor, action, target_type, target_id, details) ` +
        "SELECT $4, $3, 'discard', 'queue', queue, json_build_object('reason', $2::text, 'count', count(*), " +
        "'ids', json_agg(id ORDER BY ord)) FROM gone GROUP BY queue ORDER BY min(ord)) " +
        'SELECT id FROM gone',
      [params.ids, params.reason, params.actor, params.now, randomCounterSlot()],
    );
    const gone = new Set(rows.map((row) => row.id));
    const unique = [...new Set(params.ids)];
    return { discarded: unique.filter((id) => gone.has(id)), missing: unique.filter((id) => !gone.has(id)) };
  }

  async tombstoneGet(id: string): Promise<Tombstone | undefined> {
    const { rows } = await this.db.query<TombstoneRow>(
      'triage_tombstone_get',
      `SELECT id, queue, group_id, tier, reason, actor, died_at, discarded_at FROM ${this.s}.tombstones WHERE id = $1`,
      [id],
    );
    const row = rows[0];
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

  /**
   * Replaces a dead letter's body: the first edit moves the body it died with to
   * `original_body` (COALESCE keeps it on later edits); each edit is appended to `edits`. The
   * row is locked first, so two concurrent edits are numbered one after the other.
   */
  async edit(params: { id: string; body: Json; actor: string; now: number }): Promise<DeadLetter> {
    const { s } = this;
    return this.db.transaction(async (tx) => {
      const current = await tx.query<{ body: Json; edit_count: number }>(
        'triage_edit_lock',
        `SELECT body, json_array_length(edits) AS edit_count FROM ${s}.dead_letters WHERE id = $1 AND NOT replayed FOR UPDATE`,
        [params.id],
      );
      const before = current.rows[0];
      if (!before) throw new NotFoundError(`dead letter "${params.id}" is not in the DLQ`);
      const edit: DeadLetterEdit = { at: params.now, actor: params.actor, body: params.body };
      const { rows } = await tx.query<DeadLetterRow>(
        'triage_edit',
        `UPDATE ${s}.dead_letters SET original_body = COALESCE(original_body, body), body = $2::json, ` +
          `edits = ${appendJson('edits', '$3::text')}::json WHERE id = $1 RETURNING ${DEAD_LETTER_COLUMNS}`,
        [params.id, JSON.stringify(params.body), JSON.stringify(edit)],
      );
      const row = rows[0] as DeadLetterRow;
      const changes = diffJson(before.body, params.body);
      await appendAudit(tx, this.schema, [
        {
          at: params.now,
          actor: params.actor,
          action: 'dead_letter.edit',
          targetType: 'dead_letter',
          targetId: params.id,
          details: {
            queue: row.queue,
            edit: before.edit_count + 1,
            changed: changes.length,
            paths: changes.slice(0, AUDITED_PATHS).map((change) => change.path),
          },
        },
      ]);
      return toDeadLetter(row);
    });
  }

  async queueDocsGet(queue: string): Promise<QueueDocs | undefined> {
    const { rows } = await this.db.query<QueueDocsRow>(
      'triage_docs_get',
      `SELECT ${QUEUE_DOCS_COLUMNS} FROM ${this.s}.queue_docs WHERE queue = $1`,
      [queue],
    );
    return rows[0] ? toQueueDocs(rows[0]) : undefined;
  }

  /** Sets documentation fields; the queue row is locked so concurrent changes apply in turn. */
  async queueDocsSet(params: {
    queue: string;
    patch: QueueDocsInput;
    actor: string;
    now: number;
  }): Promise<QueueDocs> {
    const { s } = this;
    return this.db.transaction(async (tx) => {
      const queue = await tx.query(
        'triage_docs_lock',
        `SELECT 1 FROM ${s}.queues WHERE name = $1 FOR UPDATE`,
        [params.queue],
      );
      if (queue.rowCount === 0) throw new NotFoundError(`queue "${params.queue}" does not exist`);
      const found = await tx.query<QueueDocsRow>(
        'triage_docs_get',
        `SELECT ${QUEUE_DOCS_COLUMNS} FROM ${s}.queue_docs WHERE queue = $1`,
        [params.queue],
      );
      const current = found.rows[0] ? toQueueDocs(found.rows[0]) : undefined;
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
      await tx.query(
        'triage_docs_upsert',
        `INSERT INTO ${s}.queue_docs (${QUEUE_DOCS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ` +
          'ON CONFLICT (queue) DO UPDATE SET owner = excluded.owner, contact = excluded.contact, ' +
          'source = excluded.source, purpose = excluded.purpose, failure_meaning = excluded.failure_meaning, ' +
          'runbook = excluded.runbook, updated_at = excluded.updated_at, updated_by = excluded.updated_by',
        [
          next.queue,
          next.owner,
          next.contact,
          next.source,
          next.purpose,
          next.failureMeaning,
          next.runbook,
          next.updatedAt,
          next.updatedBy,
        ],
      );
      await appendAudit(tx, this.schema, [
        {
          at: params.now,
          actor: params.actor,
          action: 'queue.docs',
          targetType: 'queue',
          targetId: params.queue,
          details: { fields: Object.keys(to), from, to },
        },
      ]);
      return next;
    });
  }

  /**
   * Dead letters of a queue that died in a window: still in the DLQ, replayed since or
   * discarded since, counted in one statement (one snapshot, so a dead letter replayed or
   * discarded meanwhile is counted once). Each count is a range of a (queue, time) index.
   */
  async countDied(params: { queue: string; since: number; until: number }): Promise<{
    dead: number;
    replayed: number;
    discarded: number;
  }> {
    const { s } = this;
    const { rows } = await this.db.query<{ dead: number; replayed: number; discarded: number }>(
      'triage_count_died',
      `SELECT (SELECT count(*) FROM ${s}.dead_letters WHERE NOT replayed AND queue = $1 AND died_at >= $2 AND died_at < $3) AS dead, ` +
        `(SELECT count(*) FROM ${s}.replayed_dead_letters WHERE queue = $1 AND replayed_at >= $2 ` +
        'AND died_at >= $2 AND died_at < $3) AS replayed, ' +
        `(SELECT count(*) FROM ${s}.tombstones WHERE queue = $1 AND discarded_at >= $2 ` +
        'AND died_at >= $2 AND died_at < $3) AS discarded',
      [params.queue, params.since, params.until],
    );
    return rows[0] ?? { dead: 0, replayed: 0, discarded: 0 };
  }

  /** Replays and discards out of a queue's DLQ in a window, per actor (and reason), most first. */
  async countOutcomes(params: { queue: string; since: number; until: number }): Promise<{
    replayed: { actor: string; count: number }[];
    discarded: { actor: string; reason: string; count: number }[];
  }> {
    const { s } = this;
    const { rows } = await this.db.query<{
      replayed: { actor: string; count: number }[] | null;
      discarded: { actor: string; reason: string; count: number }[] | null;
    }>(
      'triage_count_outcomes',
      "SELECT (SELECT json_agg(json_build_object('actor', actor, 'count', n) ORDER BY n DESC, actor) FROM " +
        `(SELECT replayed_by AS actor, count(*) AS n FROM ${s}.dead_letter_replays WHERE queue = $1 ` +
        'AND replayed_at >= $2 AND replayed_at < $3 GROUP BY replayed_by) r) AS replayed, ' +
        "(SELECT json_agg(json_build_object('actor', actor, 'reason', reason, 'count', n) ORDER BY n DESC, actor, reason) " +
        `FROM (SELECT actor, reason, count(*) AS n FROM ${s}.tombstones WHERE queue = $1 AND discarded_at >= $2 ` +
        'AND discarded_at < $3 GROUP BY actor, reason) t) AS discarded',
      [params.queue, params.since, params.until],
    );
    return { replayed: rows[0]?.replayed ?? [], discarded: rows[0]?.discarded ?? [] };
  }

  /**
   * Per queue, dead letters at their queue's replay limit. Only a message that came back from
   * a replay has a `previous_id`, so the partial index `dead_letters_previous` bounds the walk.
   */
  async listAtReplayLimit(
    sampleSize: number,
  ): Promise<{ queue: string; count: number; sampleIds: string[] }[]> {
    const { s } = this;
    const { rows } = await this.db.query<{ queue: string; count: number; sample_ids: string[] }>(
      'triage_at_replay_limit',
      'SELECT d.queue, count(*) AS count, ' +
        `(ARRAY(SELECT x.id FROM ${s}.dead_letters x JOIN ${s}.queues xq ON xq.name = x.queue ` +
        'WHERE x.previous_id IS NOT NULL AND NOT x.replayed AND x.queue = d.queue AND x.replay_count >= xq.replay_limit ' +
        'ORDER BY x.died_at DESC, x.id DESC LIMIT $1)) AS sample_ids ' +
        `FROM ${s}.dead_letters d JOIN ${s}.queues q ON q.name = d.queue ` +
        'WHERE d.previous_id IS NOT NULL AND NOT d.replayed AND d.replay_count >= q.replay_limit ' +
        'GROUP BY d.queue ORDER BY d.queue',
      [sampleSize],
    );
    return rows.map((row) => ({ queue: row.queue, count: row.count, sampleIds: row.sample_ids }));
  }
}
