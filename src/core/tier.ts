/**
 * The failure tiers. Every dead letter carries exactly one.
 * - `transient`: network reset, 5xx, 429, lock timeout: retried with backoff, replay later.
 * - `timeout`: the handler or a dependency ran out of time (lease expiry included).
 * - `malformed`: parse or schema failure: straight to the DLQ, fix the producer.
 * - `resource`: out of memory, stack overflow, too many open files: retried.
 * - `permanent`: a bug that always fails on this message, or retries exhausted the same way.
 */
export const TIERS = ['transient', 'timeout', 'malformed', 'resource', 'permanent'] as const;
export type Tier = (typeof TIERS)[number];

export function isTier(value: string): value is Tier {
  return (TIERS as readonly string[]).includes(value);
}
