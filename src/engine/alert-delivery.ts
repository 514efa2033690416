import type { AlertDelivery } from '../core/alert.ts';
import type { Clock } from '../core/clock.ts';
import type { Store } from '../store/store.ts';
import type { MaintenanceService } from './maintenance.ts';

/** Where the `log` channel writes: pino's `info(object, message)` shape. */
export interface AlertLogger {
  info(details: object, message: string): void;
}

/** Writes one JSON line to stderr: the `log` channel when no logger is given. */
export const stderrAlertLogger: AlertLogger = {
  info: (details, message) => process.stderr.write(`${JSON.stringify({ ...details, msg: message })}\n`),
};

/** Options of {@link deliverAlerts} and {@link alertDeliveryService}. */
export interface AlertDeliveryOptions {
  store: Store;
  clock: Clock;
  /** The `log` channel's destination. Default: a JSON line on stderr. */
  logger?: AlertLogger;
  /** Attempts before a delivery is marked `failed`. Default 6. */
  maxAttempts?: number;
  /** The delay after the first failed attempt; each further one doubles it. Default 10s. */
  baseDelayMs?: number;
  /** The longest delay between attempts. Default 15 min. */
  maxDelayMs?: number;
  /** How long one HTTP attempt may take (real time). Default 5s. */
  timeoutMs?: number;
  /**
   * Most deliveries sent per run, all at once. Default 20. A run thus lasts at most about one
   * timeout, well within the maintenance leadership's lease, however many receivers are down.
   */
  batchSize?: number;
  /** How often the service runs (injected clock). Default 5s. */
  intervalMs?: number;
  /** In [0, 1): the jitter's randomness. Default Math.random. */
  random?: () => number;
  /** The HTTP client. Default the global fetch. */
  fetch?: typeof fetch;
}

/** What one run did. */
export interface AlertDeliveryResult {
  delivered: number;
  /** Attempts that failed and will be retried. */
  retried: number;
  /** Deliveries given up after their last attempt. */
  failed: number;
}

/**
 * The delay before attempt `attempts + 1` after `attempts` failed ones: exponential from
 * `baseDelayMs`, capped at `maxDelayMs`, with "equal jitter" (half fixed, half random) so that
 * many deliveries to one receiver that came back do not all retry at the same moment.
 */
export function alertRetryDelay(
  attempts: number,
  options: { baseDelayMs: number; maxDelayMs: number; random: () => number },
): number {
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exponential / 2 + (exponential / 2) * options.random());
}

/**
 * Sends the due deliveries of the outbox (the oldest due first, a batch at once): a webhook or Slack
 * delivery is a POST of its JSON payload (any 2xx is success), the `log` channel writes a
 * line to the logger. A failed attempt (an error, a timeout, a non-2xx status) is retried
 * after {@link alertRetryDelay}; after `maxAttempts` the delivery is `failed`. Status,
 * attempts and the last error are recorded on the delivery, so a restart continues where the
 * last process stopped (a crash between a send and its record sends that one again: delivery
 * is at least once).
 */
export async function deliverAlerts(options: AlertDeliveryOptions): Promise<AlertDeliveryResult> {
  const { store, clock } = options;
  const result: AlertDeliveryResult = { delivered: 0, retried: 0, failed: 0 };
  const due = await store.alertDeliveryListDue({ now: clock.now(), limit: options.batchSize ?? 20 });
  await Promise.all(due.map((delivery) => deliverOne(delivery, options, result)));
  return result;
}

/** One attempt of one delivery, and its record. */
async function deliverOne(
  delivery: AlertDelivery,
  options: AlertDeliveryOptions,
  result: AlertDeliveryResult,
): Promise<void> {
  const { store, clock } = options;
  const error = await attempt(delivery, options);
  const attempts = delivery.attempts + 1;
  const now = clock.now();
  if (error === undefined) {
    await store.alertDeliveryUpdate({
      id: delivery.id,
      attempts,
      status: 'delivered',
      nextAttemptAt: now,
      lastError: null,
      deliveredAt: now,
    });
    result.delivered++;
  } else if (attempts >= (options.maxAttempts ?? 6)) {
    await store.alertDeliveryUpdate({
      id: delivery.id,
      attempts,
      status: 'failed',
      nextAttemptAt: now,
      lastError: error,
      deliveredAt: null,
    });
    result.failed++;
  } else {
    const delay = alertRetryDelay(attempts, {
      baseDelayMs: options.baseDelayMs ?? 10_000,
      maxDelayMs: options.maxDelayMs ?? 15 * 60_000,
      random: options.random ?? Math.random,
    });
    await store.alertDeliveryUpdate({
      id: delivery.id,
      attempts,
      status: 'pending',
      nextAttemptAt: now + delay,
      lastError: error,
      deliveredAt: null,
    });
    result.retried++;
  }
}

/** One attempt; the error's text, or undefined on success. */
async function attempt(delivery: AlertDelivery, options: AlertDeliveryOptions): Promise<string | undefined> {
  if (delivery.channel === 'log') {
    (options.logger ?? stderrAlertLogger).info(
      { alert: delivery.payload, event: delivery.event, deliveryId: delivery.id },
      `deadletter alert ${delivery.event}`,
    );
    return undefined;
  }
  if (delivery.url === null) return `a ${delivery.channel} delivery without a url`;
  const send = options.fetch ?? fetch;
  try {
    const response = await send(delivery.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'deadletter-alerts' },
      body: JSON.stringify(delivery.payload),
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      redirect: 'error',
    });
    // Drain the body so the connection can be reused.
    const text = await response.text().catch(() => '');
    if (response.ok) return undefined;
    return `HTTP ${response.status}${text === '' ? '' : `: ${text.slice(0, 200)}`}`;
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error instanceof Error ? error.message : String(error)}${cause}`;
  }
}

/** The sender as a maintenance service (leader-only, so one process sends each delivery). */
export function alertDeliveryService(options: AlertDeliveryOptions): MaintenanceService {
  return {
    name: 'alert delivery',
    intervalMs: options.intervalMs ?? 5_000,
    run: () => deliverAlerts(options),
  };
}
