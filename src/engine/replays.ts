import { hostname } from 'node:os';
import type { Clock } from '../core/clock.ts';
import type { DeadLetterFilter } from '../core/dead-letter.ts';
import { formatTombstone } from '../core/discard.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { DeadLetterLineage, ReplayedDeadLetter } from '../core/lineage.ts';
import {
  DEFAULT_CANARY_MAX_FAILURE_RATE,
  DEFAULT_CANARY_TIMEOUT_MS,
  DEFAULT_REPLAY_BATCH_SIZE,
  DEFAULT_REPLAY_LIMIT,
  isFinalReplayStatus,
  isReplayJobStatus,
  MAX_CANARY_SIZE,
  REPLAY_JOB_STATUSES,
  type ReplayJob,
  type ReplayJobSettings,
  type ReplayJobStatus,
  type ReplayPlan,
  type ReplaySkip,
} from '../core/replay.ts';
import type { Tier } from '../core/tier.ts';
import type { Store } from '../store/store.ts';
import { checkSelection } from './discard.ts';
import { type ReplayRunResult, runReplayJob, type Sleep } from './replay-runner.ts';
import { ReplayService } from './replay-service.ts';

/** Options of `Deadletter.replay`. */
export interface ReplayOptions {
  /** Who replays, for the audit log; default the handle's actor. */
  actor?: string;
  /** The destination queue; default each dead letter's source queue. */
  to?: string;
  /** Messages per second; default as fast as the store goes. */
  rate?: number;
  /** Dead letters per transaction, 1–5000. Default 500. */
  batchSize?: number;
  /** Replay this many first (1–1000), wait for their outcome, and stop if too many die again. Default 0: no canary. */
  canary?: number;
  /** The canary stops the job when more than this share of its messages died again (0–1). Default 0.2. */
  canaryMaxFailureRate?: number;
  /** How long the canary waits for its outcome before it stops the job. Default 15 minutes. */
  canaryTimeout?: Duration;
  /** Create the job and return at once (`pending`): a server's replay runner (or `resumeReplay`) runs it. */
  detach?: boolean;
  /** Called after each batch and change of status, with the skips of this run so far. */
  onProgress?: (job: ReplayJob, skipped: readonly ReplaySkip[]) => void;
  /** Aborting pauses the job between batches (a foreground Ctrl-C); `resumeReplay` continues it. */
  signal?: AbortSignal;
}

/** What `Deadletter.replay` did: the plan it was created from, the job as the run left it, this run's skips. */
export interface ReplayOutcome extends ReplayRunResult {
  plan: ReplayPlan;
}

/** Options of `Deadletter.resumeReplay` (and of running a job taken over from a dead runner). */
export type ResumeOptions = Pick<ReplayOptions, 'actor' | 'detach' | 'onProgress' | 'signal'>;

/** Options of the replay machinery of a handle (`DeadletterOptions.replay`). */
export interface ReplaySettings {
  /**
   * How long a runner's hold on a job lasts without renewal; a job whose runner died is taken
   * over (by a server's replay runner or `dlq replay resume`) after it. Default 30 s.
   */
  holdLease?: Duration;
  /** How often the replay runner service looks for jobs nobody runs. Default 1 s. */
  pollInterval?: Duration;
  /** How often a canary's messages are looked at. Default 1 s. */
  canaryPollInterval?: Duration;
  /** Waits for rate limits and canary polls; default real timers (tests inject a fake). */
  sleep?: Sleep;
}

/** What the handle lends to {@link Replays}. */
export interface ReplaysDeps {
  store: Store;
  clock: Clock;
  /** The actor of a call (its own, else the handle's). */
  actorOf: (options: { actor?: string }) => string;
  /** Wakes this handle's workers of these queues. */
  onSent: (queues: string[]) => void;
  onError: (error: unknown, service: string) => void;
}

const SAMPLES = 5;

/**
 * The replay operations of a `Deadletter` handle: dry run, durable jobs run in the foreground
 * or left to the replay runner service, pause, resume, cancel, and the replay history.
 */
export class Replays {
  /** This handle's name as the holder of the jobs it runs. */
  readonly holder = `${hostname()}:${process.pid}:${newId().slice(-8)}`;
  private readonly deps: ReplaysDeps;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly canaryPollMs: number;
  private readonly sleep: Sleep | undefined;
  private service: ReplayService | undefined;

  constructor(deps: ReplaysDeps, settings: ReplaySettings = {}) {
    this.deps = deps;
    this.leaseMs = parseDuration(settings.holdLease ?? 30_000, 'replay hold lease');
    this.pollMs = parseDuration(settings.pollInterval ?? 1_000, 'replay poll interval');
    this.canaryPollMs = parseDuration(settings.canaryPollInterval ?? 1_000, 'canary poll interval');
    this.sleep = settings.sleep;
  }

