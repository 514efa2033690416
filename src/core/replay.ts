import type { DeadLetterCursor, DeadLetterFilter, DeadLetterSummary } from './dead-letter.ts';
import { ConflictError } from './errors.ts';
import { QUEUE_DEFAULTS } from './queue-settings.ts';
import type { Tier } from './tier.ts';

/**
 * The states of a replay job (see `docs/state-machine.md`):
 * - `pending`: created with `--detach` or resumed; waiting for a runner (a foreground
 *   `dlq replay`, `dlq replay resume`, or a server's replay runner) to take it.
 * - `running`: a runner holds it (`holder`, renewed lease) and replays batch after batch.
 * - `canary`: the first `canarySize` messages were replayed; the runner waits for their outcome.
 * - `paused`: stopped between batches by `pause` (or Ctrl-C); `resume` makes it `pending`.
 * - `completed`, `cancelled`, `canary_failed`, `failed`: final.
 */
export const REPLAY_JOB_STATUSES = [
  'pending',
  'running',
  'canary',
  'paused',
  'completed',
  'cancelled',
  'canary_failed',
  'failed',
] as const;
export type ReplayJobStatus = (typeof REPLAY_JOB_STATUSES)[number];

/** Statuses a job never leaves. */
export const FINAL_REPLAY_STATUSES: readonly ReplayJobStatus[] = [
  'completed',
  'cancelled',
  'canary_failed',
  'failed',
];

/** Statuses in which a runner works on the job (it may be taken over when its holder's lease ran out). */
export const ACTIVE_REPLAY_STATUSES: readonly ReplayJobStatus[] = ['pending', 'running', 'canary'];

const TRANSITIONS: Record<ReplayJobStatus, readonly ReplayJobStatus[]> = {
  pending: ['running', 'paused', 'cancelled'],
  running: ['canary', 'paused', 'cancelled', 'completed', 'failed', 'canary_failed'],
  canary: ['running', 'paused', 'cancelled', 'canary_failed', 'failed', 'completed'],
  paused: ['pending', 'cancelled'],
  completed: [],
  cancelled: [],
  canary_failed: [],
  failed: [],
};

export function isReplayJobStatus(value: string): value is ReplayJobStatus {
  return (REPLAY_JOB_STATUSES as readonly string[]).includes(value);
}

export function isFinalReplayStatus(status: ReplayJobStatus): boolean {
  return FINAL_REPLAY_STATUSES.includes(status);
}

