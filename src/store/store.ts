import type { ApiToken } from '../core/api-token.ts';
import type { AuditEntry, AuditEntryInput, AuditFilter } from '../core/audit.ts';
import type { DeadLetter, DeadLetterFilter, DeadLetterSummary } from '../core/dead-letter.ts';
import type { FailureInfo } from '../core/failure.ts';
import type { Group, GroupFilter, GroupSort, GroupStatus } from '../core/group.ts';
import type { Attempt, ClaimedMessage, Json, WorkerIdentity } from '../core/message.ts';
import type { QueueRecord } from '../core/queue-settings.ts';
import type { Tier } from '../core/tier.ts';

/**
 * The one interface the engine talks to. Each database has a driver in its own folder
 * (`sqlite/`, later `postgres/`) and every driver passes `conformance/`. The engine and the
 * core never import a database library; they branch on {@link StoreCapabilities}, never on
 * a database's name.
 *
 * Methods are noun first, then verb, take one params object and return an explicit result.
 * Times are epoch milliseconds passed in by the caller (the engine's injected clock): a
 * store never reads the wall clock for its decisions.
 */
export interface Store {
  readonly capabilities: StoreCapabilities;
  /** A short description for logs and `--json` output, e.g. `sqlite:/path/to.db`. */
  readonly location: string;

  close(): Promise<void>;

  // ---- queues
  /** Creates a queue; throws `ConflictError` if it exists. */
  queueCreate(params: { queue: QueueRecord }): Promise<QueueRecord>;
  /** Updates some settings; throws `NotFoundError` for an unknown queue. */
  queueUpdate(params: {
    name: string;
    patch: Partial<Omit<QueueRecord, 'name' | 'createdAt' | 'updatedAt'>>;
    now: number;
  }): Promise<QueueRecord>;
  queueGet(params: { name: string }): Promise<QueueRecord | undefined>;
  queueList(): Promise<QueueRecord[]>;
  /** Per-queue counts, in queue-name order. */
  queueStats(params: { now: number }): Promise<QueueStats[]>;

  // ---- messages
  /**
   * Enqueues messages in one transaction. A message whose idempotency key matches a live
   * (waiting or leased) message of the same queue is not inserted: its result names the
   * existing id with `deduplicated: true`.
   */
  messageInsertBatch(params: {
    queue: string;
    messages: MessageInsert[];
    now: number;
  }): Promise<MessageInsertResult[]>;
  /**
   * Leases up to `limit` visible waiting messages of a queue, oldest visible first, until
   * `now + leaseMs`. Each claim counts as a receive.
   */
  messageClaim(params: {
    queue: string;
    limit: number;
    now: number;
    leaseMs: number;
    worker: WorkerIdentity;
  }): Promise<ClaimedMessage[]>;
  /** Marks leased messages done. Items whose lease token no longer matches are skipped and listed in `lost`. */
  messageComplete(params: { items: LeaseRef[]; now: number }): Promise<{ completed: number; lost: string[] }>;
  /** Applies failure outcomes (retry later, dead-letter, drop) in one transaction; lost leases are skipped. */
  messageFail(params: { items: FailItem[]; now: number }): Promise<{ applied: number; lost: string[] }>;
  /** Moves a lease's expiry to `leaseExpiresAt`; false if the lease was lost. */
  messageExtendLease(params: LeaseRef & { leaseExpiresAt: number }): Promise<boolean>;
  /**
   * Gives leased messages back, visible at `now`. `uncountReceive` undoes the receive count
   * (the message was claimed but its handler never started).
   */
  messageRelease(params: {
    items: (LeaseRef & { uncountReceive: boolean })[];
    now: number;
  }): Promise<{ released: number }>;
  /** Leases that ran out before `now`, oldest first, for the lease-expiry sweep. */
  messageListExpiredLeases(params: { now: number; limit: number }): Promise<ExpiredLease[]>;
  /** A message in a queue (waiting, leased or done), or undefined. */
  messageGet(params: { id: string }): Promise<MessageRecord | undefined>;
  /** Whether anything is waiting (visible or delayed) or leased in the queue: `dlq work --drain` stops at false. */
  messageHasPending(params: { queue: string }): Promise<boolean>;

  /**
   * Calls `onAvailable` when messages may have become available in `queue` (sent, retried or
   * released by any process). Only stores with `capabilities.listenNotify` implement it;
   * elsewhere workers poll. The subscription survives reconnects; `close` ends it.
   */
  queueListen?(params: { queue: string; onAvailable: () => void }): Promise<{ close: () => Promise<void> }>;

  // ---- audit
  /** Appends entries to the audit log. Changes that are audited append their entry in their own transaction instead. */
  auditAppend(params: { entries: AuditEntryInput[] }): Promise<void>;
  /** Newest first; `beforeId` continues after the last entry of a previous page. */
  auditList(params: AuditFilter & { limit: number; beforeId?: number }): Promise<AuditEntry[]>;

  // ---- leadership (one process runs the maintenance services)
  /**
   * Takes or renews the named leadership for `holder` until `now + ttlMs`. Returns true if
   * `holder` is the leader afterwards: it already was, or the previous lease expired or was
   * resigned. Another holder's unexpired lease is never taken over.
   */
  leaderAttemptElect(params: { name: string; holder: string; ttlMs: number; now: number }): Promise<boolean>;
  /** Gives up the leadership if `holder` has it, so another process can take over at once. */
  leaderResign(params: { name: string; holder: string }): Promise<void>;

