import type { Store } from '../../src/index.ts';

interface MethodTally {
  calls: number;
  items: number;
  ms: number;
  /** CPU time of the process during the calls: unlike wall time, barely moved by other load. */
  cpuMs: number;
}

/** The store methods the pipeline and its checks call. */
const TRACED = [
  'messageInsertBatch',
  'messageClaim',
  'messageComplete',
  'messageFail',
  'messageSettleAndClaim',
  'messageListExpiredLeases',
  'messageHasPending',
  'queueGet',
  'queueStats',
  'deadLetterList',
  'deadLetterGet',
] as const;

/**
 * For diagnosis (`pipeline/deadletter.ts --trace-store`): wraps a store's methods to count
 * calls, items per call and time spent, and returns a function that formats the tally. The
 * store is synchronous underneath (better-sqlite3), so a method's wall time is its cost.
 */
export function traceStore(store: Store): () => string {
  const tallies = new Map<string, MethodTally>();
  const target = store as unknown as Record<string, unknown>;
  for (const name of TRACED) {
    const method = target[name];
    if (typeof method !== 'function') continue;
    target[name] = async (
      params: { items?: unknown[]; messages?: unknown[]; complete?: unknown[]; fail?: unknown[] } | undefined,
    ) => {
      const started = performance.now();
      const cpu = process.cpuUsage();
      const result: unknown = await (method as (p: unknown) => Promise<unknown>).call(store, params);
      const used = process.cpuUsage(cpu);
      const tally = tallies.get(name) ?? { calls: 0, items: 0, ms: 0, cpuMs: 0 };
      tally.calls++;
      tally.ms += performance.now() - started;
      tally.cpuMs += (used.user + used.system) / 1000;
      tally.items += Array.isArray(result)
        ? result.length
        : (params?.items?.length ??
          params?.messages?.length ??
          (params?.complete?.length ?? 0) + (params?.fail?.length ?? 0));
      tallies.set(name, tally);
      return result;
    };
  }
  return () =>
    [...tallies]
      .sort((a, b) => b[1].cpuMs - a[1].cpuMs)
      .map(
        ([name, t]) =>
          `${name.padEnd(26)} ${String(t.calls).padStart(7)} calls ${String(t.items).padStart(8)} items ` +
          `${(t.items / t.calls).toFixed(1).padStart(7)} per call ${t.ms.toFixed(0).padStart(7)} ms ` +
          `${((1000 * t.ms) / Math.max(1, t.items)).toFixed(1).padStart(7)} µs per item, CPU ` +
          `${((1000 * t.cpuMs) / Math.max(1, t.items)).toFixed(1).padStart(7)} µs per item`,
      )
      .join('\n');
}
