import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { GROUP_STATUSES } from '../core/group.ts';
import type { Deadletter } from '../engine/deadletter.ts';
import type { AttemptObservation } from '../engine/worker.ts';
import { AlertMetrics } from './alert-metrics.ts';

/** How far back the latest queue sample may be to count as the current inflow. */
const SAMPLE_FRESH_MS = 5 * 60_000;

/**
 * The server's Prometheus metrics, in a registry of its own (never prom-client's global one,
 * so several servers in one process, or an application's own metrics, do not collide).
 *
 * Queue, DLQ and group figures are read from the store at each scrape (`collect`), so they are
 * the same whichever server of a deployment is scraped. Counters (`..._total`) are the store's
 * cumulative per-queue counts, not this process's: they survive restarts. The attempt-duration
 * histogram is the exception: it observes the handler runs of workers in this process only
 * (`onAttempt` of the Deadletter handle); a service running its own workers can pass
 * {@link ServerMetrics.observeAttempt} as its `onAttempt` and expose {@link ServerMetrics.registry}.
 *
 * Extension point: other services (the alert evaluator) register their metrics on `registry`.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly messages: Gauge<'queue' | 'state'>;
  private readonly dlqDepth: Gauge<'queue'>;
  private readonly dlqInflow: Gauge<'queue'>;
  private readonly dlqOldestAge: Gauge<'queue'>;
  private readonly groups: Gauge<'status'>;
  private readonly totals: Record<
    'done' | 'dead' | 'dropped' | 'replayed' | 'discarded' | 'archived',
    Counter<'queue'>
  >;
  private readonly attemptDuration: Histogram<'queue' | 'outcome'>;
  private readonly alerts: AlertMetrics;

  constructor() {
    const registers = [this.registry];
    this.messages = new Gauge({
      name: 'deadletter_queue_messages',
      help: 'Live messages per queue and state (waiting = visible now, delayed, leased)',
      labelNames: ['queue', 'state'],
      registers,
    });
    this.dlqDepth = new Gauge({
      name: 'deadletter_dlq_depth',
      help: 'Dead letters in the DLQ of each queue',
      labelNames: ['queue'],
      registers,
    });
    this.dlqInflow = new Gauge({
      name: 'deadletter_dlq_inflow_per_minute',
      help: 'Dead letters that arrived in the DLQ in the last sampled minute (0 without a recent sample)',
      labelNames: ['queue'],
      registers,
    });
    this.dlqOldestAge = new Gauge({
      name: 'deadletter_dlq_oldest_age_seconds',
      help: 'Age of the oldest dead letter in the DLQ of each queue (absent when the DLQ is empty)',
      labelNames: ['queue'],
      registers,
    });
    this.groups = new Gauge({
      name: 'deadletter_groups',
      help: 'Groups of dead letters by triage status',
      labelNames: ['status'],
      registers,
    });
    const counter = (name: string, help: string) =>
      new Counter({ name: `deadletter_${name}_total`, help, labelNames: ['queue'], registers });
    this.totals = {
      done: counter('messages_done', 'Messages handled successfully, per queue'),
      dead: counter(
        'dead_letters',
        'Messages that went to the DLQ, per queue (ever: replayed, discarded and archived ones included)',
      ),
      dropped: counter('messages_dropped', 'Failures dropped because the queue has no DLQ'),
      replayed: counter('replayed', 'Dead letters replayed out of the DLQ, per source queue'),
      discarded: counter('discarded', 'Dead letters discarded (a tombstone stays), per queue'),
      archived: counter('archived', 'Dead letters archived by the retention sweeper, per queue'),
    };
    this.attemptDuration = new Histogram({
      name: 'deadletter_attempt_duration_seconds',
      help: "Handler run durations of this process's workers, by queue and outcome (done, retry, dead, drop)",
      labelNames: ['queue', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.alerts = new AlertMetrics(this.registry);
  }

  /** Records one handler run; pass it as the Deadletter handle's (or a worker's) `onAttempt`. */
  readonly observeAttempt = (attempt: AttemptObservation): void => {
    this.attemptDuration.observe(
      { queue: attempt.queue, outcome: attempt.outcome },
      attempt.durationMs / 1000,
    );
  };

  /** Reads the store's current figures into the metrics, then renders the text format. */
  async render(dl: Deadletter): Promise<{ contentType: string; text: string }> {
    await this.collect(dl);
    await this.alerts.collect(dl.store);
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  private async collect(dl: Deadletter): Promise<void> {
    const now = dl.clock.now();
    const [stats, groupCounts] = await Promise.all([dl.stats(), dl.store.groupCountByStatus()]);
    const inflows = await Promise.all(
      stats.map(async (row) => {
        const samples = await dl.store.queueSampleList({ queue: row.queue, since: now - SAMPLE_FRESH_MS });
        return samples[samples.length - 1]?.inflow ?? 0;
      }),
    );
    // Everything below is synchronous: a concurrent scrape never sees half an update.
    for (const metric of [this.messages, this.dlqDepth, this.dlqInflow, this.dlqOldestAge, this.groups])
      metric.reset();
    for (const metric of Object.values(this.totals)) metric.reset();
    stats.forEach((row, index) => {
      const queue = row.queue;
      this.messages.set({ queue, state: 'waiting' }, row.waiting);
      this.messages.set({ queue, state: 'delayed' }, row.delayed);
      this.messages.set({ queue, state: 'leased' }, row.leased);
      this.dlqDepth.set({ queue }, row.dead);
      this.dlqInflow.set({ queue }, inflows[index] ?? 0);
      if (row.oldestDeadAt !== null)
        this.dlqOldestAge.set({ queue }, Math.max(0, (now - row.oldestDeadAt) / 1000));
      const ever = row.dead + row.replayed + row.discarded + row.archived;
      const totals = { ...row, dead: ever };
      for (const [key, metric] of Object.entries(this.totals) as [
        keyof typeof this.totals,
        Counter<'queue'>,
      ][]) {
        metric.inc({ queue }, totals[key]);
      }
    });
    for (const status of GROUP_STATUSES) this.groups.set({ status }, groupCounts[status] ?? 0);
  }
}
