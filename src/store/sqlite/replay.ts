import type Database from 'better-sqlite3';
import type { DeadLetterFilter } from '../../core/dead-letter.ts';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { DeadLetterLineage, LineageLink, ReplayedDeadLetter } from '../../core/lineage.ts';
import { emptyCanary, REPLAY_HEADERS, type ReplayCanary, type ReplaySkip } from '../../core/replay.ts';
import type { ReplayBatchResult, Store } from '../store.ts';
import type { SqliteAuditLog } from './audit.ts';
import { deadLetterWhere } from './list-queries.ts';
import { type ReplayJobRow, toReplayJob } from './replay-jobs.ts';
import { type DeadLetterRow, toDeadLetter } from './rows.ts';

/** What a batch needs to know of a dead letter before replaying it. */
interface ReplayCandidateRow {
  /** The item's position in the batch. */
  k: number;
  queue: string;
  replay_count: number;
  idempotency_key: string | null;
  group_id: string;
}

/** A row of `replayed_dead_letters`. */
interface ReplayedRow extends DeadLetterRow {
  replayed_at: number;
  replayed_by: string;
  replay_job_id: string | null;
  replayed_to: string;
  destination: string;
}

const COUNT_COLUMNS = {
  group: 'group_id',
  tier: 'tier',
  queue: 'queue',
  replayCount: 'replay_count',
} as const;

/**
 * The batch's dead letters still in the DLQ, with what the checks need. `json_each` drives the
 * join (one primary-key probe per id); `k` is the item's position in the batch.
 */
const CANDIDATES_SQL =
  'SELECT j.key AS k, d.queue, d.replay_count, d.idempotency_key, d.group_id ' +
  'FROM json_each(?) AS j CROSS JOIN dead_letters AS d ON d.id = j.value AND d.replayed = 0';

/**
 * Live (waiting or leased) messages holding the keys a batch would send, given as
 * `[[queue, key], ...]`: one probe each of the partial unique index on (queue, idempotency_key).
 */
const LIVE_KEYS_SQL =
  'SELECT m.queue, m.idempotency_key AS key, m.id FROM json_each(?) AS j CROSS JOIN messages AS m ' +
  "ON m.queue = j.value ->> 0 AND m.idempotency_key = j.value ->> 1 AND m.state IN ('waiting', 'leased')";

/**
 * The new messages of a batch, `@pairs` = `[[deadLetterId, messageId], ...]`, inserted in that
 * order, each read from its dead letter in the same statement: the body (as edited) and headers
 * stay in SQLite (no JSON round trip through JavaScript), the replay headers are set with
 * `json_set` (replacing those of an earlier replay), the idempotency key travels, and the
 * replay count goes up by one. One statement per batch, not per row: the hot path of a replay.
 */
const INSERT_REPLAYS_SQL =
  'INSERT INTO messages (id, queue, state, body, headers, idempotency_key, enqueued_at, visible_at, replay_of, replay_count) ' +
  "SELECT j.value ->> 1, coalesce(@destination, d.queue), 'waiting', d.body, " +
  `json_set(d.headers, '$."${REPLAY_HEADERS.replayOf}"', d.id, '$."${REPLAY_HEADERS.job}"', @jobId, ` +
  `'$."${REPLAY_HEADERS.count}"', CAST(d.replay_count + 1 AS TEXT)), ` +
  'd.idempotency_key, @now, @now, d.id, d.replay_count + 1 ' +
  'FROM json_each(@pairs) AS j CROSS JOIN dead_letters AS d ON d.id = j.value ->> 0';

/**
 * The replay history's small record of each of the batch's dead letters: who replayed it to
 * what. The dead letter itself (body, attempts) stays where it is.
 */
const RECORD_REPLAYS_SQL =
  'INSERT INTO dead_letter_replays (id, queue, replayed_at, replayed_by, replay_job_id, replayed_to, destination) ' +
  'SELECT d.id, d.queue, @now, @actor, @jobId, j.value ->> 1, coalesce(@destination, d.queue) ' +
  'FROM json_each(@pairs) AS j CROSS JOIN dead_letters AS d ON d.id = j.value ->> 0';

/**
 * The batch's dead letters leave the DLQ: the flag takes them out of its (partial) list indexes.
 * 0 and 1 take no bytes in the record, so SQLite overwrites each row in place and writes only
 * the page holding its header, not the overflow pages of its attempts.
 */