/** Whether a job may go from `from` to `to` (staying in the same status is not a transition). */
export function canTransitionReplay(from: ReplayJobStatus, to: ReplayJobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws ConflictError naming the job when `from → to` is not allowed. */
export function assertReplayTransition(id: string, from: ReplayJobStatus, to: ReplayJobStatus): void {
  if (canTransitionReplay(from, to)) return;
  const why = isFinalReplayStatus(from) ? `it is ${from} (final)` : `it is ${from}`;
  throw new ConflictError(`replay job ${id} cannot become ${to}: ${why}`);
}

/** Headers every replayed message carries, besides the dead letter's own. */
export const REPLAY_HEADERS = {
  /** The id of the dead letter this message replays. */
  replayOf: 'x-deadletter-replay-of',
  /** The replay job that sent it. */
  job: 'x-deadletter-replay-job',
  /** How many times this message's lineage has been replayed, this replay included (decimal). */
  count: 'x-deadletter-replay-count',
} as const;

/** Replays per message lineage after which further replays skip it (per queue, `replayLimit`). */
export const DEFAULT_REPLAY_LIMIT: number = QUEUE_DEFAULTS.replayLimit;
/** Dead letters replayed per transaction. */
export const DEFAULT_REPLAY_BATCH_SIZE = 500;
/** A canary stops the job when more than this share of its messages died again. */
export const DEFAULT_CANARY_MAX_FAILURE_RATE = 0.2;
/** How long a canary waits for its messages' outcome before it stops the job. */
export const DEFAULT_CANARY_TIMEOUT_MS = 15 * 60_000;
/** The most messages a canary may hold (their ids are kept in the job). */
export const MAX_CANARY_SIZE = 1_000;

/** Why a selected dead letter was not replayed. */
export type ReplaySkipReason =
  /** Its replay count reached its queue's replay limit: replaying again could loop. */
  | 'replay_limit'
  /** A live (waiting or leased) message with the same idempotency key is in the destination. */
  | 'duplicate_key'
  /** It left the DLQ after it was selected (discarded, archived or replayed by someone else). */
  | 'gone';

/** One skipped dead letter, as recorded in the job's `replay.skip` audit entries. */
export interface ReplaySkip {
  id: string;
  reason: ReplaySkipReason;
  /** Its replay count (for `replay_limit`), or the live message holding the key (for `duplicate_key`). */
  detail?: number | string;
}

/** The canary of a replay job: its first messages and, once known, what became of them. */
export interface ReplayCanary {
  /** How long to wait for the canary's outcome before stopping the job (`timed_out`). */
  timeoutMs: number;
  /** The replayed canary messages: the dead letter and the new message it became. */
  messages: { deadLetterId: string; messageId: string }[];
  /** When the last canary message was replayed and the wait began (null while replaying them). */
  waitingSince: number | null;
  /** Set once decided. */
  outcome: CanaryOutcome | null;
}

/** What the canary's messages became, and the verdict. */
export interface CanaryOutcome {
  verdict: 'passed' | 'failed' | 'timed_out';
  done: number;
  /** Died again: their new dead letters (same ids as the replayed messages). */
  died: string[];
  /** Still waiting, delayed or leased when decided (only for `timed_out`). */
  pending: number;
  /** `died / messages`, 0 for an empty canary. */
  failureRate: number;
  decidedAt: number;
}

/** A durable replay job. */
export interface ReplayJob {
  id: string;
  status: ReplayJobStatus;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
  finishedAt: number | null;
  /** The dead letters it replays: those matching this filter that died at or before `createdAt`. */
  selector: DeadLetterFilter;
  /** Where the messages go; null sends each back to its source queue. */
  destination: string | null;
  /** Messages per second, or null for as fast as the store goes. */
  ratePerSecond: number | null;
  batchSize: number;
  /** Messages replayed first and judged before the rest; 0 for no canary. */
  canarySize: number;
  canaryMaxFailureRate: number;
  canary: ReplayCanary | null;
  /** How many dead letters matched when the job was created (the dry run's total). */
  planned: number;
  replayed: number;
  /** Not replayed: at the replay limit, a duplicate key, or gone; see the job's `replay.skip` audit entries. */
  skipped: number;
  /** The last dead letter handled, in newest-first order; a resumed job continues after it. */
  position: DeadLetterCursor | null;
  /** The process running it, while it holds the job. */
  holder: string | null;
  holderExpiresAt: number | null;
  /** Why it stopped, for final and paused jobs. */
  message: string | null;
}

/** The settings a job is created with. */
export interface ReplayJobSettings {
  destination: string | null;
  ratePerSecond: number | null;
  batchSize: number;
  canarySize: number;
  canaryMaxFailureRate: number;
  /** How long the canary waits for its outcome; default {@link DEFAULT_CANARY_TIMEOUT_MS}. */
  canaryTimeoutMs?: number;
}

/** The dry run's answer: what a replay of a selection would do. */
export interface ReplayPlan {
  selector: DeadLetterFilter;
  /** The destination asked for; null: each dead letter goes back to its source queue. */
  destination: string | null;
  /** Dead letters that match. */
  total: number;
  /** Where they would go: per destination queue, with the source queues. */
  destinations: { queue: string; count: number }[];
  byGroup: { groupId: string; count: number }[];
  byTier: { tier: Tier; count: number }[];
  byQueue: { queue: string; count: number; replayLimit: number }[];
  /** Dead letters replayed before, by how many times (only counts above 0). */
  alreadyReplayed: { times: number; count: number }[];
  /** How many would be skipped because they are at their queue's replay limit. */
  atReplayLimit: number;
  /** The first few of the selection, newest first. */
  samples: DeadLetterSummary[];
}

/**
 * The canary's verdict from its messages' states: `failed` as soon as more than `maxFailureRate`
 * of them died again (the rest cannot change that), `passed` once every message is done or
 * dead within the threshold, else undefined (still waiting). `timedOut` decides at once:
 * a canary whose outcome is not known in time stops the job (`timed_out`).
 */
export function judgeCanary(params: {
  total: number;
  done: number;
  died: string[];
  maxFailureRate: number;
  now: number;
  timedOut: boolean;
}): CanaryOutcome | undefined {
  const { total, done, died, maxFailureRate, now } = params;
  const pending = total - done - died.length;
  const failureRate = total === 0 ? 0 : died.length / total;
  const base = { done, died, pending, failureRate, decidedAt: now };
  if (failureRate > maxFailureRate) return { verdict: 'failed', ...base };
  if (pending <= 0) return { verdict: 'passed', ...base, pending: 0 };
  if (params.timedOut) return { verdict: 'timed_out', ...base };
  return undefined;
}

/**
 * How long to wait before the next batch so that `sent` messages since `startedAt` keep to
 * `rate` per second: 0 when behind schedule or without a rate.
 */
export function paceDelay(params: {
  sent: number;
  startedAt: number;
  now: number;
  rate: number | null;
}): number {
  if (params.rate === null || params.rate <= 0) return 0;
  const due = params.startedAt + (params.sent / params.rate) * 1000;
  return Math.max(0, Math.ceil(due - params.now));
}

/** The batch size under a rate: at most about a quarter second of messages, so pacing stays smooth. */
export function pacedBatchSize(batchSize: number, rate: number | null): number {
  if (rate === null) return batchSize;
  return Math.max(1, Math.min(batchSize, Math.floor(rate / 4)));
}

/**
 * The filter a job walks: its selector, bounded to the dead letters that had died when the job
 * was created. Later deaths (its own replays dying again among them) are left for another job.
 */
export function replaySelection(job: Pick<ReplayJob, 'selector' | 'createdAt'>): DeadLetterFilter {
  const bound = job.createdAt + 1;
  const until = job.selector.until === undefined ? bound : Math.min(job.selector.until, bound);
  return { ...job.selector, until };
}

/** The canary a job with a canary starts with: no messages yet, nothing decided. */
export function emptyCanary(timeoutMs: number = DEFAULT_CANARY_TIMEOUT_MS): ReplayCanary {
  return { timeoutMs, messages: [], waitingSince: null, outcome: null };
}

/**
 * Dead letters a completed job planned but never reached: they left the DLQ before its walk
 * got to them (discarded, archived or replayed by someone else meanwhile).
 */
export function replayJobGone(job: Pick<ReplayJob, 'planned' | 'replayed' | 'skipped'>): number {
  return Math.max(0, job.planned - job.replayed - job.skipped);
}
