import type { Clock } from '../core/clock.ts';
import { QUEUE_DEFAULTS } from '../core/queue-settings.ts';
import type { Store } from '../store/store.ts';
import type { MaintenanceService } from './maintenance.ts';

/** Rows deleted per statement (and transaction) by the done-retention sweep. */
export const DEFAULT_DONE_PRUNE_BATCH = 5_000;
/** Batches one run deletes at most, over all queues, before it gives the leader back to the other services. */
export const DEFAULT_DONE_PRUNE_MAX_BATCHES = 200;
/** How often the done-retention sweep runs. */
export const DEFAULT_DONE_SWEEP_INTERVAL_MS = 10_000;

/** Options of {@link pruneDoneMessages}. */
export interface DonePruneOptions {
  /** Rows per statement. Default 5,000. */
  batchSize?: number;
  /** Batches per run, all queues together. Default 200 (a million rows). */
  maxBatches?: number;
}

/** What one run of the done-retention sweep deleted. */
export interface DonePruneResult {
  /** Done messages deleted, all queues together. */
  deleted: number;
  /** Per queue that had any, in queue-name order. */
  byQueue: { queue: string; deleted: number }[];
  /** The run stopped at `maxBatches` with rows left to delete: the next run goes on. */
  more: boolean;
}

/**
 * The pause between two batches. It always lets the event loop run (workers of this process).
 * On a single-writer store (SQLite) it also leaves the write lock free about as long as the
 * batch held it: writers of other processes wait on the lock by polling with sleeps, and a
 * sweep that took the lock again at once could keep them out for a whole run of a backlog.
 */
function pauseAfter(batchMs: number, singleWriter: boolean): Promise<void> {
  if (!singleWriter) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, Math.ceil(batchMs)))));
}

/**
 * Deletes the done messages that are older than their queue's done retention (`doneRetentionMs`,
 * default 1 h; 0 deletes every done message), oldest first, in batches of `batchSize` rows:
 * each batch is one short statement, so workers are never blocked for long. The queues' `done`
 * counts are kept (they count successes, not rows). Stops after `maxBatches` batches and says
 * so with `more`.
 */
export async function pruneDoneMessages(
  store: Store,
  params: { now: number } & DonePruneOptions,
): Promise<DonePruneResult> {
  const batchSize = params.batchSize ?? DEFAULT_DONE_PRUNE_BATCH;
  let batchesLeft = params.maxBatches ?? DEFAULT_DONE_PRUNE_MAX_BATCHES;
  const byQueue: { queue: string; deleted: number }[] = [];
  let deleted = 0;
  let more = false;
  for (const queue of await store.queueList()) {
    const cutoff = params.now - (queue.doneRetentionMs ?? QUEUE_DEFAULTS.doneRetentionMs);
    let fromQueue = 0;
    for (;;) {
      if (batchesLeft <= 0) {
        more = true;
        break;
      }
      batchesLeft -= 1;
      const started = performance.now();
      const batch = await store.messagePruneDone({ queue: queue.name, cutoff, limit: batchSize });
      fromQueue += batch.deleted;
      if (batch.deleted < batchSize) break;
      await pauseAfter(performance.now() - started, store.capabilities.singleWriter);
    }
    if (fromQueue > 0) byQueue.push({ queue: queue.name, deleted: fromQueue });
    deleted += fromQueue;
    if (more) break;
  }
  return { deleted, byQueue, more };
}

/** The done-retention sweep as a maintenance service (leader-only), every `intervalMs` (default 10 s). */
export function doneRetentionService(
  options: { store: Store; clock: Clock; intervalMs?: number } & DonePruneOptions,
): MaintenanceService {
  const { store, clock, intervalMs, ...prune } = options;
  return {
    name: 'done-retention sweep',
    intervalMs: intervalMs ?? DEFAULT_DONE_SWEEP_INTERVAL_MS,
    run: () => pruneDoneMessages(store, { ...prune, now: clock.now() }),
  };
}
