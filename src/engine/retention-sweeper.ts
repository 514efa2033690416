import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { type ArchivableDeadLetter, archiveDay, toArchiveRecord } from '../core/archive-record.ts';
import type { Clock } from '../core/clock.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { ArchivedRef, Store } from '../store/store.ts';
import {
  archiveFilePath,
  archiveIdOf,
  GzipFileWriter,
  readGzipLines,
  removeTempFiles,
  syncDirectory,
} from './archive-file.ts';
import type { MaintenanceService } from './maintenance.ts';

const DAY_MS = 86_400_000;

/** Where archives go when neither the `archiveDir` option, `--archive-dir` nor `DEADLETTER_ARCHIVE_DIR` says. */
export const DEFAULT_ARCHIVE_DIR = './.deadletter/archive';

/** The leadership a sweep holds while it runs, so that two sweeps never write the same file. */
export const RETENTION_LEADERSHIP = 'retention-sweep';

/** Options of the retention sweeper; every field has a default. */
export interface RetentionSweeperOptions {
  /** The archive directory; relative paths are resolved against the current directory. Default `./.deadletter/archive`. */
  archiveDir?: string;
  /** Rows read per store call and deleted per transaction (1–50,000). Default 5,000. */
  batchSize?: number;
  /** How often the maintenance service sweeps (at least 1s). Default 1h. */
  interval?: Duration;
  /**
   * The sweep's own leadership lease, renewed between batches; another process may take over a
   * sweep that has not renewed it for this long (its process died). At least 10s. Default 5m.
   */
  lease?: Duration;
}

/** The validated configuration of a {@link RetentionSweeper}. */
export interface RetentionSweeperConfig {
  /** Absolute path of the archive directory. */
  archiveDir: string;
  batchSize: number;
  intervalMs: number;
  leaseMs: number;
}

const optionsSchema = z.object({
  archiveDir: z.string().trim().min(1, 'use a directory path').optional(),
  batchSize: z.number().int().min(1).max(50_000).optional(),
  interval: z.union([z.number(), z.string()]).optional(),
  lease: z.union([z.number(), z.string()]).optional(),
});