const MARK_REPLAYED_SQL =
  'UPDATE dead_letters SET replayed = 1 WHERE id IN (SELECT value ->> 0 FROM json_each(@pairs))';

/** Parameters of the batch statements. */
interface BatchParams {
  pairs: string;
  destination: string | null;
  jobId: string;
  now: number;
}

/**
 * Replay on SQLite: the batch that moves dead letters back to queues, the dry run's counts,
 * the replay history and lineage. A batch is one immediate transaction, so a process killed
 * mid-batch leaves either all of it (messages sent, dead letters flagged replayed, the job's position
 * advanced) or none of it: a resumed job neither loses nor repeats a message.
 */
export class SqliteReplay {
  private readonly db: Database.Database;
  private readonly audit: SqliteAuditLog;
  private readonly counts = new Map<
    string,
    Database.Statement<(string | number)[], { key: string; count: number }>
  >();
  private readonly sql;

  constructor(db: Database.Database, audit: SqliteAuditLog) {
    this.db = db;
    this.audit = audit;
    this.sql = {
      job: db.prepare<[string], ReplayJobRow>('SELECT * FROM replay_jobs WHERE id = ?'),
      queueLimit: db.prepare<[string], { replay_limit: number }>(
        'SELECT replay_limit FROM queues WHERE name = ?',
      ),
      candidates: db.prepare<[string], ReplayCandidateRow>(CANDIDATES_SQL),
      liveKeys: db.prepare<[string], { queue: string; key: string; id: string }>(LIVE_KEYS_SQL),
      insertReplays: db.prepare<BatchParams>(INSERT_REPLAYS_SQL),
      recordReplays: db.prepare<BatchParams & { actor: string }>(RECORD_REPLAYS_SQL),
      markReplayed: db.prepare<{ pairs: string }>(MARK_REPLAYED_SQL),
      groupDeadCount: db.prepare<[number, string]>(
        'UPDATE groups SET dead_count = dead_count - ? WHERE id = ?',
      ),
      countersReplayed: db.prepare<[number, number, string]>(
        'UPDATE queue_counters SET dead = dead - ?, replayed = replayed + ? WHERE queue = ?',
      ),
      jobProgress: db.prepare<{
        id: string;
        replayed: number;
        skipped: number;
        position: string;
        canary: string | null;
        now: number;
      }>(
        'UPDATE replay_jobs SET replayed = replayed + @replayed, skipped = skipped + @skipped, position = @position, ' +
          'canary = @canary, updated_at = @now WHERE id = @id',
      ),
      replayedGet: db.prepare<[string], ReplayedRow>('SELECT * FROM replayed_dead_letters WHERE id = ?'),
      messageLink: db.prepare<
        [string],
        {
          id: string;
          queue: string;
          state: 'waiting' | 'leased' | 'done';
          enqueued_at: number;
          replay_count: number;
          replay_of: string | null;
        }
      >('SELECT id, queue, state, enqueued_at, replay_count, replay_of FROM messages WHERE id = ?'),
      deadLink: db.prepare<
        [string],
        { id: string; queue: string; died_at: number; replay_count: number; previous_id: string | null }
      >(
        'SELECT id, queue, died_at, replay_count, previous_id FROM dead_letters WHERE id = ? AND replayed = 0',
      ),
      replayedLink: db.prepare<
        [string],
        {
          id: string;
          queue: string;
          died_at: number;
          replay_count: number;
          previous_id: string | null;
          replayed_to: string;
        }
      >(
        'SELECT id, queue, died_at, replay_count, previous_id, replayed_to FROM replayed_dead_letters WHERE id = ?',
      ),
      tombstoneLink: db.prepare<[string], { id: string; queue: string; died_at: number }>(
        'SELECT id, queue, died_at FROM tombstones WHERE id = ?',
      ),
      // A replay that died again (still dead or replayed since): its dead letter points back
      // (the partial previous_id index).
      diedAgain: db.prepare<[string], { id: string }>(
        'SELECT id FROM dead_letters WHERE previous_id = ? LIMIT 1',
      ),
    };
  }

