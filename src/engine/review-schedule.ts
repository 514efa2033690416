import type { AlertChannel, AlertDelivery } from '../core/alert.ts';
import { reviewPayloadFor } from '../core/alert-payloads.ts';
import type { Clock } from '../core/clock.ts';
import { newId } from '../core/ids.ts';
import type { Store } from '../store/store.ts';
import type { MaintenanceService } from './maintenance.ts';
import { gatherReview } from './review.ts';

/** Options of {@link sendScheduledReview} and {@link reviewScheduleService}. */
export interface ReviewScheduleOptions {
  store: Store;
  clock: Clock;
  /** Where the report goes (webhook: the JSON report and its Markdown; slack: the Markdown). */
  channels: AlertChannel[];
  /** How often a report goes out, and the window each covers. */
  everyMs: number;
  /** How often the service checks whether a report is due (injected clock). Default 1 min. */
  intervalMs?: number;
}

/**
 * Puts the review report (`dlq review` over the last `everyMs`) in the alert outbox, once per
 * `everyMs`: when the latest review delivery was created `everyMs` ago or more, or there was
 * none (the first report goes out when the schedule first runs). The outbox remembers when the
 * last one went, so restarts neither skip nor repeat a report; the delivery service sends it
 * with its retries. Returns the deliveries enqueued (none when not due).
 */
export async function sendScheduledReview(options: ReviewScheduleOptions): Promise<AlertDelivery[]> {
  const { store, clock } = options;
  if (options.channels.length === 0) return [];
  const now = clock.now();
  const [last] = await store.alertDeliveryList({ event: 'review', limit: 1 });
  if (last && now - last.createdAt < options.everyMs) return [];
  const report = await gatherReview({ store, clock }, { since: now - options.everyMs, until: now });
  const deliveries: AlertDelivery[] = options.channels.map((channel) => ({
    id: newId(),
    alertId: null,
    event: 'review',
    channel: channel.type,
    url: channel.url ?? null,
    payload: reviewPayloadFor(channel.type, report),
    attempts: 0,
    status: 'pending',
    createdAt: now,
    nextAttemptAt: now,
    lastError: null,
    deliveredAt: null,
  }));
  await store.alertDeliveryInsert({ deliveries });
  return deliveries;
}

/** The review schedule as a maintenance service (leader-only). */
export function reviewScheduleService(options: ReviewScheduleOptions): MaintenanceService {
  return {
    name: 'review schedule',
    intervalMs: options.intervalMs ?? 60_000,
    run: () => sendScheduledReview(options),
  };
}
