import { type ClassifierRule, classifyFailure } from './classifier.ts';
import type { FailureInfo } from './failure.ts';
import { type FingerprintRule, fingerprintFailure } from './fingerprint.ts';
import type { Attempt } from './message.ts';
import type { QueueRecord } from './queue-settings.ts';
import { type BackoffFunction, backoffDelay, decideFailure } from './retry-policy.ts';
import type { Tier } from './tier.ts';

/** The rules that shape what a failure becomes: the user's classifier, fingerprint and backoff. */
export interface FailureRules {
  classifierRules?: readonly ClassifierRule[];
  fingerprintRules?: readonly FingerprintRule[];
  /**
   * The stored fingerprint rules (`dlq group rule add`) that apply now, tried after
   * `fingerprintRules`; a function because they change while a worker runs.
   */
  storedFingerprintRules?: () => readonly FingerprintRule[];
  /** Overrides the queue's stored backoff. */
  backoff?: BackoffFunction;
  /** Source of randomness for jitter; injectable for tests. */
  random?: () => number;
}

/** A failure's fate, ready for `Store.messageFail`. */
export type FailurePlan =
  | { outcome: 'retry'; visibleAt: number; tier: Tier }
  | {
      outcome: 'dead';
      death: {
        tier: Tier;
        error: FailureInfo;
        fingerprint: string;
        groupId: string;
        normalizedMessage: string;
      };
    }
  | { outcome: 'drop'; tier: Tier };

/**
 * Classifies a failed receive and decides its fate: retry after the backoff, dead-letter with
 * its fingerprint and group, or drop (only when the queue's DLQ is turned off).
 * Pure: the caller passes the time and the attempt.
 */
export function planFailure(params: {
  queue: QueueRecord;
  receives: number;
  attempt: Attempt;
  now: number;
  rules: FailureRules;
}): FailurePlan {
  const { queue, receives, attempt, now, rules } = params;
  const failure = attempt.error;
  const classification = classifyFailure(failure, rules.classifierRules);
  const decision = decideFailure({
    tier: classification.tier,
    retryable: classification.retryable,
    receives,
    maxReceives: queue.maxReceives,
    deadLetter: queue.deadLetter,
    delayMs: () =>
      rules.backoff
        ? rules.backoff(receives, { tier: classification.tier, name: failure.name, message: failure.message })
        : backoffDelay(queue.backoff, receives, rules.random),
  });
  if (decision.kind === 'retry') {
    return { outcome: 'retry', visibleAt: now + decision.delayMs, tier: classification.tier };
  }
  if (decision.kind === 'drop') return { outcome: 'drop', tier: decision.tier };
  const stored = rules.storedFingerprintRules?.() ?? [];
  const fp = fingerprintFailure(
    failure,
    stored.length === 0 ? rules.fingerprintRules : [...(rules.fingerprintRules ?? []), ...stored],
  );
  return {
    outcome: 'dead',
    death: {
      tier: decision.tier,
      error: failure,
      fingerprint: fp.fingerprint,
      groupId: fp.groupId,
      normalizedMessage: fp.normalizedMessage,
    },
  };
}