/** Validates the sweeper's options and fills in the defaults; throws `ValidationError`. */
export function resolveRetentionSweeperConfig(
  options: RetentionSweeperOptions = {},
  cwd = process.cwd(),
): RetentionSweeperConfig {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(
      `invalid retention sweeper option ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const intervalMs = parseDuration(parsed.data.interval ?? '1h', 'retention sweep interval');
  if (intervalMs < 1_000) throw new ValidationError('invalid retention sweep interval: use 1s or more');
  const leaseMs = parseDuration(parsed.data.lease ?? '5m', 'retention sweep lease');
  if (leaseMs < 10_000) throw new ValidationError('invalid retention sweep lease: use 10s or more');
  return {
    archiveDir: resolve(cwd, parsed.data.archiveDir ?? DEFAULT_ARCHIVE_DIR),
    batchSize: parsed.data.batchSize ?? 5_000,
    intervalMs,
    leaseMs,
  };
}

/**
 * Points in a sweep where tests stop the process (crash tests) or observe it. Each is awaited.
 * - `afterTempWritten`: the new version of a file is written and fsynced, not yet renamed;
 * - `afterRename`: it replaced the file, no row is deleted yet;
 * - `afterDelete`: one batch of its rows was deleted from the store.
 */
export interface RetentionHooks {
  afterTempWritten?(file: string): unknown;
  afterRename?(file: string): unknown;
  afterDelete?(file: string, deleted: number): unknown;
}

/** What one archive file received in a sweep. */
export interface ArchiveFileResult {
  day: string;
  /** Absolute path. */
  file: string;
  /** Dead letters archived from the DLQ into it. */
  dead: number;
  /** Replay-history rows archived into it. */
  replayed: number;
  /** Records the file already held and still holds. */
  kept: number;
  /** Rows written but not deleted, since they changed meanwhile (edited, replayed, discarded): left out of the file again. */
  stale: number;
}

/** One queue's part of a sweep. */
export interface QueueRetentionResult {
  queue: string;
  retentionDays: number;
  /** The cutoff: dead letters that died before it expire; null when retention is 0 (kept forever). */
  before: number | null;
  /** Dead letters archived (with `dryRun`: that would be). */
  dead: number;
  /** Replay-history rows archived (with `dryRun`: that would be). */
  replayed: number;
  files: ArchiveFileResult[];
  /** Why this queue's sweep stopped (e.g. a corrupt archive file); its rows stay in the store. */
  error?: string;
}

/** What a sweep did (or, with `dryRun`, would do). */
export interface RetentionSweepResult {
  dryRun: boolean;
  at: number;
  archiveDir: string;
  queues: QueueRetentionResult[];
  dead: number;
  replayed: number;
  /** Queues whose sweep stopped with an error. */
  errors: number;
}

/** Options of one sweep. */
export interface RetentionRunOptions {
  /** Count what would be archived; change nothing. */
  dryRun?: boolean;
  /** Who the audit log records. Default `system`. */
  actor?: string;
  /** Only this queue. */
  queue?: string;
  /** Called as rows are archived, with the total expired at the start. */
  onProgress?: (done: number, total: number) => void;
}

/** The archive of one queue and day being written during a sweep. */
class DayArchive {
  readonly day: string;
  readonly archiveId: string;
  readonly writer: GzipFileWriter;
  readonly refs: ArchivedRef[] = [];
  readonly ids = new Set<string>();
  dead = 0;
  replayed = 0;

  private constructor(day: string, archiveId: string, writer: GzipFileWriter) {
    this.day = day;
    this.archiveId = archiveId;
    this.writer = writer;
  }

  /** Starts a new version of the day's file; an existing file keeps its archiveId. */
  static async open(path: string, day: string): Promise<DayArchive> {
    const archiveId = (await archiveIdOf(path)) ?? newId();
    return new DayArchive(day, archiveId, await GzipFileWriter.open(path));
  }

  get path(): string {
    return this.writer.target;
  }

  async add(letter: ArchivableDeadLetter, archivedAt: number): Promise<void> {
    await this.writer.writeLine(
      JSON.stringify(toArchiveRecord(letter, { archiveId: this.archiveId, archivedAt })),
    );
    this.refs.push({ id: letter.id, state: letter.state, edits: letter.edits.length });
    this.ids.add(letter.id);
    if (letter.state === 'dead') this.dead++;
    else this.replayed++;
  }

  /**
   * Copies the records of the current file, except those this version replaces (same id) and
   * those in `drop`, byte for byte. A line that is not a record stops the sweep of the queue:
   * an archive is never rewritten over what the sweeper cannot read.
   */
  async copyExisting(drop: ReadonlySet<string> = new Set()): Promise<number> {
    let kept = 0;
    try {
      for await (const { line, text } of readGzipLines(this.path)) {
        let id: unknown;
        try {
          id = (JSON.parse(text) as { id?: unknown }).id;
        } catch {
          id = undefined;
        }
        if (typeof id !== 'string') {
          throw new Error(`archive file ${this.path} is corrupt at line ${line}: move it away or repair it`);
        }
        if (this.ids.has(id) || drop.has(id)) continue;
        await this.writer.writeLine(text);
        kept++;
      }
    } catch (error) {
      if ((error as { code?: unknown }).code === 'not_found') return kept;
      throw error;
    }
    return kept;
  }
}

/**
 * The retention sweeper: for each queue whose retention is not 0, writes the dead letters that
 * died more than its retention ago, and the replay-history rows replayed that long ago, to
 * gzip JSON-lines files, one per queue and UTC day of death, and only then deletes them from
 * the store (with their counters, group counts and a `retention.archive` audit entry).
 *
 * Crash safety: a file is only ever replaced by rename after its new version is fsynced, and it
 * holds the union of its old records and the new ones (a record of the same id is replaced by
 * the newer one), so a sweep interrupted anywhere is repaired by the next: rows still in the
 * store are written again (not twice) and deleted. One sweep runs at a time, under the
 * `retention-sweep` leadership, renewed between batches.
 */
export class RetentionSweeper {
  readonly config: RetentionSweeperConfig;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly hooks: RetentionHooks;
  private readonly holder = `${hostname()}:${process.pid}:${newId().slice(-8)}`;
  private current: Promise<void> | undefined;
  private stopping = false;

  constructor(deps: { store: Store; clock: Clock; config: RetentionSweeperConfig; hooks?: RetentionHooks }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.config = deps.config;
    this.hooks = deps.hooks ?? {};
  }

  /**
   * The maintenance service that sweeps every `intervalMs` in the elected process. The sweep
   * runs in the background, so that a long one does not hold up the other services (the
   * lease-expiry sweep); a round that comes while one runs does nothing. Failures go to
   * `onError`; a round that finds another process sweeping (`dlq retention run`) is skipped.
   */
  service(onError: (error: unknown) => void): MaintenanceService {
    return {
      name: 'retention sweep',
      intervalMs: this.config.intervalMs,
      run: async () => {
        if (this.current || this.stopping) return;
        this.current = this.run()
          .then((result) => {
            const failed = result.queues.filter((queue) => queue.error !== undefined);
            if (failed.length > 0) {
              onError(new Error(failed.map((queue) => `queue ${queue.queue}: ${queue.error}`).join('; ')));
            }
          })
          .catch((error: unknown) => {
            if (!(error instanceof ConflictError) && !(error instanceof SweepStoppedError)) onError(error);
          })
          .finally(() => {
            this.current = undefined;
          });
      },
    };
  }

  /**
   * Stops a background sweep at its next batch (what it wrote stays consistent: a sweep may
   * stop anywhere) and waits for it; the sweeper does not sweep again.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.current;
  }

  /**
   * Runs one sweep now. Throws `ConflictError` when another sweep holds the leadership and
   * `NotFoundError` for an unknown `queue`. A queue whose sweep fails (a corrupt archive file,
   * a full disk) keeps its rows and gets an `error`; the other queues are still swept.
   */
  async run(options: RetentionRunOptions = {}): Promise<RetentionSweepResult> {
    const at = this.clock.now();
    const queues = (await this.store.queueList()).filter(
      (queue) => options.queue === undefined || queue.name === options.queue,
    );
    if (options.queue !== undefined && queues.length === 0) {
      throw new NotFoundError(`unknown queue "${options.queue}"`);
    }
    const result: RetentionSweepResult = {
      dryRun: options.dryRun === true,
      at,
      archiveDir: this.config.archiveDir,
      queues: [],
      dead: 0,
      replayed: 0,
      errors: 0,
    };
    const plans = queues.map(
      (queue): QueueRetentionResult => ({
        queue: queue.name,
        retentionDays: queue.retentionDays,
        before: queue.retentionDays > 0 ? at - queue.retentionDays * DAY_MS : null,
        dead: 0,
        replayed: 0,
        files: [],
      }),
    );
    if (options.dryRun || options.onProgress) {
      for (const plan of plans) {
        if (plan.before === null) continue;
        const counts = await this.store.deadLetterCountExpired({ queue: plan.queue, before: plan.before });
        plan.dead = counts.dead;
        plan.replayed = counts.replayed;
      }
    }
    if (options.dryRun) {
      result.queues = plans;
      result.dead = plans.reduce((sum, plan) => sum + plan.dead, 0);
      result.replayed = plans.reduce((sum, plan) => sum + plan.replayed, 0);
      return result;
    }

    if (!(await this.elect())) {
      throw new ConflictError(
        'another retention sweep is running (in a server or worker process): try again later',
      );
    }
    const total = plans.reduce((sum, plan) => sum + plan.dead + plan.replayed, 0);
    const progress = { done: 0, total, report: options.onProgress };
    try {
      for (const plan of plans) {
        const swept: QueueRetentionResult = { ...plan, dead: 0, replayed: 0, files: [] };
        result.queues.push(swept);
        if (plan.before === null) continue;
        try {
          await this.sweepQueue(swept, plan.before, options.actor ?? 'system', progress);
        } catch (error) {
          if (error instanceof LeadershipLostError || error instanceof SweepStoppedError) throw error;
          swept.error = error instanceof Error ? error.message : String(error);
          result.errors++;
        }
        result.dead += swept.dead;
        result.replayed += swept.replayed;
      }
    } finally {
      await this.store
        .leaderResign({ name: RETENTION_LEADERSHIP, holder: this.holder })
        .catch(() => undefined);
    }
    return result;
  }

  private async sweepQueue(
    swept: QueueRetentionResult,
    before: number,
    actor: string,
    progress: { done: number; total: number; report: ((done: number, total: number) => void) | undefined },
  ): Promise<void> {
    const queue = swept.queue;
    await removeTempFiles(join(this.config.archiveDir, queue));
    const open = new Map<string, DayArchive>();
    const finishAll = async (keep?: (day: string) => boolean) => {
      for (const [day, archive] of [...open]) {
        if (keep?.(day)) continue;
        open.delete(day);
        const file = await this.finish(queue, archive, actor, progress);
        swept.files.push(file);
        swept.dead += file.dead;
        swept.replayed += file.replayed;
      }
    };
    try {
      for (const state of ['dead', 'replayed'] as const) {
        let after: { at: number; id: string } | undefined;
        for (;;) {
          const rows = await this.store.deadLetterListExpired({
            queue,
            state,
            before,
            limit: this.config.batchSize,
            ...(after && { after }),
          });
          await this.renew();
          const now = this.clock.now();
          for (const row of rows) {
            const day = archiveDay(row.diedAt);
            let archive = open.get(day);
            if (!archive) {
              archive = await DayArchive.open(archiveFilePath(this.config.archiveDir, queue, day), day);
              open.set(day, archive);
            }
            await archive.add(row, now);
          }
          const last = rows.at(-1);
          if (!last || rows.length < this.config.batchSize) break;
          after = { at: last.state === 'replayed' ? last.replayedAt : last.diedAt, id: last.id };
          if (state === 'dead') {
            // Dead letters come in order of death: the days before the last row's are complete.
            const lastDay = archiveDay(last.diedAt);
            await finishAll((day) => day >= lastDay);
          } else if (
            open.size > 8 ||
            [...open.values()].reduce((n, a) => n + a.refs.length, 0) > 4 * this.config.batchSize
          ) {
            // Replayed rows come in order of replay, of any day: bound the files and ids held open.
            await finishAll();
          }
        }
        await finishAll();
      }
    } finally {
      for (const archive of open.values()) await archive.writer.abort();
    }
  }

  /**
   * Completes one file: carries over its old records, fsyncs and renames the new version into
   * place, then deletes the rows it now holds, a batch per transaction. Rows that changed in the
   * meantime are not deleted; the file is written once more without them.
   */
  private async finish(
    queue: string,
    archive: DayArchive,
    actor: string,
    progress: { done: number; total: number; report: ((done: number, total: number) => void) | undefined },
  ): Promise<ArchiveFileResult> {
    const file = archive.path;
    let kept: number;
    try {
      kept = await archive.copyExisting();
      await archive.writer.finish();
    } catch (error) {
      await archive.writer.abort();
      throw error;
    }
    await this.hooks.afterTempWritten?.(file);
    await archive.writer.publish();
    await this.hooks.afterRename?.(file);

    const stale: string[] = [];
    let dead = 0;
    let replayed = 0;
    for (let at = 0; at < archive.refs.length; at += this.config.batchSize) {
      const letters = archive.refs.slice(at, at + this.config.batchSize);
      await this.renew();
      const deleted = await this.store.deadLetterArchive({
        queue,
        day: archive.day,
        file,
        archiveId: archive.archiveId,
        letters,
        actor,
        now: this.clock.now(),
      });
      dead += deleted.dead;
      replayed += deleted.replayed;
      stale.push(...deleted.stale);
      progress.done += letters.length;
      progress.report?.(progress.done, Math.max(progress.total, progress.done));
      await this.hooks.afterDelete?.(file, deleted.dead + deleted.replayed);
    }
    if (stale.length > 0) await this.dropFromFile(file, archive.day, new Set(stale));
    return { day: archive.day, file, dead, replayed, kept, stale: stale.length };
  }

  /** Writes a file once more without `drop`; a file left empty is removed. */
  private async dropFromFile(file: string, day: string, drop: ReadonlySet<string>): Promise<void> {
    const rewrite = await DayArchive.open(file, day);
    try {
      await rewrite.copyExisting(drop);
      if (rewrite.writer.count === 0) {
        await rewrite.writer.abort();
        await rm(file, { force: true });
        await syncDirectory(dirname(file));
        return;
      }
      await rewrite.writer.finish();
    } catch (error) {
      await rewrite.writer.abort();
      throw error;
    }
    await rewrite.writer.publish();
  }

  private elect(): Promise<boolean> {
    return this.store.leaderAttemptElect({
      name: RETENTION_LEADERSHIP,
      holder: this.holder,
      ttlMs: this.config.leaseMs,
      now: this.clock.now(),
    });
  }

  /** Renews the sweep's leadership; a sweep that lost it stops before it deletes anything more. */
  private async renew(): Promise<void> {
    if (this.stopping) throw new SweepStoppedError();
    if (!(await this.elect())) throw new LeadershipLostError();
  }
}

/** The sweep's leadership ran out (the process stalled) and another process may be sweeping. */
class LeadershipLostError extends Error {
  constructor() {
    super(
      'the retention sweep lost its leadership (it stalled for longer than its lease): stopped before deleting more',
    );
    this.name = 'LeadershipLostError';
  }
}

/** The sweeper was stopped (its handle is closing) in the middle of a sweep. */
class SweepStoppedError extends Error {
  constructor() {
    super('the retention sweep was stopped: what it had not archived stays in the store');
    this.name = 'SweepStoppedError';
  }
}
