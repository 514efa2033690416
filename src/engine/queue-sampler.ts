import type { Clock } from '../core/clock.ts';
import type { QueueSample, Store } from '../store/store.ts';
import type { MaintenanceService } from './maintenance.ts';

const MINUTE = 60_000;
/** A previous sample older than this does not give an inflow (the sampler was not running). */
const MAX_GAP_MS = 10 * MINUTE;

/** Options of {@link queueSamplerService}. */
export interface QueueSamplerOptions {
  store: Store;
  clock: Clock;
  /** How long samples are kept. Default 30 days. */
  keepMs?: number;
  /** How often it runs. Default every minute (one sample per queue and minute). */
  intervalMs?: number;
}

/** What one run did. */
export interface QueueSampleResult {
  samples: QueueSample[];
  /** Samples deleted because they were older than the keep time. */
  deleted: number;
}

/**
 * Takes one sample per queue for the current minute: the DLQ's depth and its inflow since the
 * previous sample, then deletes samples past the keep time. Inflow is the growth of the
 * queue's cumulative dead-letter count (dead + replayed + discarded + archived), so it does not
 * depend on which process took the previous sample; the first sample of a queue, or one after
 * a gap of more than 10 minutes, counts what died in the minute before it. A minute already sampled (by another process,
 * or before a restart) is left as it is.
 */
export async function sampleQueues(options: QueueSamplerOptions): Promise<QueueSampleResult> {
  const { store, clock } = options;
  const now = clock.now();
  const at = Math.floor(now / MINUTE) * MINUTE;
  const stats = await store.queueStats({ now });
  const samples = await Promise.all(
    stats.map(async (row): Promise<QueueSample> => {
      const deadTotal = row.dead + row.replayed + row.discarded + row.archived;
      const recent = await store.queueSampleList({ queue: row.queue, since: at - MAX_GAP_MS, until: at });
      const previous = recent[recent.length - 1];
      const inflow = previous
        ? Math.max(0, deadTotal - previous.deadTotal)
        : await diedSince(store, row.queue, at - MINUTE, now);
      return { queue: row.queue, at, depth: row.dead, inflow, deadTotal };
    }),
  );
  await store.queueSampleInsert({ samples });
  const { deleted } = await store.queueSampleDeleteBefore({
    before: now - (options.keepMs ?? 30 * 86_400_000),
  });
  return { samples, deleted };
}

/** The sampler as a maintenance service (leader-only), for `Deadletter.open({ maintenance: { services } })`. */
/**
 * Without a recent sample to compare with (the first sample, or the first after a gap), the
 * inflow is what died in the minute before this sample's: a server that starts on a DLQ that
 * just took a burst shows it at once, instead of a zero until the next minute.
 */
async function diedSince(store: Store, queue: string, since: number, now: number): Promise<number> {
  const died = await store.deadLetterCountDied({ queue, since, until: now + 1 });
  return died.dead + died.replayed + died.discarded;
}

export function queueSamplerService(options: QueueSamplerOptions): MaintenanceService {
  return {
    name: 'queue sampler',
    intervalMs: options.intervalMs ?? MINUTE,
    run: () => sampleQueues(options),
  };
}
