import { hostname } from 'node:os';
import type { Clock } from '../core/clock.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import { ConflictError, ValidationError } from '../core/errors.ts';
import { describeFailure } from '../core/failure.ts';
import { type FailureRules, planFailure } from '../core/failure-plan.ts';
import { newId } from '../core/ids.ts';
import type { Attempt, ClaimedMessage, WorkerIdentity } from '../core/message.ts';
import type { QueueRecord } from '../core/queue-settings.ts';
import type { FailItem, LeaseRef, Store } from '../store/store.ts';

/** What a handler gets besides the message. */
export interface HandlerContext {
  /**
   * Fires shortly before the lease runs out (unless the lease is extended) and when the worker
   * is stopped past its shutdown timeout: stop work instead of running on as a zombie.
   */
  readonly signal: AbortSignal;
  /** Extends the lease to `now + by` (default: the queue's visibility timeout). Throws `ConflictError` if the lease was lost. */
  extendLease(by?: Duration): Promise<void>;
  /** Identity of the worker running the handler. */
  readonly worker: WorkerIdentity;
}

/**
 * A message handler. Returning resolves the message (done); throwing fails this receive.
 * Throw `PermanentError` or `MalformedError` to dead-letter at once, `TransientError` to retry.
 */
export type Handler<Body = unknown> = (
  message: ClaimedMessage & { body: Body },
  context: HandlerContext,
) => unknown | Promise<unknown>;

/** Options of {@link Worker}. */
export interface WorkerOptions extends FailureRules {
  /** Handlers running at once. Default 10. */
  concurrency?: number;
  /** Most messages claimed in one query. Default `min(concurrency, 100)`. */
  batchSize?: number;
  /** How often an idle worker looks for new messages. Default 200ms. Sends in the same process wake it at once. */
  pollInterval?: Duration;
  /** Stop by itself once nothing is waiting, delayed or leased in the queue. */
  drain?: boolean;
  /** How long `stop()` waits for running handlers before aborting them and releasing their messages. Default 30s. */
  shutdownTimeout?: Duration;
  /** Recorded on every attempt. Default `<host>:<pid>:<random>`. */
  workerId?: string;
  /** Recorded on every attempt, e.g. your service's version. Default `unknown`. */
  workerVersion?: string;
  /** Called with errors of the worker loop itself (a store error); the worker retries after a pause. Default: `console.error`. */
  onError?: (error: unknown) => void;
  /**
   * Called after every handler run with its queue, duration and outcome (`done`, or the
   * failure's `retry`, `dead` or `drop`), e.g. for a metrics histogram. It must not throw
   * (what it throws is passed to `onError`) and should be quick: it runs on the worker's path.
   */
  onAttempt?: (attempt: AttemptObservation) => void;
}

/** What {@link WorkerOptions.onAttempt} receives about one handler run. */
export interface AttemptObservation {
  queue: string;
  durationMs: number;
  outcome: 'done' | 'retry' | 'dead' | 'drop';
}

/** Counters of one worker since it started. */
export interface WorkerCounters {
  claimed: number;
  completed: number;
  retried: number;
  deadLettered: number;
  dropped: number;
  /** Acks or failures refused because the lease had been lost (expired and taken by another receive). */
  leasesLost: number;
}

interface InFlight {
  message: ClaimedMessage;
  controller: AbortController | undefined;
  leaseExpiresAt: number;
}

interface WorkerDeps {
  store: Store;
  clock: Clock;
  queue: QueueRecord;
  /** Resolves when a message is sent to this queue in this process, or after `ms`. */
  waitForWork: (queue: string, ms: number) => Promise<void>;
}

const LEASE_MARGIN_MS = 1_000;

/**
 * Runs a handler over a queue: claims batches under a lease, runs up to `concurrency`
 * handlers, acks and fails in batches, extends leases on request, and stops gracefully.
 * Create it with `Deadletter.work()`.
 */
export class Worker {
  readonly identity: WorkerIdentity;
  readonly counters: WorkerCounters = {
    claimed: 0,
    completed: 0,
    retried: 0,
    deadLettered: 0,
    dropped: 0,
    leasesLost: 0,
  };
  /** Settles when the worker has stopped (after `stop()`, or by itself in drain mode) and released everything. */
  readonly stopped: Promise<void>;

