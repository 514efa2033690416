import type { BackoffSpec } from './queue-settings.ts';
import type { Tier } from './tier.ts';

/** A backoff given in code: the delay in ms before receive number `receive + 1`. */
export type BackoffFunction = (
  receive: number,
  failure: { tier: Tier; name: string; message: string },
) => number;

/** Delay before the next receive after failed receive number `receive` (1-based). */
export function backoffDelay(spec: BackoffSpec, receive: number, random: () => number = Math.random): number {
  if (spec.type === 'fixed') return spec.delayMs;
  const ceiling = Math.min(spec.capMs, spec.baseMs * 2 ** Math.min(receive - 1, 40));
  return Math.floor(random() * ceiling);
}

/** What happens to a message after a failed receive. */
export type FailureOutcome =
  | { kind: 'retry'; delayMs: number }
  | { kind: 'dead'; tier: Tier }
  | { kind: 'drop'; tier: Tier };

/**
 * Decides between retry and the DLQ.
 * - not retryable (malformed, declared permanent): dead now;
 * - `receives >= maxReceives`: dead with the tier of the last failure;
 * - otherwise: retry after the backoff.
 * With the queue's DLQ turned off, "dead" becomes "drop".
 */
export function decideFailure(params: {
  tier: Tier;
  retryable: boolean;
  receives: number;
  maxReceives: number;
  deadLetter: boolean;
  delayMs: () => number;
}): FailureOutcome {
  const final = !params.retryable || params.receives >= params.maxReceives;
  if (!final) return { kind: 'retry', delayMs: Math.max(0, params.delayMs()) };
  const tier = params.tier;
  return params.deadLetter ? { kind: 'dead', tier } : { kind: 'drop', tier };
}
