import type { DeadLetterFilter } from '../../core/dead-letter.ts';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { DeadLetterLineage, LineageLink, LineageState, ReplayedDeadLetter } from '../../core/lineage.ts';
import { emptyCanary, REPLAY_HEADERS, type ReplayCanary, type ReplaySkip } from '../../core/replay.ts';
import type { ReplayBatchResult, Store } from '../store.ts';
import { appendAudit } from './audit.ts';
import { quoteIdent } from './connection.ts';
import { type PgDb, type Queryable, UNPREPARED } from './db.ts';
import { randomCounterSlot } from './lease-batches.ts';
import { deadLetterFilterTerms, Terms } from './list-queries.ts';
import { type PostgresReplayJobs, toReplayJob } from './replay-jobs.ts';
import { type DeadLetterRow, toDeadLetter } from './rows.ts';
import { DEAD_LETTER_COLUMNS } from './triage.ts';

/** What a batch needs to know of a dead letter before replaying it. */
interface CandidateRow {
  queue: string;
  replay_count: number;
  idempotency_key: string | null;
  group_id: string;
  headers: Record<string, string>;
}

/** A row of `replayed_dead_letters`. */
interface ReplayedRow extends DeadLetterRow {
  replayed_at: number;
  replayed_by: string;
  replay_job_id: string | null;
  replayed_to: string;
  destination: string;
}

/** Where an id is now, with what its lineage link needs (one row per table that holds it). */
interface LinkRow {
  state: LineageState;
  queue: string;
  at: number;
  replay_count: number | null;
  previous_id: string | null;
  replayed_to: string | null;
}

/** A dead letter this batch sent back: to `queue`, from `source`, in group `groupId`. */
interface Replayed {
  id: string;
  messageId: string;
  queue: string;
  source: string;
  groupId: string;
}

const COUNT_COLUMNS = {
  group: 'group_id',
  tier: 'tier',
  queue: 'queue',
  replayCount: 'replay_count',
} as const;

/**
 * Replay on PostgreSQL: the batch that moves dead letters back to queues, the dry run's counts,
 * the replay history and lineage. A batch is one transaction that locks its job row first, so
 * a process killed mid-batch leaves either all of it (messages sent, dead letters flagged
 * replayed, the job's position advanced) or none of it: a resumed job neither loses nor
 * repeats a message.
 */
export class PostgresReplay {
  private readonly s: string;

  constructor(
    private readonly db: PgDb,
    private readonly schema: string,
    private readonly jobs: PostgresReplayJobs,
    private readonly channel: string,
  ) {
    this.s = quoteIdent(schema);
  }