  replayBatch(params: Parameters<Store['deadLetterReplayBatch']>[0]): ReplayBatchResult {
    return this.db
      .transaction((): ReplayBatchResult => {
        const job = this.sql.job.get(params.jobId);
        if (!job) throw new NotFoundError(`unknown replay job "${params.jobId}"`);
        if (job.holder !== params.holder || (job.status !== 'running' && job.status !== 'canary')) {
          throw new ConflictError(
            `replay job ${params.jobId} is ${job.status}` +
              (job.holder === params.holder ? '' : `, held by ${job.holder ?? 'nobody'}`) +
              `: ${params.holder} may not replay for it`,
          );
        }
        if (params.destination !== null && !this.sql.queueLimit.get(params.destination)) {
          throw new NotFoundError(`unknown queue "${params.destination}"`);
        }
        const limits = new Map<string, number>();
        const groups = new Map<string, number>();
        const sources = new Map<string, number>();
        const replayed: ReplayBatchResult['replayed'] = [];
        const skipped: ReplaySkip[] = [];
        const { items } = params;
        const candidates = new Map<number, ReplayCandidateRow>();
        for (const row of this.sql.candidates.all(JSON.stringify(items.map((item) => item.id)))) {
          candidates.set(row.k, row);
        }
        // First the checks that need nothing but the dead letter; then the keys of the rest,
        // looked up at once; then the decisions, in the batch's order.
        const decisions: (ReplaySkip | { queue: string; candidate: ReplayCandidateRow })[] = [];
        const probes: [string, string][] = [];
        for (const [k, item] of items.entries()) {
          const candidate = candidates.get(k);
          if (!candidate) {
            decisions.push({ id: item.id, reason: 'gone' });
            continue;
          }
          let limit = limits.get(candidate.queue);
          if (limit === undefined) {
            limit = this.sql.queueLimit.get(candidate.queue)?.replay_limit ?? 0;
            limits.set(candidate.queue, limit);
          }
          if (candidate.replay_count >= limit) {
            decisions.push({ id: item.id, reason: 'replay_limit', detail: candidate.replay_count });
            continue;
          }
          const queue = params.destination ?? candidate.queue;
          if (candidate.idempotency_key !== null) probes.push([queue, candidate.idempotency_key]);
          decisions.push({ queue, candidate });
        }
        // The destination's unique index allows one live message per key: a replay waits until
        // that one is done rather than replacing or doubling it (also within this batch).
        const live = new Map<string, string>();
        if (probes.length > 0) {
          for (const row of this.sql.liveKeys.all(JSON.stringify(probes)))
            live.set(`${row.queue}\0${row.key}`, row.id);
        }
        const pairs: [string, string][] = [];
        for (const [k, decision] of decisions.entries()) {
          const item = items[k] as { id: string; messageId: string };
          if ('reason' in decision) {
            skipped.push(decision);
            continue;
          }
          const { queue, candidate } = decision;
          if (candidate.idempotency_key !== null) {
            const key = `${queue}\0${candidate.idempotency_key}`;
            const holder = live.get(key);
            if (holder !== undefined) {
              skipped.push({ id: item.id, reason: 'duplicate_key', detail: holder });
              continue;
            }
            live.set(key, item.messageId);
          }
          pairs.push([item.id, item.messageId]);
          groups.set(candidate.group_id, (groups.get(candidate.group_id) ?? 0) + 1);
          sources.set(candidate.queue, (sources.get(candidate.queue) ?? 0) + 1);
          replayed.push({ id: item.id, messageId: item.messageId, queue });
        }
        if (pairs.length > 0) {
          const batch = {
            pairs: JSON.stringify(pairs),
            destination: params.destination,
            jobId: params.jobId,
            now: params.now,
          };
          this.sql.insertReplays.run(batch);
          this.sql.recordReplays.run({ ...batch, actor: params.actor });
          this.sql.markReplayed.run({ pairs: batch.pairs });
        }
        for (const [groupId, n] of groups) this.sql.groupDeadCount.run(n, groupId);
        for (const [queue, n] of sources) this.sql.countersReplayed.run(n, n, queue);
        let canary = job.canary;
        if (params.canary && replayed.length > 0) {
          const current: ReplayCanary = canary ? (JSON.parse(canary) as ReplayCanary) : emptyCanary();
          for (const r of replayed) current.messages.push({ deadLetterId: r.id, messageId: r.messageId });
          canary = JSON.stringify(current);
        }
        this.sql.jobProgress.run({
          id: params.jobId,
          replayed: replayed.length,
          skipped: skipped.length,
          position: JSON.stringify(params.position),
          canary,
          now: params.now,
        });
        if (skipped.length > 0) {
          this.audit.append({
            at: params.now,
            actor: params.actor,
            action: 'replay.skip',
            targetType: 'replay_job',
            targetId: params.jobId,
            details: { skipped: skipped.map((s) => ({ ...s })) },
          });
        }
        return { replayed, skipped, job: toReplayJob(this.sql.job.get(params.jobId) as ReplayJobRow) };
      })
      .immediate();
  }

