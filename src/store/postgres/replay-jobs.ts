import type { AuditAction } from '../../core/audit.ts';
import type { DeadLetterCursor, DeadLetterFilter } from '../../core/dead-letter.ts';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { Json } from '../../core/message.ts';
import {
  ACTIVE_REPLAY_STATUSES,
  assertReplayTransition,
  DEFAULT_CANARY_TIMEOUT_MS,
  emptyCanary,
  isFinalReplayStatus,
  type ReplayCanary,
  type ReplayJob,
  type ReplayJobSettings,
  type ReplayJobStatus,
} from '../../core/replay.ts';
import type { Store } from '../store.ts';
import { appendAudit } from './audit.ts';
import { isUniqueViolation, quoteIdent } from './connection.ts';
import type { PgDb, Queryable } from './db.ts';

/** A row of `replay_jobs` as `pg` returns it (`selector` and `canary` are json, parsed). */
export interface ReplayJobRow {
  id: string;
  status: ReplayJobStatus;
  created_at: number;
  created_by: string;
  updated_at: number;
  finished_at: number | null;
  selector: DeadLetterFilter;
  destination: string | null;
  rate_per_second: number | null;
  batch_size: number;
  canary_size: number;
  canary_max_failure_rate: number;
  canary: ReplayCanary | null;
  planned: number;
  replayed: number;
  skipped: number;
  /** JSON text of the (diedAt, id) cursor. */
  position: string | null;
  holder: string | null;
  holder_expires_at: number | null;
  message: string | null;
}

/** The columns of `replay_jobs`, named (never `*`: see QUEUE_COLUMNS in statements.ts). */
export const REPLAY_JOB_COLUMNS =
  'id, status, created_at, created_by, updated_at, finished_at, selector, destination, rate_per_second, ' +
  'batch_size, canary_size, canary_max_failure_rate, canary, planned, replayed, skipped, position, holder, ' +
  'holder_expires_at, message';

/** A `replay_jobs` row as a {@link ReplayJob}. */
export function toReplayJob(row: ReplayJobRow): ReplayJob {
  return {
    id: row.id,
    status: row.status,
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    selector: row.selector,
    destination: row.destination,
    ratePerSecond: row.rate_per_second,
    batchSize: row.batch_size,
    canarySize: row.canary_size,
    canaryMaxFailureRate: row.canary_max_failure_rate,
    canary: row.canary,
    planned: row.planned,
    replayed: row.replayed,
    skipped: row.skipped,
    position: row.position === null ? null : (JSON.parse(row.position) as DeadLetterCursor),
    holder: row.holder,
    holderExpiresAt: row.holder_expires_at,
    message: row.message,
  };
}

/** The audit action a status change records, or undefined (running ⇄ canary, pending → running). */
function auditActionFor(from: ReplayJobStatus, to: ReplayJobStatus): AuditAction | undefined {
  if (to === 'paused') return 'replay.pause';
  if (from === 'paused' && to === 'pending') return 'replay.resume';
  if (to === 'cancelled') return 'replay.cancel';
  if (isFinalReplayStatus(to)) return 'replay.finish';
  return undefined;
}

const ACTIVE = `status IN (${ACTIVE_REPLAY_STATUSES.map((s) => `'${s}'`).join(', ')})`;

/** A job's settings as audit details. */
function settingsDetails(settings: ReplayJobSettings): { [key: string]: Json } {
  return {
    destination: settings.destination,
    ratePerSecond: settings.ratePerSecond,
    batchSize: settings.batchSize,
    canarySize: settings.canarySize,
    canaryMaxFailureRate: settings.canaryMaxFailureRate,
    ...(settings.canarySize > 0 && {
      canaryTimeoutMs: settings.canaryTimeoutMs ?? DEFAULT_CANARY_TIMEOUT_MS,
    }),
  };
}

/**
 * Durable replay jobs on PostgreSQL. Each change is one transaction that first locks the job
 * row (`FOR UPDATE`), so two runners or a runner and an operator's pause apply one after the
 * other, exactly as SQLite's single writer orders them; a status change appends its audit
 * entry in the same transaction.
 */
