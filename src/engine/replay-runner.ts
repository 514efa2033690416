import type { Clock } from '../core/clock.ts';
import type { DeadLetterCursor } from '../core/dead-letter.ts';
import { ConflictError } from '../core/errors.ts';
import { newIds } from '../core/ids.ts';
import {
  type CanaryOutcome,
  judgeCanary,
  paceDelay,
  pacedBatchSize,
  type ReplayJob,
  type ReplaySkip,
  replayJobGone,
  replaySelection,
} from '../core/replay.ts';
import type { Store } from '../store/store.ts';
import { deadLetterKeysMatching } from './selection.ts';

/**
 * Waits `ms` milliseconds, or less when `signal` aborts. Rate limiting and the canary's polling
 * wait with it; tests inject one that moves a `ManualClock` instead of sleeping.
 */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The real sleep: a timer that an abort cuts short. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** What a runner works with. */
export interface ReplayRunnerDeps {
  store: Store;
  clock: Clock;
  /** Default {@link realSleep}. */
  sleep?: Sleep;
  /** Told after each batch which queues received messages (this process's workers wake up). */
  onSent?: (queues: string[]) => void;
}

/** How a runner runs one job. */
export interface ReplayRunOptions {
  /** Who this runner is: the job's holder while it runs it. */
  holder: string;
  /** Who the audit log records for the job's pause (on abort) and finish. */
  actor: string;
  /** The hold on the job, renewed as it runs; another process takes over a job whose holder stayed silent this long. Default 30 s. */
  leaseMs?: number;
  /** How often the canary's messages are looked at. Default 1 s. */
  canaryPollMs?: number;
  /** Stops the run between batches (and cuts waits short). */
  signal?: AbortSignal;
  /**
   * What an abort does to the job: `pause` it (Ctrl-C in a terminal: `resume` continues it), or
   * `release` it for another process to take over at once (a stopping server). Default `release`.
   */
  onAbort?: 'pause' | 'release';
  /** Called after each batch and each change of status. */
  onProgress?: (job: ReplayJob, skipped: readonly ReplaySkip[]) => void;
}

/** What one run did: the job as it left it, and what this run skipped (every skip is also audited). */
export interface ReplayRunResult {
  job: ReplayJob;
  skipped: ReplaySkip[];
}

/** Keeps at most this many skips in memory for the result (all are in the audit log). */
const MAX_SKIPS_KEPT = 1_000;

/**
 * Runs a replay job that `options.holder` has acquired, until it is completed, stopped by its
 * canary, paused, cancelled, taken over, or aborted. Safe to kill at any moment: each batch
 * is one store transaction that also moves the job's position, so whoever resumes the job
 * (after the hold's lease runs out) continues after the last batch that committed, and a
 * batch is fenced by the holder, so two runners never replay for the same job at once.
 */
export async function runReplayJob(
  deps: ReplayRunnerDeps,
  acquired: ReplayJob,
  options: ReplayRunOptions,
): Promise<ReplayRunResult> {
  return new ReplayRun(deps, acquired, options).run();
}

/** One run of one job by one holder. */
class ReplayRun {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly onSent: ((queues: string[]) => void) | undefined;
  private readonly options: ReplayRunOptions;
  private readonly leaseMs: number;
  private job: ReplayJob;
  private readonly skipped: ReplaySkip[] = [];
  private lastRenew: number;
  private paceStart: number;
  private paceSent = 0;