  async replayBatch(params: Parameters<Store['deadLetterReplayBatch']>[0]): Promise<ReplayBatchResult> {
    const { s } = this;
    return this.db.transaction(async (tx) => {
      const job = await this.jobs.lock(tx, params.jobId);
      if (!job) throw new NotFoundError(`unknown replay job "${params.jobId}"`);
      if (job.holder !== params.holder || (job.status !== 'running' && job.status !== 'canary')) {
        throw new ConflictError(
          `replay job ${params.jobId} is ${job.status}` +
            (job.holder === params.holder ? '' : `, held by ${job.holder ?? 'nobody'}`) +
            `: ${params.holder} may not replay for it`,
        );
      }
      const limitOf = async (queue: string): Promise<number | undefined> =>
        (
          await tx.query<{ replay_limit: number }>(
            'replay_queue_limit',
            `SELECT replay_limit FROM ${s}.queues WHERE name = $1`,
            [queue],
          )
        ).rows[0]?.replay_limit;
      if (params.destination !== null && (await limitOf(params.destination)) === undefined) {
        throw new NotFoundError(`unknown queue "${params.destination}"`);
      }
      const limits = new Map<string, number>();
      // The batch's dead letters still in the DLQ, locked in the batch's order: a discard or
      // another replay of the same dead letter waits for this batch.
      const found = new Map<string, CandidateRow>();
      const locked = await tx.query<CandidateRow & { id: string }>(
        'replay_candidates',
        'SELECT d.id, d.queue, d.replay_count, d.idempotency_key, d.group_id, d.headers ' +
          `FROM unnest($1::text[]) WITH ORDINALITY AS i(id, ord) JOIN ${s}.dead_letters d ON d.id = i.id ` +
          'WHERE NOT d.replayed ORDER BY i.ord FOR UPDATE OF d',
        [params.items.map((item) => item.id)],
      );
      for (const row of locked.rows) found.set(row.id, row);
      // Per item, in the batch's order: a skip, or what to send.
      const decisions: (ReplaySkip | (Replayed & { headers: string; key: string | null }))[] = [];
      for (const item of params.items) {
        const candidate = found.get(item.id);
        if (!candidate) {
          decisions.push({ id: item.id, reason: 'gone' });
          continue;
        }
        found.delete(item.id); // an id twice in a batch is sent once
        let limit = limits.get(candidate.queue);
        if (limit === undefined) {
          limit = (await limitOf(candidate.queue)) ?? 0;
          limits.set(candidate.queue, limit);
        }
        if (candidate.replay_count >= limit) {
          decisions.push({ id: item.id, reason: 'replay_limit', detail: candidate.replay_count });
          continue;
        }
        // The replay headers replace those of an earlier replay in place, as SQLite's json_set.
        const headers = {
          ...candidate.headers,
          [REPLAY_HEADERS.replayOf]: item.id,
          [REPLAY_HEADERS.job]: params.jobId,
          [REPLAY_HEADERS.count]: String(candidate.replay_count + 1),
        };
        decisions.push({
          id: item.id,
          messageId: item.messageId,
          queue: params.destination ?? candidate.queue,
          source: candidate.queue,
          groupId: candidate.group_id,
          headers: JSON.stringify(headers),
          key: candidate.idempotency_key,
        });
      }
      const sends = decisions.filter(
        (d): d is Replayed & { headers: string; key: string | null } => 'messageId' in d,
      );
      // One statement for the batch. The destination's unique index allows one live message per
      // key: ON CONFLICT DO NOTHING skips a dead letter whose key a live message holds (also one
      // sent earlier in this batch, rows being inserted in the batch's order); it stays dead.
      // A sent dead letter stays where it is, flagged (out of the DLQ's partial indexes; its
      // out-of-line values are not copied), with a small record of the replay.
      const sent = new Set<string>();
      if (sends.length > 0) {
        const { rows } = await tx.query<{ replay_of: string }>(
          'replay_send',
          'WITH i AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY ' +
            'AS i(dead_letter_id, message_id, queue, headers, ord)), ' +
            `sent AS (INSERT INTO ${s}.messages (id, queue, state, body, headers, idempotency_key, enqueued_at, ` +
            "visible_at, replay_of, replay_count) SELECT i.message_id, i.queue, 'waiting', d.body, i.headers::json, " +
            `d.idempotency_key, $5, $5, d.id, d.replay_count + 1 FROM i JOIN ${s}.dead_letters d ON d.id = i.dead_letter_id ` +
            "ORDER BY i.ord ON CONFLICT (queue, idempotency_key) WHERE state IN ('waiting', 'leased') " +
            'AND idempotency_key IS NOT NULL DO NOTHING RETURNING id, replay_of), ' +
            `history AS (INSERT INTO ${s}.dead_letter_replays (id, queue, replayed_at, replayed_by, replay_job_id, ` +
            `replayed_to, destination) SELECT d.id, d.queue, $5, $6, $7, sent.id, i.queue FROM sent ` +
            `JOIN i ON i.dead_letter_id = sent.replay_of JOIN ${s}.dead_letters d ON d.id = sent.replay_of), ` +
            `flagged AS (UPDATE ${s}.dead_letters SET replayed = true WHERE id IN (SELECT replay_of FROM sent)) ` +
            'SELECT replay_of FROM sent',
          [
            sends.map((d) => d.id),
            sends.map((d) => d.messageId),
            sends.map((d) => d.queue),
            sends.map((d) => d.headers),
            params.now,
            params.actor,
            params.jobId,
          ],
        );
        for (const row of rows) sent.add(row.replay_of);
      }
      // Who holds the key of each one not sent: a live message of the destination.
      const held = new Map<string, string>();
      const unsent = sends.filter((d) => !sent.has(d.id) && d.key !== null);
      if (unsent.length > 0) {
        const { rows } = await tx.query<{ queue: string; key: string; id: string }>(
          'replay_key_holders',
          `SELECT m.queue, m.idempotency_key AS key, m.id FROM ${s}.messages m ` +
            'JOIN unnest($1::text[], $2::text[]) AS k(queue, key) ON m.queue = k.queue AND m.idempotency_key = k.key ' +
            "WHERE m.state IN ('waiting', 'leased')",
          [unsent.map((d) => d.queue), unsent.map((d) => d.key as string)],
        );
        for (const row of rows) held.set(`${row.queue}\0${row.key}`, row.id);
      }
      const replayed: Replayed[] = [];
      const skipped: ReplaySkip[] = [];
      for (const decision of decisions) {
        if (!('messageId' in decision)) skipped.push(decision);
        else if (sent.has(decision.id)) {
          const { id, messageId, queue, source, groupId } = decision;
          replayed.push({ id, messageId, queue, source, groupId });
        } else {
          const detail = held.get(`${decision.queue}\0${decision.key}`) ?? '';
          skipped.push({ id: decision.id, reason: 'duplicate_key', detail });
        }
      }
      await this.account(tx, replayed);
      let canary = job.canary;
      if (params.canary && replayed.length > 0) {
        const current: ReplayCanary = canary ?? emptyCanary();
        for (const r of replayed) current.messages.push({ deadLetterId: r.id, messageId: r.messageId });
        canary = current;
      }
      await tx.query(
        'replay_job_progress',
        `UPDATE ${s}.replay_jobs SET replayed = replayed + $2, skipped = skipped + $3, position = $4, ` +
          'canary = $5::json, updated_at = $6 WHERE id = $1',
        [
          params.jobId,
          replayed.length,
          skipped.length,
          JSON.stringify(params.position),
          canary === null ? null : JSON.stringify(canary),
          params.now,
        ],
      );
      if (skipped.length > 0) {
        await appendAudit(tx, this.schema, [
          {
            at: params.now,
            actor: params.actor,
            action: 'replay.skip',
            targetType: 'replay_job',
            targetId: params.jobId,
            details: { skipped: skipped.map((skip) => ({ ...skip })) },
          },
        ]);
      }
      const updated = await this.jobs.lock(tx, params.jobId);
      return {
        replayed: replayed.map(({ id, messageId, queue }) => ({ id, messageId, queue })),
        skipped,
        job: toReplayJob(updated as NonNullable<typeof updated>),
      };
    });
  }

