import type Database from 'better-sqlite3';
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
import type { SqliteAuditLog } from './audit.ts';

/** A row of `replay_jobs`. */
export interface ReplayJobRow {
  id: string;
  status: ReplayJobStatus;
  created_at: number;
  created_by: string;
  updated_at: number;
  finished_at: number | null;
  selector: string;
  destination: string | null;
  rate_per_second: number | null;
  batch_size: number;
  canary_size: number;
  canary_max_failure_rate: number;
  canary: string | null;
  planned: number;
  replayed: number;
  skipped: number;
  position: string | null;
  holder: string | null;
  holder_expires_at: number | null;
  message: string | null;
}

/** A `replay_jobs` row as a {@link ReplayJob}. */
export function toReplayJob(row: ReplayJobRow): ReplayJob {
  return {
    id: row.id,
    status: row.status,
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    selector: JSON.parse(row.selector) as DeadLetterFilter,
    destination: row.destination,
    ratePerSecond: row.rate_per_second,
    batchSize: row.batch_size,
    canarySize: row.canary_size,
    canaryMaxFailureRate: row.canary_max_failure_rate,
    canary: row.canary === null ? null : (JSON.parse(row.canary) as ReplayCanary),
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

/**
 * The replay-job statements of one connection. Every change is one immediate transaction; a
 * status change appends its audit entry in it.
 */
export class SqliteReplayJobs {
  private readonly db: Database.Database;
  private readonly audit: SqliteAuditLog;
  private readonly sql;

  constructor(db: Database.Database, audit: SqliteAuditLog) {
    this.db = db;
    this.audit = audit;
    this.sql = {
      insert: db.prepare<ReplayJobRow>(
        'INSERT INTO replay_jobs (id, status, created_at, created_by, updated_at, finished_at, selector, ' +
          'destination, rate_per_second, batch_size, canary_size, canary_max_failure_rate, canary, planned, ' +
          'replayed, skipped, position, holder, holder_expires_at, message) VALUES (@id, @status, @created_at, ' +
          '@created_by, @updated_at, @finished_at, @selector, @destination, @rate_per_second, @batch_size, ' +
          '@canary_size, @canary_max_failure_rate, @canary, @planned, @replayed, @skipped, @position, @holder, ' +
          '@holder_expires_at, @message) ON CONFLICT (id) DO NOTHING',
      ),
      get: db.prepare<[string], ReplayJobRow>('SELECT * FROM replay_jobs WHERE id = ?'),
      listAll: db.prepare<[number], ReplayJobRow>(
        'SELECT * FROM replay_jobs ORDER BY created_at DESC, id DESC LIMIT ?',
      ),
      listByStatus: db.prepare<[string, number], ReplayJobRow>(
        'SELECT * FROM replay_jobs WHERE status IN (SELECT value FROM json_each(?)) ' +
          'ORDER BY created_at DESC, id DESC LIMIT ?',
      ),
      // The few active jobs, oldest first (the status index serves each status).
      acquirable: db.prepare<{ holder: string; now: number }, ReplayJobRow>(
        `SELECT * FROM replay_jobs WHERE ${ACTIVE} ` +
          'AND (holder IS NULL OR holder = @holder OR holder_expires_at <= @now) ORDER BY created_at, id LIMIT 1',
      ),
      take: db.prepare<{ id: string; holder: string; expiresAt: number; now: number }, ReplayJobRow>(
        "UPDATE replay_jobs SET holder = @holder, holder_expires_at = @expiresAt, status = CASE status WHEN 'pending' " +
          "THEN 'running' ELSE status END, updated_at = @now WHERE id = @id RETURNING *",
      ),
      renew: db.prepare<{ id: string; holder: string; expiresAt: number }>(
        `UPDATE replay_jobs SET holder_expires_at = @expiresAt WHERE id = @id AND holder = @holder AND ${ACTIVE}`,
      ),
      update: db.prepare<ReplayJobRow, ReplayJobRow>(
        'UPDATE replay_jobs SET status = @status, updated_at = @updated_at, finished_at = @finished_at, ' +
          'canary = @canary, holder = @holder, holder_expires_at = @holder_expires_at, message = @message ' +
          'WHERE id = @id RETURNING *',
      ),
    };
  }

  create(params: Parameters<Store['replayJobCreate']>[0]): ReplayJob {
    const { settings } = params;
    const row: ReplayJobRow = {
      id: params.id,
      status: params.holder ? 'running' : 'pending',
      created_at: params.now,
      created_by: params.actor,
      updated_at: params.now,
      finished_at: null,
      selector: JSON.stringify(params.selector),
      destination: settings.destination,
      rate_per_second: settings.ratePerSecond,
      batch_size: settings.batchSize,
      canary_size: settings.canarySize,
      canary_max_failure_rate: settings.canaryMaxFailureRate,
      canary: settings.canarySize > 0 ? JSON.stringify(emptyCanary(settings.canaryTimeoutMs)) : null,
      planned: params.planned,
      replayed: 0,
      skipped: 0,
      position: null,
      holder: params.holder?.holder ?? null,
      holder_expires_at: params.holder ? params.now + params.holder.leaseMs : null,
      message: null,
    };
    this.db
      .transaction(() => {
        if (this.sql.insert.run(row).changes === 0) {
          throw new ConflictError(`replay job id "${params.id}" is already taken`);
        }
        this.audit.append({
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
        });
      })
      .immediate();
    return toReplayJob(row);
  }

  get(id: string): ReplayJob | undefined {
    const row = this.sql.get.get(id);
    return row ? toReplayJob(row) : undefined;
  }

  list(params: { statuses?: ReplayJobStatus[]; limit: number }): ReplayJob[] {
    const rows = params.statuses
      ? this.sql.listByStatus.all(JSON.stringify(params.statuses), params.limit)
      : this.sql.listAll.all(params.limit);
    return rows.map(toReplayJob);
  }

  acquire(params: { holder: string; leaseMs: number; now: number; jobId?: string }): ReplayJob | undefined {
    return this.db
      .transaction(() => {
        let row: ReplayJobRow | undefined;
        if (params.jobId === undefined) {
          row = this.sql.acquirable.get({ holder: params.holder, now: params.now });
        } else {
          row = this.sql.get.get(params.jobId);
          const free =
            row !== undefined &&
            ACTIVE_REPLAY_STATUSES.includes(row.status) &&
            (row.holder === null ||
              row.holder === params.holder ||
              (row.holder_expires_at ?? 0) <= params.now);
          if (!free) row = undefined;
        }
        if (!row) return undefined;
        const taken = this.sql.take.get({
          id: row.id,
          holder: params.holder,
          expiresAt: params.now + params.leaseMs,
          now: params.now,
        });
        return taken ? toReplayJob(taken) : undefined;
      })
      .immediate();
  }

  renew(params: { id: string; holder: string; leaseMs: number; now: number }): boolean {
    const result = this.db
      .transaction(() =>
        this.sql.renew.run({ id: params.id, holder: params.holder, expiresAt: params.now + params.leaseMs }),
      )
      .immediate();
    return result.changes === 1;
  }

  update(params: Parameters<Store['replayJobUpdate']>[0]): ReplayJob {
    return this.db
      .transaction(() => {
        const row = this.sql.get.get(params.id);
        if (!row) throw new NotFoundError(`unknown replay job "${params.id}"`);
        if (params.holder !== undefined && row.holder !== params.holder) {
          throw new ConflictError(
            `replay job ${params.id} is no longer held by ${params.holder}` +
              (row.holder ? ` (held by ${row.holder})` : ` (it is ${row.status})`),
          );
        }
        const to = params.status ?? row.status;
        if (to !== row.status) assertReplayTransition(params.id, row.status, to);
        // A job that stops being worked on is let go at once, so resuming it needs no wait
        // for a lease; a runner still working on it finds out at its next batch (fenced).
        const release = params.release === true || !ACTIVE_REPLAY_STATUSES.includes(to);
        const next: ReplayJobRow = {
          ...row,
          status: to,
          updated_at: params.now,
          finished_at: isFinalReplayStatus(to) ? (row.finished_at ?? params.now) : row.finished_at,
          canary:
            params.canary === undefined
              ? row.canary
              : params.canary === null
                ? null
                : JSON.stringify(params.canary),
          holder: release ? null : row.holder,
          holder_expires_at: release ? null : row.holder_expires_at,
          message: params.message === undefined ? row.message : params.message,
        };
        const updated = this.sql.update.get(next) as ReplayJobRow;
        const action = to === row.status ? undefined : auditActionFor(row.status, to);
        if (action) {
          this.audit.append({
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
                updated.canary !== null && {
                  canary: (JSON.parse(updated.canary) as ReplayCanary).outcome as unknown as Json,
                }),
            },
          });
        }
        return toReplayJob(updated);
      })
      .immediate();
  }
}

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