  constructor(deps: ReplayRunnerDeps, job: ReplayJob, options: ReplayRunOptions) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.sleep = deps.sleep ?? realSleep;
    this.onSent = deps.onSent;
    this.options = options;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.job = job;
    this.lastRenew = deps.clock.now();
    this.paceStart = deps.clock.now();
  }

  async run(): Promise<ReplayRunResult> {
    try {
      await this.walk();
    } catch (error) {
      if (error instanceof Stop) {
        // Paused, cancelled or taken over by someone else, or aborted here: already handled.
      } else if (error instanceof ConflictError) {
        // The store refused a change: the job is no longer ours to run (paused, cancelled or
        // taken over in between). Nothing was changed by the refused call.
        await this.refresh();
      } else {
        await this.fail(error);
        throw error;
      }
    }
    return { job: this.job, skipped: this.skipped };
  }

  private async walk(): Promise<void> {
    // A job taken over while waiting for its canary (or killed between its canary's last batch
    // and the wait) waits first.
    const canaryReplayed =
      this.replayingCanary() && (this.job.canary?.messages.length ?? 0) >= this.job.canarySize;
    if (this.job.status === 'canary' || canaryReplayed) await this.awaitCanary();
    const pages = deadLetterKeysMatching(
      this.store,
      replaySelection(this.job),
      () => this.nextBatchSize(),
      this.job.position ?? undefined,
    );
    for await (const page of pages) {
      await this.checkpoint();
      await this.pace();
      const canary = this.replayingCanary();
      const last = page[page.length - 1] as DeadLetterCursor;
      const messageIds = newIds(page.length);
      const result = await this.store.deadLetterReplayBatch({
        jobId: this.job.id,
        holder: this.options.holder,
        items: page.map((letter, k) => ({ id: letter.id, messageId: messageIds[k] as string })),
        destination: this.job.destination,
        position: { diedAt: last.diedAt, id: last.id },
        canary,
        actor: this.options.actor,
        now: this.clock.now(),
      });
      this.job = result.job;
      this.paceSent += result.replayed.length;
      for (const skip of result.skipped) if (this.skipped.length < MAX_SKIPS_KEPT) this.skipped.push(skip);
      if (result.replayed.length > 0) this.onSent?.([...new Set(result.replayed.map((r) => r.queue))]);
      this.progress();
      if (canary && (this.job.canary?.messages.length ?? 0) >= this.job.canarySize) await this.awaitCanary();
    }
    // The selection ran out during the canary: what was replayed is still judged.
    if (this.replayingCanary() && (this.job.canary?.messages.length ?? 0) > 0) await this.awaitCanary();
    const gone = replayJobGone(this.job);
    await this.finish(
      'completed',
      `replayed ${this.job.replayed}, skipped ${this.job.skipped}` +
        (gone > 0
          ? `; ${gone} left the DLQ before their turn (discarded, archived or replayed elsewhere)`
          : ''),
    );
  }

  /** Whether the next batch belongs to the canary (replayed, not yet waited for). */
  private replayingCanary(): boolean {
    const canary = this.job.canary;
    return (
      this.job.canarySize > 0 && canary !== null && canary.waitingSince === null && canary.outcome === null
    );
  }

  private nextBatchSize(): number {
    const size = pacedBatchSize(this.job.batchSize, this.job.ratePerSecond);
    if (!this.replayingCanary()) return size;
    return Math.max(1, Math.min(size, this.job.canarySize - (this.job.canary?.messages.length ?? 0)));
  }

  /** Between batches: stop if aborted; renew the hold when a third of it has passed. */
  private async checkpoint(): Promise<void> {
    if (this.options.signal?.aborted) await this.abort();
    const now = this.clock.now();
    if (now - this.lastRenew < this.leaseMs / 3) return;
    const held = await this.store.replayJobRenew({
      id: this.job.id,
      holder: this.options.holder,
      leaseMs: this.leaseMs,
      now,
    });
    this.lastRenew = now;
    if (!held) {
      await this.refresh();
      throw new Stop();
    }
  }

  /** Waits until sending the next batch keeps to the job's rate. */
  private async pace(): Promise<void> {
    let wait = paceDelay({
      sent: this.paceSent,
      startedAt: this.paceStart,
      now: this.clock.now(),
      rate: this.job.ratePerSecond,
    });
    while (wait > 0) {
      await this.wait(wait);
      wait = paceDelay({
        sent: this.paceSent,
        startedAt: this.paceStart,
        now: this.clock.now(),
        rate: this.job.ratePerSecond,
      });
    }
  }

  /** Sleeps up to `ms` in steps short enough to keep the hold renewed; checks for an abort. */
  private async wait(ms: number): Promise<void> {
    await this.sleep(Math.min(ms, Math.max(1, Math.floor(this.leaseMs / 3))), this.options.signal);
    await this.checkpoint();
  }

  /**
   * Whether a canary message that left its queue succeeded and had its done row deleted by the
   * done retention (a short one, or 0): it is not a dead letter again, and its queue keeps dead
   * letters, so it did not fail for good. Where the DLQ is off, a dropped message leaves no
   * trace either: such a message counts as died.
   */
  private async succeededAndPruned(deadLetterId: string, messageId: string): Promise<boolean> {
    if (await this.store.deadLetterGet({ id: messageId })) return false;
    const replayed = await this.store.deadLetterFindReplayed({ id: deadLetterId });
    if (!replayed) return false;
    return (await this.store.queueGet({ name: replayed.destination }))?.deadLetter === true;
  }

  /**
   * The canary: marks the job `canary`, then looks at its messages until the verdict: a
   * message still in its queue and done succeeded (or deleted by the done retention, see
   * `succeededAndPruned`); one that left its queue otherwise died again (dead, or dropped where
   * the DLQ is off). Passed: the job runs on. Failed or timed
   * out: the job stops as `canary_failed`, with the outcome in the job and its audit entry.
   */
  private async awaitCanary(): Promise<void> {
    const canary = this.job.canary;
    if (!canary || canary.outcome !== null) return;
    if (this.job.status !== 'canary') {
      this.job = await this.store.replayJobUpdate({
        id: this.job.id,
        actor: this.options.actor,
        now: this.clock.now(),
        holder: this.options.holder,
        status: 'canary',
        canary: { ...canary, waitingSince: this.clock.now() },
      });
      this.progress();
    }
    const pollMs = this.options.canaryPollMs ?? 1_000;
    for (;;) {
      const current = this.job.canary ?? canary;
      const waitingSince = current.waitingSince ?? this.clock.now();
      let done = 0;
      const died: string[] = [];
      for (const { deadLetterId, messageId } of current.messages) {
        const message = await this.store.messageGet({ id: messageId });
        if (message) {
          if (message.state === 'done') done += 1;
        } else if (await this.succeededAndPruned(deadLetterId, messageId)) done += 1;
        else died.push(messageId);
      }
      const now = this.clock.now();
      const outcome = judgeCanary({
        total: current.messages.length,
        done,
        died,
        maxFailureRate: this.job.canaryMaxFailureRate,
        now,
        timedOut: now - waitingSince >= current.timeoutMs,
      });
      if (outcome) return this.decideCanary(outcome);
      await this.wait(pollMs);
      await this.refresh();
      if (this.job.status !== 'canary' || this.job.holder !== this.options.holder) throw new Stop();
    }
  }

  private async decideCanary(outcome: CanaryOutcome): Promise<void> {
    const canary = { ...(this.job.canary ?? { timeoutMs: 0, messages: [], waitingSince: null }), outcome };
    if (outcome.verdict === 'passed') {
      // The rate is kept from here on, not made up for the time the canary took.
      this.paceStart = this.clock.now();
      this.paceSent = 0;
      this.job = await this.store.replayJobUpdate({
        id: this.job.id,
        actor: this.options.actor,
        now: this.clock.now(),
        holder: this.options.holder,
        status: 'running',
        canary,
      });
      this.progress();
      return;
    }
    const total = canary.messages.length;
    const message =
      outcome.verdict === 'failed'
        ? `canary failed: ${outcome.died.length} of ${total} replayed messages died again ` +
          `(${percent(outcome.failureRate)} > ${percent(this.job.canaryMaxFailureRate)}); the rest were not replayed`
        : `canary timed out: ${outcome.pending} of ${total} replayed messages had no outcome yet ` +
          `(${outcome.done} done, ${outcome.died.length} died again); the rest were not replayed`;
    this.job = await this.store.replayJobUpdate({
      id: this.job.id,
      actor: this.options.actor,
      now: this.clock.now(),
      holder: this.options.holder,
      status: 'canary_failed',
      canary,
      message,
    });
    this.progress();
    throw new Stop();
  }

  private async finish(status: 'completed', message: string): Promise<void> {
    this.job = await this.store.replayJobUpdate({
      id: this.job.id,
      actor: this.options.actor,
      now: this.clock.now(),
      holder: this.options.holder,
      status,
      message,
    });
    this.progress();
  }

  /** An abort: pause the job, or let it go for another process. */
  private async abort(): Promise<never> {
    if (this.options.onAbort === 'pause') {
      this.job = await this.store.replayJobUpdate({
        id: this.job.id,
        actor: this.options.actor,
        now: this.clock.now(),
        holder: this.options.holder,
        status: 'paused',
        message: `interrupted; resume with \`dlq replay resume ${this.job.id}\``,
      });
    } else {
      this.job = await this.store.replayJobUpdate({
        id: this.job.id,
        actor: this.options.actor,
        now: this.clock.now(),
        holder: this.options.holder,
        release: true,
      });
    }
    this.progress();
    throw new Stop();
  }

  /** An unexpected error: the job fails with its message (if it is still ours). */
  private async fail(error: unknown): Promise<void> {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    try {
      this.job = await this.store.replayJobUpdate({
        id: this.job.id,
        actor: this.options.actor,
        now: this.clock.now(),
        holder: this.options.holder,
        status: 'failed',
        message: `failed: ${reason}`,
      });
    } catch {
      // The store is unreachable or the job is no longer ours: its hold runs out, and another
      // process resumes it where the last batch left it.
    }
  }

  private async refresh(): Promise<void> {
    this.job = (await this.store.replayJobGet({ id: this.job.id })) ?? this.job;
  }

  private progress(): void {
    this.options.onProgress?.(this.job, this.skipped);
  }
}

/** Ends a run early: the job's state in the store already says why. */
class Stop extends Error {}

function percent(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`;
}