  /**
   * What a replay of `filter` would do, changing nothing: how many, per group, tier and queue,
   * a few samples, where they go, how many were replayed before (and how often), and how many
   * the replay limit would skip. Bad input throws as the replay itself would.
   */
  async dryRun(filter: DeadLetterFilter, options: { to?: string } = {}): Promise<ReplayPlan> {
    await this.checkSelection(filter);
    await this.checkDestination(options.to);
    const { store } = this.deps;
    const [byGroup, byTier, byQueue, byReplayCount, samples] = await Promise.all([
      store.deadLetterCountBy({ ...filter, by: 'group' }),
      store.deadLetterCountBy({ ...filter, by: 'tier' }),
      store.deadLetterCountBy({ ...filter, by: 'queue' }),
      store.deadLetterCountBy({ ...filter, by: 'replayCount' }),
      store.deadLetterList({ ...filter, limit: SAMPLES }),
    ]);
    const queues = await Promise.all(
      byQueue.map(async ({ key, count }) => ({
        queue: key,
        count,
        replayLimit: (await store.queueGet({ name: key }))?.replayLimit ?? DEFAULT_REPLAY_LIMIT,
      })),
    );
    let atReplayLimit = 0;
    const lowest = Math.min(...queues.map((q) => q.replayLimit));
    if (byReplayCount.some(({ key }) => Number(key) >= lowest)) {
      for (const queue of queues) {
        const counts =
          queues.length === 1
            ? byReplayCount
            : await store.deadLetterCountBy({ ...filter, queue: queue.queue, by: 'replayCount' });
        for (const { key, count } of counts) if (Number(key) >= queue.replayLimit) atReplayLimit += count;
      }
    }
    const total = queues.reduce((sum, q) => sum + q.count, 0);
    return {
      selector: filter,
      destination: options.to ?? null,
      total,
      destinations:
        options.to !== undefined
          ? total > 0
            ? [{ queue: options.to, count: total }]
            : []
          : queues.map(({ queue, count }) => ({ queue, count })),
      byGroup: byGroup.map(({ key, count }) => ({ groupId: key, count })),
      byTier: byTier.map(({ key, count }) => ({ tier: key as Tier, count })),
      byQueue: queues,
      alreadyReplayed: byReplayCount
        .map(({ key, count }) => ({ times: Number(key), count }))
        .filter((entry) => entry.times > 0)
        .sort((a, b) => a.times - b.times),
      atReplayLimit,
      samples,
    };
  }

  /**
   * Replays the dead letters `filter` selects as a durable job: checked first (nothing changes
   * on bad input or an empty selection), created with the dry run's numbers in its audit
   * entry, then run here until it ends (or, with `detach`, left `pending`).
   */
  async replay(filter: DeadLetterFilter, options: ReplayOptions = {}): Promise<ReplayOutcome> {
    const settings = replaySettingsFrom(options);
    const actor = this.deps.actorOf(options);
    const plan = await this.dryRun(filter, options.to === undefined ? {} : { to: options.to });
    if (plan.total === 0) throw new NotFoundError('no dead letter matches the selection: nothing to replay');
    const detach = options.detach === true;
    const job = await this.deps.store.replayJobCreate({
      id: newId(),
      selector: filter,
      settings,
      planned: plan.total,
      actor,
      now: this.deps.clock.now(),
      ...(detach ? {} : { holder: { holder: this.holder, leaseMs: this.leaseMs } }),
      details: {
        byTier: Object.fromEntries(plan.byTier.map(({ tier, count }) => [tier, count])),
        byGroup: Object.fromEntries(plan.byGroup.slice(0, 20).map(({ groupId, count }) => [groupId, count])),
        alreadyReplayed: plan.alreadyReplayed.length,
        atReplayLimit: plan.atReplayLimit,
      },
    });
    if (detach) return { plan, job, skipped: [] };
    return { plan, ...(await this.run(job, actor, options)) };
  }