  /** Group dead counts, source counters (dead−n, replayed+n) and wake-ups for a batch's replays. */
  private async account(tx: Queryable, replayed: Replayed[]): Promise<void> {
    if (replayed.length === 0) return;
    const { s } = this;
    await tx.query(
      'replay_account',
      'WITH r AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS r(group_id, source, queue)), ' +
        `grouped AS (UPDATE ${s}.groups g SET dead_count = g.dead_count - n.n ` +
        'FROM (SELECT group_id, count(*) AS n FROM r GROUP BY group_id) n WHERE g.id = n.group_id), ' +
        `counted AS (INSERT INTO ${s}.queue_counters AS c (queue, slot, dead, replayed) ` +
        'SELECT source, $4, -count(*), count(*) FROM r GROUP BY source ORDER BY source ' +
        'ON CONFLICT (queue, slot) DO UPDATE SET dead = c.dead + excluded.dead, replayed = c.replayed + excluded.replayed) ' +
        `SELECT count(pg_notify('${this.channel}', queue)) FROM (SELECT DISTINCT queue FROM r) q`,
      [
        replayed.map((r) => r.groupId),
        replayed.map((r) => r.source),
        replayed.map((r) => r.queue),
        randomCounterSlot(),
      ],
    );
  }

  /** Counts per key over the filter's rows: a GROUP BY over whichever index the filter uses. */
  async countBy(
    params: DeadLetterFilter & { by: keyof typeof COUNT_COLUMNS },
  ): Promise<{ key: string; count: number }[]> {
    const column = COUNT_COLUMNS[params.by];
    const t = deadLetterFilterTerms(params, new Terms(`count:${params.by}`));
    const { rows } = await this.db.query<{ key: string; count: number }>(
      UNPREPARED, // planned per run, like the list queries (skewed filter values)
      `SELECT ${column}::text AS key, count(*) AS count FROM ${this.s}.dead_letters${t.sql()} ` +
        `GROUP BY ${column} ORDER BY count DESC, key`,
      t.params,
    );
    return rows;
  }

