import type { DeadLetter, DeadLetterEdit, DeadLetterSummary } from '../../core/dead-letter.ts';
import type { FailureInfo } from '../../core/failure.ts';
import type { Attempt, ClaimedMessage, Json } from '../../core/message.ts';
import type { BackoffSpec, QueueRecord } from '../../core/queue-settings.ts';
import type { Tier } from '../../core/tier.ts';
import type { MessageRecord } from '../store.ts';

// Row shapes as SQLite returns them, and their mapping to the domain types. JSON columns
// were written by this store from typed values, so they are parsed without re-validation.

/** A row of `queues`. */
export interface QueueRow {
  name: string;
  max_receives: number;
  visibility_timeout_ms: number;
  backoff: string;
  dead_letter: number;
  retention_days: number;
  replay_limit: number;
  done_retention_ms: number;
  created_at: number;
  updated_at: number;
}

/** A `queues` row as a {@link QueueRecord}. */
export function toQueueRecord(row: QueueRow): QueueRecord {
  return {
    name: row.name,
    maxReceives: row.max_receives,
    visibilityTimeoutMs: row.visibility_timeout_ms,
    backoff: JSON.parse(row.backoff) as BackoffSpec,
    deadLetter: row.dead_letter === 1,
    retentionDays: row.retention_days,
    replayLimit: row.replay_limit,
    doneRetentionMs: row.done_retention_ms,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * The failed attempts of the `messages` row in scope, oldest first, as the text of a JSON array
 * (`[]` if none): gathered from `message_attempts` (migration 0011), each as it was written.
 */
export const ATTEMPTS_OF_MESSAGE = `COALESCE(${attemptsOf('messages.id')}, '[]')`;

/**
 * The failed attempts of message `messageId` (an SQL expression), oldest first, as the text of a
 * JSON array; NULL if none. The inner ORDER BY is the index's order (no sort), and an aggregate
 * over an ordered subquery runs it as a co-routine, in that order: group_concat(… ORDER BY seq)
 * would sort.
 */
export function attemptsOf(messageId: string): string {
  return (
    "(SELECT '[' || group_concat(attempt, ',') || ']' FROM (SELECT a.attempt " +
    `FROM message_attempts AS a WHERE a.message_id = ${messageId} ORDER BY a.seq))`
  );
}

/** The columns of `messages` that every message read returns. */
export const MESSAGE_COLUMNS =
  'rowid AS rid, id, queue, state, body, headers, idempotency_key, enqueued_at, visible_at, receives, ' +
  `${ATTEMPTS_OF_MESSAGE} AS attempts, lease_token, lease_expires_at, done_at, replay_of, replay_count`;

/** A row of `messages` as read with {@link MESSAGE_COLUMNS} (`rid` is the rowid). */
export interface MessageRow {
  rid: number;
  id: string;
  queue: string;
  state: 'waiting' | 'leased' | 'done';
  body: string;
  headers: string;
  idempotency_key: string | null;
  enqueued_at: number;
  visible_at: number;
  receives: number;
  attempts: string;
  lease_token: string | null;
  lease_expires_at: number | null;
  done_at: number | null;
  replay_of: string | null;
  replay_count: number;
}

/** A `messages` row as a {@link MessageRecord}. */
export function toMessageRecord(row: MessageRow): MessageRecord {
  return {
    id: row.id,
    queue: row.queue,
    state: row.state,
    body: JSON.parse(row.body) as Json,
    headers: JSON.parse(row.headers) as Record<string, string>,
    idempotencyKey: row.idempotency_key,
    enqueuedAt: row.enqueued_at,
    visibleAt: row.visible_at,
    receives: row.receives,
    attempts: JSON.parse(row.attempts) as Attempt[],
    leaseExpiresAt: row.lease_expires_at,
    doneAt: row.done_at,
    replayOf: row.replay_of,
    replayCount: row.replay_count,
  };
}

/**
 * The columns the claim returns, in this order (read as arrays, not objects: no property
 * names to build per row): what a worker gets, plus `visible_at` and the rowid for the claim
 * order. The queue and the lease expiry are the claim's own parameters. Not the attempts: they
 * are read when a handler first looks at them (see {@link toClaimedMessage}).
 */
export const CLAIM_COLUMNS =
  'rowid, id, body, headers, idempotency_key, enqueued_at, visible_at, receives, lease_token, replay_of, replay_count';

/** A row of the claim, as read with {@link CLAIM_COLUMNS} in raw mode. */
export type ClaimRow = [
  rid: number,
  id: string,
  body: string,
  headers: string,
  idempotencyKey: string | null,
  enqueuedAt: number,
  visibleAt: number,
  receives: number,
  leaseToken: string,
  replayOf: string | null,
  replayCount: number,
];

/**
 * A just-claimed row as the {@link ClaimedMessage} a worker gets. `readAttempts` reads the
 * message's failed attempts from the store: only a message received before can have any, and
 * they are read on the first look at `attempts`, not at the claim (see {@link defineLazyAttempts}).
 */
export function toClaimedMessage(
  row: ClaimRow,
  queue: string,
  leaseExpiresAt: number,
  readAttempts: (id: string, receives: number) => Attempt[],
): ClaimedMessage {
  const message: Omit<ClaimedMessage, 'attempts'> & { attempts?: Attempt[] } = {
    id: row[1],
    queue,
    body: JSON.parse(row[2]) as Json,
    headers: row[3] === '{}' ? {} : (JSON.parse(row[3]) as Record<string, string>),
    idempotencyKey: row[4],
    enqueuedAt: row[5],
    receives: row[7],
    leaseToken: row[8],
    leaseExpiresAt,
    replayOf: row[9],
    replayCount: row[10],
  };
  const [, id, , , , , , receives] = row;
  // `attempts` is added last either way, so both kinds of message keep one hidden class each.
  if (receives > 1) defineLazyAttempts(message, () => readAttempts(id, receives));
  else message.attempts = [];
  return message as ClaimedMessage;
}

/** Where a lazy message keeps the function that loads its attempts (not enumerable). */
const LOAD_ATTEMPTS = Symbol('loadAttempts');

interface LazyAttempts {
  [LOAD_ATTEMPTS]?: (() => Attempt[]) | undefined;
}

/** Turns `attempts` into the ordinary data property it looks like, holding `value`. */
function settleAttempts(target: LazyAttempts, value: Attempt[]): void {
  target[LOAD_ATTEMPTS] = undefined;
  Object.defineProperty(target, 'attempts', { value, writable: true, enumerable: true, configurable: true });
}

/**
 * The one accessor of every lazy message. Added as a new property with the same getter and
 * setter each time, it gives lazy messages one hidden class; turning an existing data property
 * into an accessor, or a pair of closures per object, would put each such message in
 * dictionary mode, and every read of its fields in the worker would be a slow lookup.
 */
const LAZY_ATTEMPTS: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: LazyAttempts): Attempt[] {
    const value = this[LOAD_ATTEMPTS]?.() ?? [];
    settleAttempts(this, value);
    return value;
  },
  set(this: LazyAttempts, value: Attempt[]): void {
    settleAttempts(this, value);
  },
};

