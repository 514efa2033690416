import type { AuditEntry } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import { ValidationError } from '../core/errors.ts';
import { buildReview, type ReviewQueueSnapshot, type ReviewReport } from '../core/review.ts';
import type { Store } from '../store/store.ts';

/** Options of `Deadletter.review`. */
export interface ReviewOptions {
  /** Start of the window (epoch ms). Default: 7 days before `until`. */
  since?: number;
  /** End of the window (epoch ms, exclusive). Default: now. */
  until?: number;
}

/** Most groups read per queue; a DLQ with more is summarised from its largest ones. */
const GROUPS_PER_QUEUE = 1000;
/** Audit entries read per page while summing archives. */
const AUDIT_PAGE = 500;

/** Gathers what `dlq review` reports, queue by queue, and builds the report (core/review.ts). */
export async function gatherReview(
  deps: { store: Store; clock: Clock },
  options: ReviewOptions,
): Promise<ReviewReport> {
  const until = options.until ?? deps.clock.now();
  const since = options.since ?? until - 7 * 86_400_000;
  if (!Number.isFinite(since) || !Number.isFinite(until) || since >= until) {
    throw new ValidationError('invalid review window: --since must be before --until');
  }
  const { store } = deps;
  const [stats, archived] = await Promise.all([
    store.queueStats({ now: deps.clock.now() }),
    archivedPerQueue(store, since, until),
  ]);
  const queues: ReviewQueueSnapshot[] = [];
  for (const row of stats) {
    const [died, outcomes, groups] = await Promise.all([
      store.deadLetterCountDied({ queue: row.queue, since, until }),
      store.deadLetterCountOutcomes({ queue: row.queue, since, until }),
      store.groupList({ queue: row.queue, sort: 'count', limit: GROUPS_PER_QUEUE }),
    ]);
    queues.push({
      queue: row.queue,
      depth: row.dead,
      oldestDeadAt: row.oldestDeadAt,
      died,
      outcomes,
      archived: archived.get(row.queue) ?? 0,
      groups,
    });
  }
  return buildReview({ since, until, queues });
}

/** Dead letters archived by retention in the window, per queue, from the `retention.archive` audit entries. */
async function archivedPerQueue(store: Store, since: number, until: number): Promise<Map<string, number>> {
  const archived = new Map<string, number>();
  let beforeId: number | undefined;
  for (;;) {
    const page: AuditEntry[] = await store.auditList({
      action: 'retention.archive',
      since,
      until,
      limit: AUDIT_PAGE,
      ...(beforeId !== undefined && { beforeId }),
    });
    for (const entry of page) {
      const { queue, dead, count } = entry.details;
      const n = typeof dead === 'number' ? dead : typeof count === 'number' ? count : 0;
      if (typeof queue === 'string') archived.set(queue, (archived.get(queue) ?? 0) + n);
    }
    if (page.length < AUDIT_PAGE) return archived;
    beforeId = page[page.length - 1]?.id;
  }
}