  async findReplayed(id: string): Promise<ReplayedDeadLetter | undefined> {
    const { rows } = await this.db.query<ReplayedRow>(
      'replay_find_replayed',
      `SELECT ${DEAD_LETTER_COLUMNS}, replayed_at, replayed_by, replay_job_id, replayed_to, destination ` +
        `FROM ${this.s}.replayed_dead_letters WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      ...toDeadLetter(row),
      replayedAt: row.replayed_at,
      replayedBy: row.replayed_by,
      replayJobId: row.replay_job_id,
      replayedTo: row.replayed_to,
      destination: row.destination,
    };
  }

  async lineage(id: string): Promise<DeadLetterLineage> {
    const selfRow = await this.where(id);
    if (!selfRow) throw new NotFoundError(`no message, dead letter or tombstone with id "${id}"`);
    const self = toLink(id, selfRow);
    let next: LineageLink | null = null;
    if (selfRow.state === 'replayed' && selfRow.replayed_to !== null) {
      const row = await this.where(selfRow.replayed_to);
      if (row) next = toLink(selfRow.replayed_to, row);
    }
    if (!next) {
      // A replay that died again (still dead or replayed since) points back at this id (the
      // partial previous_id index).
      const { rows } = await this.db.query<{ id: string }>(
        'replay_died_again',
        `SELECT id FROM ${this.s}.dead_letters WHERE previous_id = $1 LIMIT 1`,
        [id],
      );
      const again = rows[0];
      if (again) {
        const row = await this.where(again.id);
        if (row) next = toLink(again.id, row);
      }
    }
    const previousId = selfRow.previous_id;
    const previousRow = previousId === null ? undefined : await this.where(previousId);
    return {
      self,
      previous: previousId !== null && previousRow ? toLink(previousId, previousRow) : null,
      next,
    };
  }

  /** The record of `id` wherever it is now: a message, a dead letter, the replay history or a tombstone. */
  private async where(id: string): Promise<LinkRow | undefined> {
    const { s } = this;
    const { rows } = await this.db.query<LinkRow>(
      'replay_link',
      `SELECT state, queue, enqueued_at AS at, replay_count, replay_of AS previous_id, NULL AS replayed_to ` +
        `FROM ${s}.messages WHERE id = $1 UNION ALL ` +
        `SELECT 'dead', queue, died_at, replay_count, previous_id, NULL FROM ${s}.dead_letters WHERE id = $1 ` +
        'AND NOT replayed UNION ALL ' +
        `SELECT 'replayed', queue, died_at, replay_count, previous_id, replayed_to FROM ${s}.replayed_dead_letters ` +
        `WHERE id = $1 UNION ALL SELECT 'discarded', queue, died_at, NULL, NULL, NULL FROM ${s}.tombstones WHERE id = $1`,
      [id],
    );
    return rows[0];
  }
}

function toLink(id: string, row: LinkRow): LineageLink {
  return { id, state: row.state, queue: row.queue, at: row.at, replayCount: row.replay_count };
}