/**
 * Makes `attempts` (which `target` must not have yet) load on first read. A retried message has
 * earlier attempts with their stacks (kilobytes), which most handlers never look at: reading
 * them at every claim of a failing message cost the pipeline bench about a tenth of its
 * throughput. Once read it is an ordinary enumerable property for spreading, `JSON.stringify`
 * and `structuredClone` (each of which reads it), and it can be assigned.
 */
export function defineLazyAttempts(target: object, load: () => Attempt[]): void {
  Object.defineProperty(target, LOAD_ATTEMPTS, {
    value: load,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  Object.defineProperty(target, 'attempts', LAZY_ATTEMPTS);
}

/** The columns of `dead_letters` a list returns (no body, headers or attempts). */
export const DEAD_LETTER_SUMMARY_COLUMNS =
  'id, queue, idempotency_key, enqueued_at, attempt_count, error_name, error_message, error_stack, ' +
  'error_code, error_status, tier, fingerprint, group_id, died_at, replay_count, previous_id';

/** A row of `dead_letters` as read with {@link DEAD_LETTER_SUMMARY_COLUMNS}. */
export interface DeadLetterSummaryRow {
  id: string;
  queue: string;
  idempotency_key: string | null;
  enqueued_at: number;
  attempt_count: number;
  error_name: string;
  error_message: string;
  error_stack: string | null;
  error_code: string | null;
  error_status: number | null;
  tier: Tier;
  fingerprint: string;
  group_id: string;
  died_at: number;
  replay_count: number;
  previous_id: string | null;
}

/** A whole row of `dead_letters`. */
export interface DeadLetterRow extends DeadLetterSummaryRow {
  body: string;
  headers: string;
  attempts: string;
  /** The body it died with, kept by the first edit; null when never edited. */
  original_body: string | null;
  /** JSON array of {@link DeadLetterEdit}. */
  edits: string;
}

function toFailureInfo(row: DeadLetterSummaryRow): FailureInfo {
  return {
    name: row.error_name,
    message: row.error_message,
    ...(row.error_stack !== null && { stack: row.error_stack }),
    ...(row.error_code !== null && { code: row.error_code }),
    ...(row.error_status !== null && { status: row.error_status }),
  };
}

/** A `dead_letters` row as a list entry. */
export function toDeadLetterSummary(row: DeadLetterSummaryRow): DeadLetterSummary {
  return {
    id: row.id,
    queue: row.queue,
    idempotencyKey: row.idempotency_key,
    enqueuedAt: row.enqueued_at,
    attemptCount: row.attempt_count,
    error: toFailureInfo(row),
    tier: row.tier,
    fingerprint: row.fingerprint,
    groupId: row.group_id,
    diedAt: row.died_at,
    replayCount: row.replay_count,
    previousId: row.previous_id,
  };
}

/** A whole `dead_letters` row as a {@link DeadLetter}. */
export function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    queue: row.queue,
    body: JSON.parse(row.body) as Json,
    headers: JSON.parse(row.headers) as Record<string, string>,
    idempotencyKey: row.idempotency_key,
    enqueuedAt: row.enqueued_at,
    attempts: JSON.parse(row.attempts) as Attempt[],
    error: toFailureInfo(row),
    tier: row.tier,
    fingerprint: row.fingerprint,
    groupId: row.group_id,
    diedAt: row.died_at,
    replayCount: row.replay_count,
    previousId: row.previous_id,
    originalBody: row.original_body === null ? null : (JSON.parse(row.original_body) as Json),
    edits: JSON.parse(row.edits) as DeadLetterEdit[],
  };
}

export { type GroupRow, toGroup } from '../group-row.ts';