  /**
   * Counts per key over the filter's rows: a GROUP BY over whichever index the filter uses.
   * Replay counts are not in any index and sit after the (large) attempts in the row, so a
   * plain GROUP BY would read every row of a big selection. Dead letters replayed before are
   * exactly those with a `previous_id` (a replay that died again), which has a small partial
   * index: those are counted per replay count, and the rest, counted on an index, are the 0s.
   */
  countBy(params: DeadLetterFilter & { by: keyof typeof COUNT_COLUMNS }): { key: string; count: number }[] {
    const { where, values, key } = deadLetterWhere(params);
    const and = where.length > 0 ? ` AND ${where.join(' AND ')}` : '';
    if (params.by !== 'replayCount') {
      const column = COUNT_COLUMNS[params.by];
      return this.countStatement(
        `${params.by}${key}`,
        `SELECT CAST(${column} AS TEXT) AS key, COUNT(*) AS count FROM dead_letters` +
          (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
          ` GROUP BY ${column} ORDER BY count DESC, key`,
      ).all(...values);
    }
    return this.db.transaction(() => {
      const replayed = this.countStatement(
        `replayed${key}`,
        'SELECT CAST(replay_count AS TEXT) AS key, COUNT(*) AS count FROM dead_letters INDEXED BY dead_letters_previous ' +
          `WHERE previous_id IS NOT NULL${and} GROUP BY replay_count`,
      ).all(...values);
      const [total] = this.countStatement(
        `total${key}`,
        `SELECT '' AS key, COUNT(*) AS count FROM dead_letters${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`,
      ).all(...values);
      const counts = new Map(replayed.map((row) => [row.key, row.count]));
      const zero = (total?.count ?? 0) - replayed.reduce((sum, row) => sum + row.count, 0);
      if (zero > 0) counts.set('0', (counts.get('0') ?? 0) + zero);
      return [...counts]
        .map(([k, count]) => ({ key: k, count }))
        .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    })();
  }

  private countStatement(
    key: string,
    sql: string,
  ): Database.Statement<(string | number)[], { key: string; count: number }> {
    let statement = this.counts.get(key);
    if (!statement) {
      statement = this.db.prepare<(string | number)[], { key: string; count: number }>(sql);
      this.counts.set(key, statement);
    }
    return statement;
  }

  findReplayed(id: string): ReplayedDeadLetter | undefined {
    const row = this.sql.replayedGet.get(id);
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

  lineage(id: string): DeadLetterLineage {
    return this.db.transaction((): DeadLetterLineage => {
      const self = this.link(id);
      if (!self) throw new NotFoundError(`no message, dead letter or tombstone with id "${id}"`);
      const previousId = this.previousIdOf(id);
      let next: LineageLink | null = null;
      const replayed = this.sql.replayedLink.get(id);
      if (replayed) next = this.link(replayed.replayed_to) ?? null;
      if (!next) {
        const again = this.sql.diedAgain.get(id);
        if (again) next = this.link(again.id) ?? null;
      }
      return { self, previous: previousId === null ? null : (this.link(previousId) ?? null), next };
    })();
  }

  /** The record of `id` wherever it is now: a message, a dead letter, the replay history or a tombstone. */
  private link(id: string): LineageLink | undefined {
    const message = this.sql.messageLink.get(id);
    if (message) {
      return {
        id,
        state: message.state,
        queue: message.queue,
        at: message.enqueued_at,
        replayCount: message.replay_count,
      };
    }
    const dead = this.sql.deadLink.get(id);
    if (dead)
      return { id, state: 'dead', queue: dead.queue, at: dead.died_at, replayCount: dead.replay_count };
    const replayed = this.sql.replayedLink.get(id);
    if (replayed) {
      return {
        id,
        state: 'replayed',
        queue: replayed.queue,
        at: replayed.died_at,
        replayCount: replayed.replay_count,
      };
    }
    const tombstone = this.sql.tombstoneLink.get(id);
    if (tombstone)
      return { id, state: 'discarded', queue: tombstone.queue, at: tombstone.died_at, replayCount: null };
    return undefined;
  }

  private previousIdOf(id: string): string | null {
    const message = this.sql.messageLink.get(id);
    if (message) return message.replay_of;
    const dead = this.sql.deadLink.get(id) ?? this.sql.replayedLink.get(id);
    return dead?.previous_id ?? null;
  }
}
