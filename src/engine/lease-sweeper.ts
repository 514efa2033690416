import type { Clock } from '../core/clock.ts';
import { type FailureRules, planFailure } from '../core/failure-plan.ts';
import type { Attempt } from '../core/message.ts';
import type { QueueRecord } from '../core/queue-settings.ts';
import type { FailItem, Store } from '../store/store.ts';

/** The error recorded when a lease runs out: classified as tier `timeout`. */
export const LEASE_EXPIRED_ERROR = 'LeaseExpiredError';

/** Result of one sweep. */
export interface LeaseSweepResult {
  expired: number;
  retried: number;
  deadLettered: number;
  dropped: number;
}

/**
 * Returns messages whose lease ran out (their worker crashed or hung) to the queue, or to the
 * DLQ when that was their last receive. The expiry counts as a failed receive with a
 * `LeaseExpiredError` attempt. Safe to run from many processes at once: a lease token that
 * changed in between makes the store skip the item.
 */
export async function sweepExpiredLeases(params: {
  store: Store;
  clock: Clock;
  rulesFor: (queue: string) => FailureRules;
  queueFor: (queue: string) => Promise<QueueRecord | undefined>;
  batchSize?: number;
}): Promise<LeaseSweepResult> {
  const { store, clock } = params;
  const result: LeaseSweepResult = { expired: 0, retried: 0, deadLettered: 0, dropped: 0 };
  const limit = params.batchSize ?? 500;
  for (;;) {
    const now = clock.now();
    const expired = await store.messageListExpiredLeases({ now, limit });
    if (expired.length === 0) return result;
    const items: FailItem[] = [];
    for (const lease of expired) {
      const queue = await params.queueFor(lease.queue);
      if (!queue) continue;
      const attempt: Attempt = {
        number: lease.receives,
        startedAt: lease.leasedAt,
        durationMs: now - lease.leasedAt,
        error: {
          name: LEASE_EXPIRED_ERROR,
          message: `lease expired after ${lease.leaseExpiresAt - lease.leasedAt} ms without an ack or a failure (the worker crashed, hung or was too slow)`,
        },
        ...lease.worker,
      };
      const plan = planFailure({
        queue,
        receives: lease.receives,
        attempt,
        now,
        rules: params.rulesFor(lease.queue),
      });
      const ref = { id: lease.id, leaseToken: lease.leaseToken, attempt };
      if (plan.outcome === 'retry') {
        items.push({ ...ref, outcome: 'retry', visibleAt: plan.visibleAt });
        result.retried++;
      } else if (plan.outcome === 'dead') {
        items.push({ ...ref, outcome: 'dead', death: plan.death });
        result.deadLettered++;
      } else {
        items.push({ ...ref, outcome: 'drop', tier: plan.tier });
        result.dropped++;
      }
    }
    const applied = await store.messageFail({ items, now });
    result.expired += applied.applied;
    if (expired.length < limit) return result;
  }
}
