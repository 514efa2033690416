import type { ReplayJob } from '../core/replay.ts';
import type { MaintenanceService } from './maintenance.ts';
import { type ReplayRunnerDeps, runReplayJob } from './replay-runner.ts';

/** Options of {@link ReplayService}. */
export interface ReplayServiceOptions {
  /** This process's holder name for the jobs it runs. */
  holder: string;
  /** How long a job's hold lasts without renewal. */
  leaseMs: number;
  /** How often it looks for a job to run, in ms of the injected clock. */
  intervalMs: number;
  canaryPollMs: number;
  onError: (error: unknown, service: string) => void;
  /** Told when it starts and finishes a job. */
  onJob?: (job: ReplayJob) => void;
}

/** The name of the service, in logs and errors. */
export const REPLAY_SERVICE_NAME = 'replay runner';

/**
 * The replay runner, a maintenance service (leader-only): it runs jobs that nobody runs —
 * created with `--detach`, resumed without a foreground runner, or left behind by a runner
 * that died (once its hold's lease has run out) — one at a time, in the background, so the
 * other maintenance services keep their schedule. The audit log records its changes as
 * `system`.
 */
export class ReplayService {
  private readonly deps: ReplayRunnerDeps;
  private readonly options: ReplayServiceOptions;
  private current: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(deps: ReplayRunnerDeps, options: ReplayServiceOptions) {
    this.deps = deps;
    this.options = options;
  }

  /** The service for the maintenance runner. */
  asMaintenanceService(): MaintenanceService {
    return { name: REPLAY_SERVICE_NAME, intervalMs: this.options.intervalMs, run: () => this.tick() };
  }

  /** Whether a job is running here now. */
  get busy(): boolean {
    return this.current !== undefined;
  }

  /** Takes the oldest job nobody runs, if idle, and starts it in the background. */
  async tick(): Promise<ReplayJob | undefined> {
    if (this.current || this.abort.signal.aborted) return undefined;
    const job = await this.deps.store.replayJobAcquire({
      holder: this.options.holder,
      leaseMs: this.options.leaseMs,
      now: this.deps.clock.now(),
    });
    if (!job) return undefined;
    this.options.onJob?.(job);
    this.current = runReplayJob(this.deps, job, {
      holder: this.options.holder,
      actor: 'system',
      leaseMs: this.options.leaseMs,
      canaryPollMs: this.options.canaryPollMs,
      signal: this.abort.signal,
      onAbort: 'release',
    })
      .then((result) => this.options.onJob?.(result.job))
      .catch((error: unknown) => this.options.onError(error, REPLAY_SERVICE_NAME))
      .finally(() => {
        this.current = undefined;
      });
    return job;
  }

  /** Stops the job it runs (letting it go for another process) and waits for that. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.current;
  }
}