  // ---- dead letters
  deadLetterGet(params: { id: string }): Promise<DeadLetter | undefined>;
  /** Newest first, by (diedAt, id) descending; `cursor` continues after a row. */
  deadLetterList(
    params: DeadLetterFilter & { limit: number; cursor?: { diedAt: number; id: string } },
  ): Promise<DeadLetterSummary[]>;

  // ---- groups
  groupGet(params: { id: string }): Promise<Group | undefined>;
  groupList(params: GroupFilter & { sort: GroupSort; limit: number; offset?: number }): Promise<Group[]>;
  /** Throws `NotFoundError` for an unknown group. */
  groupStatusSet(params: { id: string; status: GroupStatus; now: number }): Promise<Group>;

  // ---- API tokens (the server's bearer tokens; see core/api-token.ts)
  /**
   * Stores a new token and appends a `token.create` audit entry by `actor` in the same
   * transaction. Throws `ConflictError` if an active token has the same name.
   */
  tokenCreate(params: { token: ApiToken; actor: string }): Promise<ApiToken>;
  /** The token (active or revoked) whose secret hashes to `hash`, or undefined. */
  tokenFindByHash(params: { hash: string }): Promise<ApiToken | undefined>;
  /** Every token, active and revoked, oldest first. */
  tokenList(): Promise<ApiToken[]>;
  /**
   * Revokes the active token named `name` and appends a `token.revoke` audit entry by `actor`
   * in the same transaction. Throws `NotFoundError` if no active token has that name.
   */
  tokenRevoke(params: { name: string; now: number; actor: string }): Promise<ApiToken>;
  /** Records a use of the token at `now` (callers throttle it: it is a write). */
  tokenTouch(params: { id: string; now: number }): Promise<void>;

  // ---- queue samples (depth and inflow per queue and minute, for charts)
  /** Inserts samples; a sample of a (queue, at) that exists already is ignored (two samplers raced). */
  queueSampleInsert(params: { samples: QueueSample[] }): Promise<void>;
  /** Samples of one queue with `since <= at < until` (either bound optional), oldest first. */
  queueSampleList(params: { queue: string; since?: number; until?: number }): Promise<QueueSample[]>;
  /** Deletes samples with `at < before` (all queues); returns how many. */
  queueSampleDeleteBefore(params: { before: number }): Promise<{ deleted: number }>;
}

/**
 * One queue's DLQ at one minute. `at` is the start of the minute (epoch ms, a multiple of
 * 60 000); `depth` the dead letters in the DLQ; `inflow` those that arrived since the previous
 * sample; `deadTotal` the cumulative dead letters ever (dead + replayed + discarded +
 * archived), from which the next sample's inflow is computed.
 */
export interface QueueSample {
  queue: string;
  at: number;
  depth: number;
  inflow: number;
  deadTotal: number;
}

/**
 * What a store can do; the engine adapts to it.
 * - `skipLocked`: many claimers at once without blocking each other (PostgreSQL).
 * - `listenNotify`: other processes can be woken when messages arrive; without it workers poll.
 * - `singleWriter`: writes are serialised (SQLite): batch writes, keep transactions short.
 */
export interface StoreCapabilities {
  skipLocked: boolean;
  listenNotify: boolean;
  singleWriter: boolean;
}

export interface MessageInsert {
  id: string;
  body: Json;
  headers: Record<string, string>;
  idempotencyKey: string | null;
  visibleAt: number;
  replayOf?: string | null;
  replayCount?: number;
}

export interface MessageInsertResult {
  id: string;
  deduplicated: boolean;
}

/** A lease held on a message. */
export interface LeaseRef {
  id: string;
  leaseToken: string;
}

/** What to do with a message after a failed receive. */
export type FailItem = LeaseRef & {
  attempt: Attempt;
} & (
    | { outcome: 'retry'; visibleAt: number }
    | { outcome: 'dead'; death: DeathRecord }
    | { outcome: 'drop'; tier: Tier }
  );

/** What the engine decided about a message's death; the store writes the dead letter and its group. */
export interface DeathRecord {
  tier: Tier;
  error: FailureInfo;
  fingerprint: string;
  groupId: string;
  /** Normalised message for a group created by this death. */
  normalizedMessage: string;
}

/** A lease found expired by the sweep, with what the engine needs to decide. */
export interface ExpiredLease extends LeaseRef {
  queue: string;
  receives: number;
  leasedAt: number;
  leaseExpiresAt: number;
  worker: WorkerIdentity;
}

/** A live or done message. */
export interface MessageRecord {
  id: string;
  queue: string;
  state: 'waiting' | 'leased' | 'done';
  body: Json;
  headers: Record<string, string>;
  idempotencyKey: string | null;
  enqueuedAt: number;
  visibleAt: number;
  receives: number;
  attempts: Attempt[];
  leaseExpiresAt: number | null;
  doneAt: number | null;
  replayOf: string | null;
  replayCount: number;
}

/**
 * Counts of one queue. `waiting` is visible now, `delayed` becomes visible later. Every
 * message accepted by the queue is counted in exactly one field:
 * `sent = waiting + delayed + leased + done + dead + dropped + replayed + discarded + archived`.
 */
export interface QueueStats {
  queue: string;
  waiting: number;
  delayed: number;
  leased: number;
  done: number;
  dead: number;
  /** Failures dropped because the queue's DLQ is turned off. */
  dropped: number;
  /** Dead letters replayed out of this queue's DLQ (their new messages count in the destination queue). */
  replayed: number;
  /** Dead letters discarded (a tombstone stays). */
  discarded: number;
  /** Dead letters moved to archive files by the retention sweeper. */
  archived: number;
  /** `diedAt` of the oldest dead letter, or null. */
  oldestDeadAt: number | null;
}
