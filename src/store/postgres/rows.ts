import type { DeadLetter, DeadLetterEdit, DeadLetterSummary } from '../../core/dead-letter.ts';
import type { FailureInfo } from '../../core/failure.ts';
import type { Attempt, ClaimedMessage, Json } from '../../core/message.ts';
import type { BackoffSpec, QueueRecord } from '../../core/queue-settings.ts';
import type { Tier } from '../../core/tier.ts';
import type { ExpiredLease, MessageRecord } from '../store.ts';

// Row shapes as `pg` returns them with the store's type parsers (bigint as number, json and
// jsonb parsed), and their mapping to the domain types. JSON columns were written by this
// store from typed values, so they are not re-validated.

/** A row of `queues`. */
export interface QueueRow {
  name: string;
  max_receives: number;
  visibility_timeout_ms: number;
  backoff: BackoffSpec;
  dead_letter: boolean;
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
    backoff: row.backoff,
    deadLetter: row.dead_letter,
    retentionDays: row.retention_days,
    replayLimit: row.replay_limit,
    doneRetentionMs: row.done_retention_ms,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A row of `messages` as read with `messageColumns` (statements.ts). */
export interface MessageRow {
  seq: number;
  id: string;
  queue: string;
  state: 'waiting' | 'leased' | 'done';
  body: Json;
  headers: Record<string, string>;
  idempotency_key: string | null;
  enqueued_at: number;
  visible_at: number;
  receives: number;
  attempts: Attempt[];
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
    body: row.body,
    headers: row.headers,
    idempotencyKey: row.idempotency_key,
    enqueuedAt: row.enqueued_at,
    visibleAt: row.visible_at,
    receives: row.receives,
    attempts: row.attempts,
    leaseExpiresAt: row.lease_expires_at,
    doneAt: row.done_at,
    replayOf: row.replay_of,
    replayCount: row.replay_count,
  };
}

/** A just-claimed `messages` row as the {@link ClaimedMessage} a worker gets. */
export function toClaimedMessage(row: MessageRow): ClaimedMessage {
  return {
    id: row.id,
    queue: row.queue,
    body: row.body,
    headers: row.headers,
    idempotencyKey: row.idempotency_key,
    enqueuedAt: row.enqueued_at,
    receives: row.receives,
    leaseToken: row.lease_token ?? '',
    leaseExpiresAt: row.lease_expires_at ?? 0,
    attempts: row.attempts,
    replayOf: row.replay_of,
    replayCount: row.replay_count,
  };
}

/** A row of the lease-expiry sweep's query. */
export interface ExpiredLeaseRow {
  id: string;
  lease_token: string;
  queue: string;
  receives: number;
  leased_at: number;
  lease_expires_at: number;
  lease_worker_id: string;
  lease_worker_version: string;
  lease_host: string;
}

/** A lease-expiry row as an {@link ExpiredLease}. */
export function toExpiredLease(row: ExpiredLeaseRow): ExpiredLease {
  return {
    id: row.id,
    leaseToken: row.lease_token,
    queue: row.queue,
    receives: row.receives,
    leasedAt: row.leased_at,
    leaseExpiresAt: row.lease_expires_at,
    worker: {
      workerId: row.lease_worker_id,
      workerVersion: row.lease_worker_version,
      host: row.lease_host,
    },
  };
}

/** A row of `dead_letters` as read with `DEAD_LETTER_SUMMARY_COLUMNS`. */
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
  body: Json;
  headers: Record<string, string>;
  attempts: Attempt[];
  original_body: Json | null;
  edits: DeadLetterEdit[];
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
  const { body, headers, attempts, original_body: originalBody, edits } = row;
  const { attemptCount: _count, ...summary } = toDeadLetterSummary(row);
  return { ...summary, body, headers, attempts, originalBody, edits };
}

export { type GroupRow, toGroup } from '../group-row.ts';
