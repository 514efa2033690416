import { hostname } from 'node:os';
import type { Clock } from '../core/clock.ts';
import { newId } from '../core/ids.ts';
import type { Store } from '../store/store.ts';

/** A periodic job that only the leader runs: the lease-expiry sweep, later retention and alerts. */
export interface MaintenanceService {
  name: string;
  /** How often it runs, in ms of the injected clock. */
  intervalMs: number;
  run(): Promise<unknown>;
}

/** Options of {@link MaintenanceRunner}. */
export interface MaintenanceOptions {
  /** How long a leadership lasts without renewal; a new leader takes over within it when the old one dies. Default 15s. */
  leaseMs?: number;
  /** How often the runner wakes (real time) to renew and run due services. Default 250ms. */
  tickMs?: number;
  onError?: (error: unknown, service: string) => void;
}

const LEADERSHIP = 'maintenance';

/**
 * Runs the maintenance services in one process of all those sharing a store: every runner
 * tries to take or renew the `maintenance` leadership each `leaseMs / 3`; only the leader runs
 * the services. A leader that dies without resigning is replaced once its lease runs out.
 */
export class MaintenanceRunner {
  readonly holder = `${hostname()}:${process.pid}:${newId().slice(-8)}`;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly services: MaintenanceService[];
  private readonly leaseMs: number;
  private readonly tickMs: number;
  private readonly onError: (error: unknown, service: string) => void;
  private readonly lastRun = new Map<string, number>();
  private leader = false;
  private lastElection = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(store: Store, clock: Clock, services: MaintenanceService[], options: MaintenanceOptions = {}) {
    this.store = store;
    this.clock = clock;
    this.services = services;
    this.leaseMs = options.leaseMs ?? 15_000;
    this.tickMs = options.tickMs ?? 250;
    this.onError = options.onError ?? ((error, service) => console.error(`deadletter ${service}:`, error));
  }

  /** Whether this runner held the leadership at its last election. */
  get isLeader(): boolean {
    return this.leader;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
    void this.tick();
  }

  /** One round: renew or take the leadership when due, then run the due services if leader. */
  tick(): Promise<void> {
    this.ticking ??= this.round().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  /** Stops the runner and resigns the leadership so another process takes over at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    if (this.leader) {
      this.leader = false;
      await this.store
        .leaderResign({ name: LEADERSHIP, holder: this.holder })
        .catch((error) => this.onError(error, 'leadership'));
    }
  }

  private async round(): Promise<void> {
    const now = this.clock.now();
    if (now - this.lastElection >= this.leaseMs / 3) {
      try {
        this.leader = await this.store.leaderAttemptElect({
          name: LEADERSHIP,
          holder: this.holder,
          ttlMs: this.leaseMs,
          now,
        });
        this.lastElection = now;
      } catch (error) {
        this.leader = false;
        this.onError(error, 'leadership');
        return;
      }
    }
    if (!this.leader) return;
    for (const service of this.services) {
      const last = this.lastRun.get(service.name) ?? Number.NEGATIVE_INFINITY;
      if (this.clock.now() - last < service.intervalMs) continue;
      this.lastRun.set(service.name, this.clock.now());
      try {
        await service.run();
      } catch (error) {
        this.onError(error, service.name);
      }
    }
  }
}