  /**
   * Resumes a job: a paused one becomes pending (audited `replay.resume`); then, unless
   * `detach`, runs it here: a pending job, or a running one whose runner died (its hold ran
   * out). Throws `ConflictError` for a final job or one another live runner holds.
   */
  async resume(id: string, options: ResumeOptions = {}): Promise<ReplayRunResult> {
    const actor = this.deps.actorOf(options);
    let job = await this.get(id);
    if (isFinalReplayStatus(job.status)) {
      throw new ConflictError(`replay job ${id} is ${job.status}: it cannot be resumed`);
    }
    if (job.status === 'paused') {
      job = await this.deps.store.replayJobUpdate({
        id,
        actor,
        now: this.deps.clock.now(),
        status: 'pending',
      });
    }
    if (options.detach === true) return { job, skipped: [] };
    const acquired = await this.deps.store.replayJobAcquire({
      holder: this.holder,
      leaseMs: this.leaseMs,
      now: this.deps.clock.now(),
      jobId: id,
    });
    if (!acquired) {
      const current = await this.get(id);
      if (current.holder !== null && !isFinalReplayStatus(current.status)) {
        throw new ConflictError(
          `replay job ${id} is being run by ${current.holder} (its hold lasts until ` +
            `${new Date(current.holderExpiresAt ?? 0).toISOString()}); pause or cancel it, or wait`,
        );
      }
      return { job: current, skipped: [] };
    }
    return this.run(acquired, actor, options);
  }

  /** Pauses a pending, running or canary job; its runner stops before its next batch. */
  pause(id: string, options: { actor?: string } = {}): Promise<ReplayJob> {
    return this.setStatus(id, 'paused', options, 'paused');
  }

  /** Cancels a job that is not final; what was replayed stays replayed. */
  cancel(id: string, options: { actor?: string } = {}): Promise<ReplayJob> {
    return this.setStatus(id, 'cancelled', options, 'cancelled');
  }

  async get(id: string): Promise<ReplayJob> {
    const job = await this.deps.store.replayJobGet({ id });
    if (!job) throw new NotFoundError(`unknown replay job "${id}"`);
    return job;
  }

