/**
 * Deadletter: queues and workers with retries, and a dead-letter queue that keeps every
 * failure's context, classified by tier and grouped by fingerprint.
 *
 * @example
 * const dl = await Deadletter.open({ store: 'sqlite:./app.db' });
 * await dl.ensureQueue('emails');
 * await dl.send('emails', { to: 'a@example.com' });
 * const worker = await dl.work('emails', async (message) => { ... });
 */
export type { Classification, ClassifierRule } from './core/classifier.ts';
export { BUILT_IN_RULES, classifyFailure } from './core/classifier.ts';
export { type Clock, ManualClock, systemClock } from './core/clock.ts';
export type { DeadLetter, DeadLetterFilter, DeadLetterSummary } from './core/dead-letter.ts';
export { type Duration, formatDuration, parseDuration } from './core/duration.ts';
export {
  ConflictError,
  DeadletterError,
  type DeadletterErrorCode,
  MalformedError,
  NotAStoreError,
  NotFoundError,
  PermanentError,
  SchemaVersionError,
  TransientError,
  ValidationError,
} from './core/errors.ts';
export { describeFailure, type FailureInfo } from './core/failure.ts';
export type { FailureMatch } from './core/failure-match.ts';
export type { FailureRules } from './core/failure-plan.ts';
export type { Fingerprint, FingerprintRule } from './core/fingerprint.ts';
export { fingerprintFailure, normalizeMessage } from './core/fingerprint.ts';
export { GROUP_STATUSES, type Group, type GroupStatus } from './core/group.ts';
export type { Attempt, ClaimedMessage, Json, NewMessage, WorkerIdentity } from './core/message.ts';
export type { BackoffSpec, QueueRecord, QueueSettingsInput } from './core/queue-settings.ts';
export type { BackoffFunction } from './core/retry-policy.ts';
export { TIERS, type Tier } from './core/tier.ts';
export {
  type DeadLetterListParams,
  type DeadLetterPage,
  Deadletter,
  type DeadletterOptions,
  type SendOptions,
} from './engine/deadletter.ts';
export type { LeaseSweepResult } from './engine/lease-sweeper.ts';
export type { Handler, HandlerContext, Worker, WorkerCounters, WorkerOptions } from './engine/worker.ts';
export { openStore } from './store/open.ts';
export type { QueueStats, Store, StoreCapabilities } from './store/store.ts';
