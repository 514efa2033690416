import type { AlertChannel } from '../core/alert.ts';
import { validateAlertChannel } from '../core/alert.ts';
import type { Clock } from '../core/clock.ts';
import type { Store } from '../store/store.ts';
import { type AlertDeliveryOptions, type AlertLogger, alertDeliveryService } from './alert-delivery.ts';
import { alertEvaluatorService } from './alert-evaluator.ts';
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
  if (options.review && options.review.channels.length > 0) {
    for (const channel of options.review.channels) validateAlertChannel(channel);
    services.push(reviewScheduleService({ store, clock, ...options.review }));
  }
  return services;
}