  private readonly deps: WorkerDeps;
  private readonly handler: Handler<never>;
  private readonly rules: FailureRules;
  private readonly concurrency: number;
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly shutdownMs: number;
  private readonly drain: boolean;
  private readonly onError: (error: unknown) => void;
  private readonly onAttempt: ((attempt: AttemptObservation) => void) | undefined;

  private readonly inflight = new Map<string, InFlight>();
  /** Resolves the wait of a shutdown for the running handlers, once none is left. */
  private drained: (() => void) | undefined;
  private completeBuffer: LeaseRef[] = [];
  private failBuffer: FailItem[] = [];
  private flushScheduled = false;
  /** Set while the loop is on its way to a claim, which settles the buffered outcomes too. */
  private claimPending = false;
  private flushing: Promise<void> = Promise.resolve();
  private stopping = false;
  private wake: (() => void) | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;

  constructor(deps: WorkerDeps, handler: Handler<never>, options: WorkerOptions = {}) {
    this.deps = deps;
    this.handler = handler;
    this.rules = options;
    this.concurrency = positiveInt(options.concurrency ?? 10, 'concurrency');
    this.batchSize = positiveInt(options.batchSize ?? Math.min(this.concurrency, 100), 'batchSize');
    this.pollMs = parseDuration(options.pollInterval ?? 200, 'poll interval');
    this.shutdownMs = parseDuration(options.shutdownTimeout ?? 30_000, 'shutdown timeout');
    this.drain = options.drain ?? false;
    this.graceMs = this.shutdownMs;
    this.refillAt = Math.max(1, Math.ceil(Math.min(this.batchSize, this.concurrency) / 2));
    this.onError = options.onError ?? ((error) => console.error('deadletter worker:', error));
    this.onAttempt = options.onAttempt;
    this.identity = {
      workerId: options.workerId ?? `${hostname()}:${process.pid}:${newId().slice(-6)}`,
      workerVersion: options.workerVersion ?? 'unknown',
      host: hostname(),
    };
    this.stopped = this.loop();
  }

  /** Messages whose handlers are running now. */
  get inFlightCount(): number {
    return this.inflight.size;
  }

