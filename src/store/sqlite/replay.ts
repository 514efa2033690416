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
import { FIND_LIVE_BY_KEY_SQL } from './statements.ts';

/** What a batch needs to know of a dead letter before replaying it. */
interface ReplayCandidateRow {
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
 * The new message of a replay, read from the dead letter in the same statement: the body (as
 * edited) and headers stay in SQLite (no JSON round trip through JavaScript), the replay
 * headers are set with `json_set` (replacing those of an earlier replay), the idempotency key
 * travels, and the replay count goes up by one.
 */
const INSERT_REPLAY_SQL =
  'INSERT INTO messages (id, queue, state, body, headers, idempotency_key, enqueued_at, visible_at, replay_of, replay_count) ' +
  "SELECT @messageId, @queue, 'waiting', body, " +
  `json_set(headers, '$."${REPLAY_HEADERS.replayOf}"', id, '$."${REPLAY_HEADERS.job}"', @jobId, ` +
  `'$."${REPLAY_HEADERS.count}"', CAST(replay_count + 1 AS TEXT)), ` +
  'idempotency_key, @now, @now, id, replay_count + 1 FROM dead_letters WHERE id = @id';

/** The dead letter's whole row moves to the replay history, with who replayed it to what. */
const MOVE_TO_HISTORY_SQL =
  'INSERT INTO replayed_dead_letters (id, queue, body, headers, idempotency_key, enqueued_at, attempts, ' +
  'attempt_count, error_name, error_message, error_stack, error_code, error_status, tier, fingerprint, group_id, ' +
  'died_at, replay_count, previous_id, original_body, edits, replayed_at, replayed_by, replay_job_id, replayed_to, ' +
  'destination) SELECT id, queue, body, headers, idempotency_key, enqueued_at, attempts, attempt_count, error_name, ' +
  'error_message, error_stack, error_code, error_status, tier, fingerprint, group_id, died_at, replay_count, ' +
  'previous_id, original_body, edits, @now, @actor, @jobId, @messageId, @queue FROM dead_letters WHERE id = @id';

/**
 * Replay on SQLite: the batch that moves dead letters back to queues, the dry run's counts,
 * the replay history and lineage. A batch is one immediate transaction, so a process killed
 * mid-batch leaves either all of it (messages sent, dead letters moved, the job's position
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
      candidate: db.prepare<[string], ReplayCandidateRow>(
        'SELECT queue, replay_count, idempotency_key, group_id FROM dead_letters WHERE id = ?',
      ),
      liveByKey: db.prepare<[string, string], { id: string }>(FIND_LIVE_BY_KEY_SQL),
      insertReplay: db.prepare<{ messageId: string; queue: string; jobId: string; now: number; id: string }>(
        INSERT_REPLAY_SQL,
      ),
      moveToHistory: db.prepare<{
        messageId: string;
        queue: string;
        jobId: string;
        now: number;
        actor: string;
        id: string;
      }>(MOVE_TO_HISTORY_SQL),
      deleteDead: db.prepare<[string]>('DELETE FROM dead_letters WHERE id = ?'),
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
      >('SELECT id, queue, died_at, replay_count, previous_id FROM dead_letters WHERE id = ?'),
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
      // A replay that died again: its dead letter points back (the partial previous_id indexes).
      diedAgain: db.prepare<[string, string], { id: string }>(
        'SELECT id FROM dead_letters WHERE previous_id = ? UNION ALL ' +
          'SELECT id FROM replayed_dead_letters WHERE previous_id = ? LIMIT 1',
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
        for (const item of params.items) {
          const candidate = this.sql.candidate.get(item.id);
          if (!candidate) {
            skipped.push({ id: item.id, reason: 'gone' });
            continue;
          }
          let limit = limits.get(candidate.queue);
          if (limit === undefined) {
            limit = this.sql.queueLimit.get(candidate.queue)?.replay_limit ?? 0;
            limits.set(candidate.queue, limit);
          }
          if (candidate.replay_count >= limit) {
            skipped.push({ id: item.id, reason: 'replay_limit', detail: candidate.replay_count });
            continue;
          }
          const queue = params.destination ?? candidate.queue;
          if (candidate.idempotency_key !== null) {
            // The destination's unique index allows one live message per key: the replay
            // waits until that one is done rather than replacing or doubling it.
            const live = this.sql.liveByKey.get(queue, candidate.idempotency_key);
            if (live) {
              skipped.push({ id: item.id, reason: 'duplicate_key', detail: live.id });
              continue;
            }
          }
          const row = { messageId: item.messageId, queue, jobId: params.jobId, now: params.now, id: item.id };
          this.sql.insertReplay.run(row);
          this.sql.moveToHistory.run({ ...row, actor: params.actor });
          this.sql.deleteDead.run(item.id);
          groups.set(candidate.group_id, (groups.get(candidate.group_id) ?? 0) + 1);
          sources.set(candidate.queue, (sources.get(candidate.queue) ?? 0) + 1);
          replayed.push({ id: item.id, messageId: item.messageId, queue });
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

  /** Counts per key over the filter's rows; a GROUP BY over whichever index the filter uses. */
  countBy(params: DeadLetterFilter & { by: keyof typeof COUNT_COLUMNS }): { key: string; count: number }[] {
    const column = COUNT_COLUMNS[params.by];
    const { where, values, key } = deadLetterWhere(params);
    const cacheKey = `${params.by}${key}`;
    let statement = this.counts.get(cacheKey);
    if (!statement) {
      statement = this.db.prepare<(string | number)[], { key: string; count: number }>(
        `SELECT CAST(${column} AS TEXT) AS key, COUNT(*) AS count FROM dead_letters` +
          (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
          ` GROUP BY ${column} ORDER BY count DESC, key`,
      );
      this.counts.set(cacheKey, statement);
    }
    return statement.all(...values);
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
        const again = this.sql.diedAgain.get(id, id);
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
