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

export {
  ALERT_CHANNEL_TYPES,
  ALERT_KINDS,
  type Alert,
  type AlertChannel,
  type AlertChannelType,
  type AlertDelivery,
  type AlertKind,
  type AlertRule,
  type AlertState,
} from './core/alert.ts';
export type { AlertWebhookPayload, SlackPayload } from './core/alert-payloads.ts';
export {
  ARCHIVE_FORMAT_VERSION,
  type ArchivableDeadLetter,
  type ArchiveRecord,
  parseArchiveLine,
} from './core/archive-record.ts';
export { AUDIT_ACTIONS, type AuditAction, type AuditEntry, type AuditFilter } from './core/audit.ts';
export type { Classification, ClassifierRule } from './core/classifier.ts';
export { BUILT_IN_RULES, classifyFailure } from './core/classifier.ts';
export { type Clock, ManualClock, systemClock } from './core/clock.ts';
export type { DeadLetter, DeadLetterEdit, DeadLetterFilter, DeadLetterSummary } from './core/dead-letter.ts';
export type { Tombstone } from './core/discard.ts';
export type { DoctorCode, DoctorFinding, DoctorReport, DoctorSeverity } from './core/doctor.ts';
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
export type { JsonChange } from './core/json-diff.ts';
export type { DeadLetterLineage, LineageLink, LineageState, ReplayedDeadLetter } from './core/lineage.ts';
export type { Attempt, ClaimedMessage, Json, NewMessage, WorkerIdentity } from './core/message.ts';
export type { QueueDocs, QueueDocsInput } from './core/queue-docs.ts';
export type { BackoffSpec, QueueRecord, QueueSettingsInput } from './core/queue-settings.ts';
export {
  type CanaryOutcome,
  REPLAY_HEADERS,
  REPLAY_JOB_STATUSES,
  type ReplayCanary,
  type ReplayJob,
  type ReplayJobStatus,
  type ReplayPlan,
  type ReplaySkip,
  type ReplaySkipReason,
} from './core/replay.ts';
export type { BackoffFunction } from './core/retry-policy.ts';
export { type ReviewQueue, type ReviewReport, renderReviewMarkdown } from './core/review.ts';
export { TIERS, type Tier } from './core/tier.ts';
export {
  type AlertDeliveryOptions,
  type AlertDeliveryResult,
  type AlertLogger,
  alertDeliveryService,
  deliverAlerts,
} from './engine/alert-delivery.ts';
export {
  type AlertEvaluationResult,
  type AlertEvaluatorOptions,
  alertEvaluatorService,
  evaluateAlerts,
} from './engine/alert-evaluator.ts';
export {
  type AlertServicesOptions,
  alertHistoryPruneService,
  alertServices,
} from './engine/alert-services.ts';
export {
  type AlertHistoryEntry,
  type AlertRuleChanges,
  type AlertRuleInput,
  createAlertRule,
  DEFAULT_ALERT_HISTORY_MS,
  listAlertHistory,
  pruneAlertHistory,
  removeAlertRule,
  updateAlertRule,
} from './engine/alerts.ts';
export { type ArchiveFileInfo, readArchiveFile } from './engine/archive-file.ts';
export type { ArchiveImportResult } from './engine/archive-import.ts';
export type { AuditListParams, AuditPage } from './engine/audit-listing.ts';
export type { DeadLetterEditResult } from './engine/dead-letter-edit.ts';
export {
  type ActorOptions,
  type DeadLetterListParams,
  type DeadLetterPage,
  Deadletter,
  type DeadletterOptions,
  type QueueStatsReport,
  type SendOptions,
} from './engine/deadletter.ts';
export type { DiscardOptions, DiscardReport } from './engine/discard.ts';
export {
  DEFAULT_DONE_PRUNE_BATCH,
  DEFAULT_DONE_SWEEP_INTERVAL_MS,
  type DonePruneOptions,
  type DonePruneResult,
  doneRetentionService,
  pruneDoneMessages,
} from './engine/done-retention.ts';
export type { LeaseSweepResult } from './engine/lease-sweeper.ts';
export { queueSamplerService, sampleQueues } from './engine/queue-sampler.ts';
export type { ReplayRunResult, Sleep } from './engine/replay-runner.ts';
export type { ReplayOptions, ReplayOutcome, ReplaySettings, ResumeOptions } from './engine/replays.ts';
export {
  type ArchiveFileResult,
  DEFAULT_ARCHIVE_DIR,
  type QueueRetentionResult,
  type RetentionRunOptions,
  RetentionSweeper,
  type RetentionSweeperOptions,
  type RetentionSweepResult,
} from './engine/retention-sweeper.ts';
export type { ReviewOptions } from './engine/review.ts';
export {
  type ReviewScheduleOptions,
  reviewScheduleService,
  sendScheduledReview,
} from './engine/review-schedule.ts';
export type {
  AttemptObservation,
  Handler,
  HandlerContext,
  Worker,
  WorkerCounters,
  WorkerOptions,
} from './engine/worker.ts';
export { openStore } from './store/open.ts';
export type { QueueSample, QueueStats, Store, StoreCapabilities } from './store/store.ts';