  /**
   * Stops claiming, waits up to `timeout` (default: the `shutdownTimeout` option) for running
   * handlers, then aborts the rest and releases their messages to the queue. Settles when done.
   */
  async stop(options: { timeout?: Duration } = {}): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.graceMs =
        options.timeout === undefined ? this.shutdownMs : parseDuration(options.timeout, 'timeout');
      this.wake?.();
    }
    return this.stopped;
  }

  private graceMs: number;
  /** Free slots that make a worker with running handlers claim again. */
  private readonly refillAt: number;
  /** Set once shutdown has released what was left: a handler finishing later changes nothing. */
  private finished = false;

  private async loop(): Promise<void> {
    await Promise.resolve();
    this.leaseTimer = setInterval(
      () => this.abortExpiring(),
      Math.max(50, Math.min(1_000, this.deps.queue.visibilityTimeoutMs / 10)),
    );
    this.leaseTimer.unref();
    try {
      while (!this.stopping) {
        try {
          const free = this.concurrency - this.inflight.size;
          // Refill in batches: with handlers running, wait until half a batch of slots is free
          // instead of claiming one message each time one handler ends (a claim per message).
          if (this.inflight.size > 0 && free < this.refillAt) {
            await this.waitForSlot();
            continue;
          }
          // Let timers, I/O and other work of the process (a sender, an HTTP server) run between
          // cycles: with synchronous handlers the loop would otherwise run on microtasks alone.
          this.claimPending = true;
          await yieldToEventLoop();
          // Settle what finished before claiming more, in the same store call when the store
          // can (one commit): acks go out in the rhythm of the claims, and a message is never
          // held done-but-unacked while the loop races ahead on synchronous handlers.
          let claimed: ClaimedMessage[];
          try {
            claimed = await this.settleAndClaim(Math.max(0, Math.min(free, this.batchSize)));
          } finally {
            this.claimPending = false;
          }
          for (const message of claimed) this.start(message);
          this.counters.claimed += claimed.length;
          if (this.inflight.size >= this.concurrency) {
            await this.waitForSlot();
          } else if (claimed.length === 0) {
            if (this.inflight.size === 0 && this.drain) {
              await this.flush();
              if (!(await this.deps.store.messageHasPending({ queue: this.deps.queue.name }))) break;
            }
            await this.idle();
          } else if (claimed.length < Math.min(free, this.batchSize) && this.inflight.size > 0) {
            // The queue is nearly empty: wait for a handler or a send rather than spin on small claims.
            await this.idle();
          }
        } catch (error) {
          this.onError(error);
          await this.sleep(Math.max(this.pollMs, 500));
        }
      }
    } finally {
      this.stopping = true;
      await this.shutdown();
    }
  }

  private start(message: ClaimedMessage): void {
    const entry: InFlight = { message, controller: undefined, leaseExpiresAt: message.leaseExpiresAt };
    // Keyed by lease token, not message id: a handler that overran its lease may still be
    // running when the same message is received again by this worker.
    this.inflight.set(message.leaseToken, entry);
    // Never rejects: run reports its own errors and cleans up after itself (no promise per
    // message to chain cleanup on or to track).
    void this.run(entry);
  }

  private async run(entry: InFlight): Promise<void> {
    const { message } = entry;
    const startedAt = this.deps.clock.now();
    const context = this.contextFor(entry);
    try {
      let failed = false;
      let thrown: unknown;
      try {
        await this.handler(message as ClaimedMessage & { body: never }, context);
      } catch (error) {
        failed = true;
        thrown = error;
      }
      if (this.finished) return;
      if (failed) this.recordFailure(message, startedAt, thrown);
      else {
        this.completeBuffer.push({ id: message.id, leaseToken: message.leaseToken });
        this.observe(message.queue, this.deps.clock.now() - startedAt, 'done');
      }
      this.scheduleFlush();
    } catch (error) {
      // The handler's own errors are outcomes; this is a failure to plan one (a throwing
      // backoff function, say). The message stays leased until its lease expires.
      this.onError(error);
    } finally {
      this.inflight.delete(message.leaseToken);
      if (this.inflight.size === 0) this.drained?.();
      this.wake?.();
    }
  }

  /** Plans what a failed receive becomes and buffers it for the next settle. */
  private recordFailure(message: ClaimedMessage, startedAt: number, thrown: unknown): void {
    const now = this.deps.clock.now();
    const attempt: Attempt = {
      number: message.receives,
      startedAt,
      durationMs: now - startedAt,
      error: describeFailure(thrown),
      ...this.identity,
    };
    const plan = planFailure({
      queue: this.deps.queue,
      receives: message.receives,
      attempt,
      now,
      rules: this.rules,
    });
    const ref = { id: message.id, leaseToken: message.leaseToken, attempt };
    if (plan.outcome === 'retry')
      this.failBuffer.push({ ...ref, outcome: 'retry', visibleAt: plan.visibleAt });
    else if (plan.outcome === 'dead') this.failBuffer.push({ ...ref, outcome: 'dead', death: plan.death });
    else this.failBuffer.push({ ...ref, outcome: 'drop', tier: plan.tier });
    this.observe(message.queue, attempt.durationMs, plan.outcome);
  }

  private observe(queue: string, durationMs: number, outcome: AttemptObservation['outcome']): void {
    if (!this.onAttempt) return;
    try {
      this.onAttempt({ queue, durationMs, outcome });
    } catch (error) {
      this.onError(error);
    }
  }

  private contextFor(entry: InFlight): HandlerContext {
    const worker = this;
    return {
      worker: this.identity,
      get signal(): AbortSignal {
        entry.controller ??= new AbortController();
        return entry.controller.signal;
      },
      async extendLease(by?: Duration): Promise<void> {
        const ms =
          by === undefined ? worker.deps.queue.visibilityTimeoutMs : parseDuration(by, 'lease extension');
        const leaseExpiresAt = worker.deps.clock.now() + ms;
        const ok = await worker.deps.store.messageExtendLease({
          id: entry.message.id,
          leaseToken: entry.message.leaseToken,
          leaseExpiresAt,
        });
        if (!ok)
          throw new ConflictError(
            `lease of message ${entry.message.id} was lost: it expired and was taken back`,
          );
        entry.leaseExpiresAt = leaseExpiresAt;
      },
    };
  }

  /** Aborts the signal of handlers whose lease is about to run out. */
  private abortExpiring(): void {
    const now = this.deps.clock.now();
    const margin = Math.min(LEASE_MARGIN_MS, this.deps.queue.visibilityTimeoutMs / 10);
    for (const entry of this.inflight.values()) {
      if (entry.controller && !entry.controller.signal.aborted && entry.leaseExpiresAt - margin <= now) {
        entry.controller.abort(new Error('lease about to expire'));
      }
    }
  }

  /** Coalesces the acks and failures of one turn of the event loop into one store call each. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      // The loop is about to settle these with its next claim, in the same transaction.
      if (this.claimPending) return;
      void this.flush().catch((error) => this.onError(error));
    });
  }

  private flush(): Promise<void> {
    return this.settle(async (complete, fail, now) => {
      if (complete.length > 0) {
        this.countCompleted(await this.deps.store.messageComplete({ items: complete, now }));
      }
      if (fail.length > 0) this.countFailed(fail, await this.deps.store.messageFail({ items: fail, now }));
    });
  }

  /** Flushes what finished and claims up to `limit`, in one store call when the store can. */
  private async settleAndClaim(limit: number): Promise<ClaimedMessage[]> {
    const claim = {
      queue: this.deps.queue.name,
      limit,
      leaseMs: this.deps.queue.visibilityTimeoutMs,
      worker: this.identity,
    };
    const { store } = this.deps;
    const combined = store.messageSettleAndClaim?.bind(store);
    if (!combined) {
      if (this.completeBuffer.length > 0 || this.failBuffer.length > 0) await this.flush();
      return store.messageClaim({ ...claim, now: this.deps.clock.now() });
    }
    let claimed: ClaimedMessage[] = [];
    await this.settle(async (complete, fail, now) => {
      const result = await combined({ complete, fail, now, claim });
      this.countCompleted(result.completed);
      this.countFailed(fail, result.failed);
      claimed = result.claimed;
    });
    return claimed;
  }

  /**
   * Runs `write` with the buffered outcomes, one write at a time. If it throws, the outcomes go
   * back to the buffers for the next write (if the process dies first, the leases expire and the
   * messages are received again: at-least-once), and later writes still run.
   */
  private settle(
    write: (complete: LeaseRef[], fail: FailItem[], now: number) => Promise<void>,
  ): Promise<void> {
    const run = this.flushing.then(async () => {
      const complete = this.completeBuffer;
      const fail = this.failBuffer;
      this.completeBuffer = [];
      this.failBuffer = [];
      try {
        await write(complete, fail, this.deps.clock.now());
      } catch (error) {
        this.completeBuffer.push(...complete);
        this.failBuffer.push(...fail);
        throw error;
      }
    });
    // The chain itself never rejects: one failed write must not skip every later one.
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private countCompleted(result: { completed: number; lost: string[] }): void {
    this.counters.completed += result.completed;
    this.counters.leasesLost += result.lost.length;
  }

  private countFailed(fail: FailItem[], result: { lost: string[] }): void {
    this.counters.leasesLost += result.lost.length;
    const lost = new Set(result.lost);
    for (const item of fail) {
      if (lost.has(item.id)) continue;
      if (item.outcome === 'retry') this.counters.retried++;
      else if (item.outcome === 'dead') this.counters.deadLettered++;
      else this.counters.dropped++;
    }
  }

  private waitForSlot(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private idle(): Promise<void> {
    let settled = false;
    return new Promise<void>((resolve) => {
      const done = () => {
        if (settled) return;
        settled = true;
        resolve();
      };
      this.wake = done;
      void this.deps.waitForWork(this.deps.queue.name, this.pollMs).then(done);
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async shutdown(): Promise<void> {
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    if (this.inflight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        timer = setTimeout(resolve, this.graceMs);
      });
      this.drained = undefined;
      clearTimeout(timer);
    }
    const leftovers = [...this.inflight.values()];
    for (const entry of leftovers) {
      entry.controller?.abort(new Error('worker stopped'));
    }
    this.finished = true;
    await this.flushUntilEmpty();
    if (leftovers.length > 0) {
      // Still running past the grace period: hand them back now. Their receive counts, since the
      // handler did run; a late ack from such a handler is refused (lost lease).
      await this.deps.store.messageRelease({
        items: leftovers.map((entry) => ({
          id: entry.message.id,
          leaseToken: entry.message.leaseToken,
          uncountReceive: false,
        })),
        now: this.deps.clock.now(),
      });
    }
  }

  private async flushUntilEmpty(): Promise<void> {
    for (let tries = 0; tries < 5; tries++) {
      try {
        await this.flush();
        if (this.completeBuffer.length === 0 && this.failBuffer.length === 0) return;
      } catch (error) {
        this.onError(error);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function positiveInt(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new ValidationError(`invalid ${what} ${value}: use a whole number ≥ 1`);
  return value;
}
