import type { AlertChannel } from '../core/alert.ts';
import { validateAlertChannel } from '../core/alert.ts';
import type { Clock } from '../core/clock.ts';
import type { Store } from '../store/store.ts';
import { type AlertDeliveryOptions, type AlertLogger, alertDeliveryService } from './alert-delivery.ts';
import { alertEvaluatorService } from './alert-evaluator.ts';
import { DEFAULT_ALERT_HISTORY_MS, pruneAlertHistory } from './alerts.ts';
import type { MaintenanceService } from './maintenance.ts';
import { reviewScheduleService } from './review-schedule.ts';

/** Options of {@link alertServices}. */
export interface AlertServicesOptions {
  store: Store;
  clock: Clock;
  /** The `log` channel's destination (the server's pino logger). */
  logger?: AlertLogger;
  /** How often the rules are evaluated. Default 30s. */
  evaluateEveryMs?: number;
  /** The dashboard's public address, for links in the payloads. */
  dashboardUrl?: string;
  /** The scheduled review report: where it goes and how often (absent: no scheduled report). */
  review?: { channels: AlertChannel[]; everyMs: number };
  /**
   * How long resolved alerts and sent notifications are kept (default 30 days); older ones are
   * deleted hourly. 0 keeps them forever.
   */
  historyMs?: number;
  /** Retry settings of the delivery service. */
  delivery?: Omit<AlertDeliveryOptions, 'store' | 'clock' | 'logger'>;
}

/**
 * The maintenance services of alerting: the evaluator, the delivery of the outbox and, when
 * configured, the scheduled review report. Alerts need a long-running process, so `dlq serve`
 * runs them (leader-only, like every maintenance service); an application that runs its own
 * long-lived Deadletter handle can pass them as `maintenance.services` instead.
 */
export function alertServices(options: AlertServicesOptions): MaintenanceService[] {
  const { store, clock } = options;
  const services = [
    alertEvaluatorService({
      store,
      clock,
      ...(options.evaluateEveryMs !== undefined && { intervalMs: options.evaluateEveryMs }),
      ...(options.dashboardUrl !== undefined && { dashboardUrl: options.dashboardUrl }),
    }),
    alertDeliveryService({
      ...options.delivery,
      store,
      clock,
      ...(options.logger !== undefined && { logger: options.logger }),
    }),
  ];
  const historyMs = options.historyMs ?? DEFAULT_ALERT_HISTORY_MS;
  if (historyMs > 0) services.push(alertHistoryPruneService({ store, clock, historyMs }));
  if (options.review && options.review.channels.length > 0) {
    for (const channel of options.review.channels) validateAlertChannel(channel);
    services.push(reviewScheduleService({ store, clock, ...options.review }));
  }
  return services;
}

/** The hourly deletion of the alert history older than `historyMs` (see `pruneAlertHistory`). */
export function alertHistoryPruneService(options: {
  store: Store;
  clock: Clock;
  historyMs: number;
  intervalMs?: number;
}): MaintenanceService {
  return {
    name: 'alert history pruning',
    intervalMs: options.intervalMs ?? 3_600_000,
    run: () => pruneAlertHistory(options.store, { now: options.clock.now(), keepMs: options.historyMs }),
  };
}