  list(params: { status?: ReplayJobStatus | ReplayJobStatus[]; limit?: number } = {}): Promise<ReplayJob[]> {
    const statuses =
      params.status === undefined
        ? undefined
        : Array.isArray(params.status)
          ? params.status
          : [params.status];
    for (const status of statuses ?? []) {
      if (!isReplayJobStatus(status)) {
        throw new ValidationError(
          `unknown replay job status "${status}": use ${REPLAY_JOB_STATUSES.join(', ')}`,
        );
      }
    }
    const limit = params.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new ValidationError(`invalid limit ${limit}: use 1 to 1000`);
    }
    return this.deps.store.replayJobList({ limit, ...(statuses ? { statuses } : {}) });
  }

  /** The dead letters a job skipped and why, from its `replay.skip` audit entries, oldest first. */
  async skips(id: string, limit = 1000): Promise<ReplaySkip[]> {
    await this.get(id);
    const entries = await this.deps.store.auditList({ action: 'replay.skip', targetId: id, limit });
    const skips: ReplaySkip[] = [];
    for (const entry of entries.reverse()) {
      for (const skip of (entry.details.skipped as unknown as ReplaySkip[] | undefined) ?? [])
        skips.push(skip);
    }
    return skips.slice(0, limit);
  }

  lineage(id: string): Promise<DeadLetterLineage> {
    return this.deps.store.deadLetterLineage({ id });
  }

  findReplayed(id: string): Promise<ReplayedDeadLetter | undefined> {
    return this.deps.store.deadLetterFindReplayed({ id });
  }

  /** The replay runner service of this handle (created on first use). */
  runnerService(): ReplayService {
    this.service ??= new ReplayService(this.runnerDeps(), {
      holder: this.holder,
      leaseMs: this.leaseMs,
      intervalMs: this.pollMs,
      canaryPollMs: this.canaryPollMs,
      onError: this.deps.onError,
    });
    return this.service;
  }

  /** Stops the service's job, if any (it is let go for another process). */
  async stop(): Promise<void> {
    await this.service?.stop();
  }

  private run(job: ReplayJob, actor: string, options: ResumeOptions): Promise<ReplayRunResult> {
    return runReplayJob(this.runnerDeps(), job, {
      holder: this.holder,
      actor,
      leaseMs: this.leaseMs,
      canaryPollMs: this.canaryPollMs,
      onAbort: 'pause',
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  }

  private runnerDeps() {
    return {
      store: this.deps.store,
      clock: this.deps.clock,
      onSent: this.deps.onSent,
      ...(this.sleep ? { sleep: this.sleep } : {}),
    };
  }

  private async setStatus(
    id: string,
    status: ReplayJobStatus,
    options: { actor?: string },
    word: string,
  ): Promise<ReplayJob> {
    const actor = this.deps.actorOf(options);
    const job = await this.get(id);
    if (job.status === status) return job;
    if (isFinalReplayStatus(job.status)) {
      throw new ConflictError(`replay job ${id} is ${job.status}: it cannot be ${word}`);
    }
    return this.deps.store.replayJobUpdate({ id, actor, now: this.deps.clock.now(), status });
  }

  private async checkDestination(to: string | undefined): Promise<void> {
    if (to !== undefined && !(await this.deps.store.queueGet({ name: to }))) {
      throw new NotFoundError(`unknown destination queue "${to}"`);
    }
  }

  /**
   * The selection's checks (something is selected, tier, group and queue exist), and for
   * explicit ids, why one is not in the DLQ: unknown, discarded (by whom, when, why) or
   * already replayed (to which message).
   */
  private async checkSelection(filter: DeadLetterFilter): Promise<void> {
    const { store } = this.deps;
    if (filter.ids !== undefined && filter.ids.length > 0 && filter.ids.length <= 1000) {
      const found = new Set(
        (await store.deadLetterList({ ids: filter.ids, limit: filter.ids.length })).map(
          (letter) => letter.id,
        ),
      );
      const missing = filter.ids.filter((id) => !found.has(id));
      const unknown: string[] = [];
      const discarded: string[] = [];
      const replayed: string[] = [];
      for (const id of missing) {
        const tombstone = await store.tombstoneGet({ id });
        if (tombstone) {
          discarded.push(`${id} (${formatTombstone(tombstone)})`);
          continue;
        }
        const history = await store.deadLetterFindReplayed({ id });
        if (history) {
          replayed.push(
            `${id} (as message ${history.replayedTo} to ${history.destination}, by ${history.replayedBy} ` +
              `at ${new Date(history.replayedAt).toISOString()})`,
          );
          continue;
        }
        unknown.push(id);
      }
      if (unknown.length > 0) {
        throw new NotFoundError(
          `unknown dead letter${plural(unknown)}: ${listed(unknown)}; nothing was replayed`,
        );
      }
      if (discarded.length > 0) {
        throw new ValidationError(
          `dead letter${plural(discarded)} ${listed(discarded)} ${discarded.length === 1 ? 'was' : 'were'} ` +
            'discarded and cannot be replayed; nothing was replayed',
        );
      }
      if (replayed.length > 0) {
        throw new ConflictError(
          `dead letter${plural(replayed)} ${listed(replayed)} ${replayed.length === 1 ? 'was' : 'were'} ` +
            'already replayed (if the replay died again, replay its new dead letter); nothing was replayed',
        );
      }
    }
    await checkSelection(store, filter);
  }
}

/** The job settings of replay options, validated (ValidationError names the option). */
export function replaySettingsFrom(options: ReplayOptions): ReplayJobSettings {
  const batchSize = options.batchSize ?? DEFAULT_REPLAY_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5000) {
    throw new ValidationError(`invalid batch size ${batchSize}: use 1 to 5000`);
  }
  const rate = options.rate ?? null;
  if (rate !== null && (!Number.isFinite(rate) || rate <= 0 || rate > 1_000_000)) {
    throw new ValidationError(
      `invalid rate ${rate}: use more than 0 and at most 1000000 messages per second`,
    );
  }
  const canarySize = options.canary ?? 0;
  if (!Number.isInteger(canarySize) || canarySize < 0 || canarySize > MAX_CANARY_SIZE) {
    throw new ValidationError(`invalid canary ${canarySize}: use 0 (none) to ${MAX_CANARY_SIZE} messages`);
  }
  const maxFailureRate = options.canaryMaxFailureRate ?? DEFAULT_CANARY_MAX_FAILURE_RATE;
  if (!Number.isFinite(maxFailureRate) || maxFailureRate < 0 || maxFailureRate > 1) {
    throw new ValidationError(`invalid canary failure rate ${maxFailureRate}: use 0 to 1 (e.g. 0.2 for 20%)`);
  }
  const timeoutMs =
    options.canaryTimeout === undefined
      ? DEFAULT_CANARY_TIMEOUT_MS
      : parseDuration(options.canaryTimeout, 'canary timeout');
  if (timeoutMs < 1 || timeoutMs > 7 * 86_400_000) {
    throw new ValidationError('invalid canary timeout: use 1ms to 7d');
  }
  return {
    destination: options.to ?? null,
    ratePerSecond: rate,
    batchSize,
    canarySize,
    canaryMaxFailureRate: maxFailureRate,
    ...(canarySize > 0 && { canaryTimeoutMs: timeoutMs }),
  };
}

function plural(items: readonly unknown[]): string {
  return items.length === 1 ? '' : 's';
}

/** Up to 10 items, then how many more. */
function listed(items: readonly string[]): string {
  const more = items.length > 10 ? ` and ${items.length - 10} more` : '';
  return `${items.slice(0, 10).join(', ')}${more}`;
}