export class PostgresReplayJobs {
  private readonly s: string;

  constructor(
    private readonly db: PgDb,
    private readonly schema: string,
  ) {
    this.s = quoteIdent(schema);
  }

  /** The job, locked to the end of the caller's transaction. */
  async lock(tx: Queryable, id: string): Promise<ReplayJobRow | undefined> {
    const { rows } = await tx.query<ReplayJobRow>(
      'replay_job_lock',
      `SELECT ${REPLAY_JOB_COLUMNS} FROM ${this.s}.replay_jobs WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0];
  }

  async create(params: Parameters<Store['replayJobCreate']>[0]): Promise<ReplayJob> {
    const { settings } = params;
    return this.db.transaction(async (tx) => {
      let rows: ReplayJobRow[];
      try {
        ({ rows } = await tx.query<ReplayJobRow>(
          'replay_job_insert',
          `INSERT INTO ${this.s}.replay_jobs (${REPLAY_JOB_COLUMNS}) VALUES ($1, $2, $3, $4, $3, NULL, $5::json, $6, ` +
            '$7, $8, $9, $10, $11::json, $12, 0, 0, NULL, $13, $14, NULL) ON CONFLICT (id) DO NOTHING ' +
            `RETURNING ${REPLAY_JOB_COLUMNS}`,
          [
            params.id,
            params.holder ? 'running' : 'pending',
            params.now,
            params.actor,
            JSON.stringify(params.selector),
            settings.destination,
            settings.ratePerSecond,
            settings.batchSize,
            settings.canarySize,
            settings.canaryMaxFailureRate,
            settings.canarySize > 0 ? JSON.stringify(emptyCanary(settings.canaryTimeoutMs)) : null,
            params.planned,
            params.holder?.holder ?? null,
            params.holder ? params.now + params.holder.leaseMs : null,
          ],
        ));
      } catch (cause) {
        if (isUniqueViolation(cause))
          throw new ConflictError(`replay job id "${params.id}" is already taken`, { cause });
        throw cause;
      }
      const row = rows[0];
      if (!row) throw new ConflictError(`replay job id "${params.id}" is already taken`);
      await appendAudit(tx, this.schema, [
        {
          at: params.now,
          actor: params.actor,
          action: 'replay.create',
          targetType: 'replay_job',
          targetId: params.id,
          details: {
            selector: params.selector as unknown as Json,
            ...settingsDetails(settings),
            planned: params.planned,
            ...params.details,
          },
        },
      ]);
      return toReplayJob(row);
    });
  }

  async get(id: string): Promise<ReplayJob | undefined> {
    const { rows } = await this.db.query<ReplayJobRow>(
      'replay_job_get',
      `SELECT ${REPLAY_JOB_COLUMNS} FROM ${this.s}.replay_jobs WHERE id = $1`,
      [id],
    );
    return rows[0] ? toReplayJob(rows[0]) : undefined;
  }

  /** Newest first; `statuses` keeps only jobs in those statuses (all when absent). */
  async list(params: { statuses?: ReplayJobStatus[]; limit: number }): Promise<ReplayJob[]> {
    const { rows } = await this.db.query<ReplayJobRow>(
      'replay_job_list',
      `SELECT ${REPLAY_JOB_COLUMNS} FROM ${this.s}.replay_jobs WHERE ($1::text[] IS NULL OR status = ANY($1::text[])) ` +
        'ORDER BY created_at DESC, id DESC LIMIT $2',
      [params.statuses ?? null, params.limit],
    );
    return rows.map(toReplayJob);
  }

  /**
   * Takes the oldest free active job (or `jobId`) for `holder`. Runners looking at once skip the
   * job another is taking (`SKIP LOCKED`) and take the next one instead of waiting.
   */
  async acquire(params: {
    holder: string;
    leaseMs: number;
    now: number;
    jobId?: string;
  }): Promise<ReplayJob | undefined> {
    return this.db.transaction(async (tx) => {
      let row: ReplayJobRow | undefined;
      if (params.jobId === undefined) {
        const { rows } = await tx.query<ReplayJobRow>(
          'replay_job_acquirable',
          `SELECT ${REPLAY_JOB_COLUMNS} FROM ${this.s}.replay_jobs WHERE ${ACTIVE} ` +
            'AND (holder IS NULL OR holder = $1 OR holder_expires_at <= $2) ORDER BY created_at, id LIMIT 1 ' +
            'FOR UPDATE SKIP LOCKED',
          [params.holder, params.now],
        );
        row = rows[0];
      } else {
        row = await this.lock(tx, params.jobId);
        const free =
          row !== undefined &&
          ACTIVE_REPLAY_STATUSES.includes(row.status) &&
          (row.holder === null || row.holder === params.holder || (row.holder_expires_at ?? 0) <= params.now);
        if (!free) row = undefined;
      }
      if (!row) return undefined;
      const { rows } = await tx.query<ReplayJobRow>(
        'replay_job_take',
        `UPDATE ${this.s}.replay_jobs SET holder = $2, holder_expires_at = $3, ` +
          "status = CASE status WHEN 'pending' THEN 'running' ELSE status END, updated_at = $4 WHERE id = $1 " +
          `RETURNING ${REPLAY_JOB_COLUMNS}`,
        [row.id, params.holder, params.now + params.leaseMs, params.now],
      );
      return rows[0] ? toReplayJob(rows[0]) : undefined;
    });
  }

  async renew(params: { id: string; holder: string; leaseMs: number; now: number }): Promise<boolean> {
    const result = await this.db.query(
      'replay_job_renew',
      `UPDATE ${this.s}.replay_jobs SET holder_expires_at = $3 WHERE id = $1 AND holder = $2 AND ${ACTIVE}`,
      [params.id, params.holder, params.now + params.leaseMs],
    );
    return result.rowCount === 1;
  }

  async update(params: Parameters<Store['replayJobUpdate']>[0]): Promise<ReplayJob> {
    return this.db.transaction(async (tx) => {
      const row = await this.lock(tx, params.id);
      if (!row) throw new NotFoundError(`unknown replay job "${params.id}"`);
      if (params.holder !== undefined && row.holder !== params.holder) {
        throw new ConflictError(
          `replay job ${params.id} is no longer held by ${params.holder}` +
            (row.holder ? ` (held by ${row.holder})` : ` (it is ${row.status})`),
        );
      }
      const to = params.status ?? row.status;
      if (to !== row.status) assertReplayTransition(params.id, row.status, to);
      // A job that stops being worked on is let go at once, so resuming it needs no wait for a
      // lease; a runner still working on it finds out at its next batch (fenced).
      const release = params.release === true || !ACTIVE_REPLAY_STATUSES.includes(to);
      const canary = params.canary === undefined ? row.canary : params.canary;
      const { rows } = await tx.query<ReplayJobRow>(
        'replay_job_update',
        `UPDATE ${this.s}.replay_jobs SET status = $2, updated_at = $3, finished_at = $4, canary = $5::json, ` +
          `holder = $6, holder_expires_at = $7, message = $8 WHERE id = $1 RETURNING ${REPLAY_JOB_COLUMNS}`,
        [
          params.id,
          to,
          params.now,
          isFinalReplayStatus(to) ? (row.finished_at ?? params.now) : row.finished_at,
          canary === null ? null : JSON.stringify(canary),
          release ? null : row.holder,
          release ? null : row.holder_expires_at,
          params.message === undefined ? row.message : params.message,
        ],
      );
      const updated = rows[0] as ReplayJobRow;
      const action = to === row.status ? undefined : auditActionFor(row.status, to);
      if (action) {
        await appendAudit(tx, this.schema, [
          {
            at: params.now,
            actor: params.actor,
            action,
            targetType: 'replay_job',
            targetId: params.id,
            details: {
              from: row.status,
              to,
              planned: updated.planned,
              replayed: updated.replayed,
              skipped: updated.skipped,
              ...(updated.message !== null && { message: updated.message }),
              ...(action === 'replay.finish' &&
                updated.canary !== null && { canary: updated.canary.outcome as unknown as Json }),
            },
          },
        ]);
      }
      return toReplayJob(updated);
    });
  }
}
