import type {
  Alert,
  AlertDelivery,
  AlertDeliveryEvent,
  AlertDeliveryStatus,
  AlertRule,
  AlertState,
} from '../core/alert.ts';
import type { ApiToken } from '../core/api-token.ts';
import type { ArchivableDeadLetter, ArchiveRecord } from '../core/archive-record.ts';
import type { AuditEntry, AuditEntryInput, AuditFilter } from '../core/audit.ts';
import type {
  DeadLetter,
  DeadLetterCursor,
  DeadLetterFilter,
  DeadLetterSummary,
} from '../core/dead-letter.ts';
import type { DeadLetterBriefJson } from '../core/dead-letter-brief.ts';
import type { Tombstone } from '../core/discard.ts';
import type { FailureInfo } from '../core/failure.ts';
import type {
  Group,
  GroupFilter,
  GroupMergeResult,
  GroupSort,
  GroupStatus,
  MergedGroup,
} from '../core/group.ts';
import type { GroupRule } from '../core/group-rule.ts';
import type { DeadLetterLineage, ReplayedDeadLetter } from '../core/lineage.ts';
import type { Attempt, ClaimedMessage, Json, WorkerIdentity } from '../core/message.ts';
import type { QueueDocs, QueueDocsInput } from '../core/queue-docs.ts';
import type { QueueRecord } from '../core/queue-settings.ts';
import type {
  ReplayCanary,
  ReplayJob,
  ReplayJobSettings,
  ReplayJobStatus,
  ReplaySkip,
} from '../core/replay.ts';
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
  /**
   * Creates a queue; throws `ConflictError` if it exists. With `actor`, appends a `queue.create`
   * audit entry (details: the settings) in the same transaction.
   */
  queueCreate(params: { queue: QueueRecord; actor?: string }): Promise<QueueRecord>;
  /**
   * Updates some settings; throws `NotFoundError` for an unknown queue. With `actor`, appends a
   * `queue.update` audit entry (details: `from` and `to` of the settings that changed) in the
   * same transaction.
   */
  queueUpdate(params: {
    name: string;
    patch: Partial<Omit<QueueRecord, 'name' | 'createdAt' | 'updatedAt'>>;
    now: number;
    actor?: string;
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
  /**
   * Optional: `messageComplete`, then `messageFail`, then `messageClaim`, in one transaction
   * (one commit instead of three; a worker's steady state). Same results as the three calls.
   */
  messageSettleAndClaim?(params: {
    complete: LeaseRef[];
    fail: FailItem[];
    now: number;
    claim: { queue: string; limit: number; leaseMs: number; worker: WorkerIdentity };
  }): Promise<SettleAndClaimResult>;
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
   * Deletes up to `limit` done messages of `queue` that were done at or before `cutoff`, oldest
   * first, in one short transaction (the done-retention sweep calls it in batches). Waiting and
   * leased messages are never touched, and the queue's `done` count stays: it counts every
   * success, not the rows kept. A deleted message is then unknown to `messageGet`.
   */
  messagePruneDone(params: { queue: string; cutoff: number; limit: number }): Promise<{ deleted: number }>;

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
  /**
   * The rows {@link Store.deadLetterList} would return, each as a `DeadLetterBrief` in JSON
   * text built by the database (the API's list page), beside its paging key.
   */
  deadLetterBriefList(
    params: DeadLetterFilter & { limit: number; cursor?: { diedAt: number; id: string } },
  ): Promise<DeadLetterBriefJson[]>;
  /**
   * The positions `{diedAt, id}` of the rows {@link Store.deadLetterList} would return, for a
   * walk that needs nothing else (a replay job's batches): without grep or body filters, a
   * walk of the list index alone, never of the (large) rows.
   */
  deadLetterListKeys(
    params: DeadLetterFilter & { limit: number; cursor?: { diedAt: number; id: string } },
  ): Promise<{ diedAt: number; id: string }[]>;
  /**
   * Discards dead letters, in one transaction: each id still in the DLQ is deleted and leaves
   * a tombstone (counters: dead−1, discarded+1; its group's deadCount−1). Ids not in the DLQ
   * (unknown, already discarded, replayed or archived, possibly a moment ago by another
   * process) are left alone and returned in `missing`. Appends one `discard` audit entry per
   * queue (target: the queue; details: reason, count, ids) in the same transaction.
   */
  deadLetterDiscard(params: {
    ids: string[];
    reason: string;
    actor: string;
    now: number;
  }): Promise<{ discarded: string[]; missing: string[] }>;
  /** The tombstone of a discarded dead letter, or undefined. */
  tombstoneGet(params: { id: string }): Promise<Tombstone | undefined>;
  /**
   * Replaces the body of a dead letter in the DLQ: the first edit keeps the body it died with
   * as `originalBody`; every edit is appended to `edits`. Appends a `dead_letter.edit` audit
   * entry in the same transaction. Throws `NotFoundError` when the id is not in the DLQ.
   */
  deadLetterEdit(params: { id: string; body: Json; actor: string; now: number }): Promise<DeadLetter>;
  /**
   * Dead letters of a queue that died in `since <= diedAt < until`: those still in the DLQ,
   * plus those replayed or discarded since (archived ones are not counted).
   */
  deadLetterCountDied(params: {
    queue: string;
    since: number;
    until: number;
  }): Promise<{ dead: number; replayed: number; discarded: number }>;
  /**
   * Dead letters of a queue replayed or discarded in `since <= at < until`, per actor (and,
   * for discards, per reason), largest first.
   */
  deadLetterCountOutcomes(params: { queue: string; since: number; until: number }): Promise<{
    replayed: { actor: string; count: number }[];
    discarded: { actor: string; reason: string; count: number }[];
  }>;
  /**
   * Per queue, the dead letters that came back from a replay and reached the queue's replay
   * limit (`replayCount >= replayLimit`, at least one replay): further replays skip them.
   * Up to `sampleSize` ids each. Queues without such dead letters are left out.
   */
  deadLetterListAtReplayLimit(params: {
    sampleSize: number;
  }): Promise<{ queue: string; count: number; sampleIds: string[] }[]>;

  // ---- replay (see core/replay.ts; a replay is a durable job)
  /**
   * Creates a replay job and appends a `replay.create` audit entry by `actor` (details: the
   * selector, the settings, `planned` and `details`) in the same transaction. With `holder`, the
   * job starts `running`, held by it until `now + leaseMs` (a foreground run); without, it starts
   * `pending` for any runner to take. Throws `ConflictError` if the id is taken.
   */
  replayJobCreate(params: {
    id: string;
    selector: DeadLetterFilter;
    settings: ReplayJobSettings;
    planned: number;
    actor: string;
    now: number;
    holder?: { holder: string; leaseMs: number };
    details?: { [key: string]: Json };
  }): Promise<ReplayJob>;
  replayJobGet(params: { id: string }): Promise<ReplayJob | undefined>;
  /** Newest first (by creation, then id); `statuses` keeps only jobs in those statuses. */
  replayJobList(params: { statuses?: ReplayJobStatus[]; limit: number }): Promise<ReplayJob[]>;
  /**
   * Changes a job in one transaction. `status` must be a valid transition (core/replay.ts) or
   * the current status; `holder` fences: the change applies only if that holder holds the job
   * (else `ConflictError`, nothing changed). `release` clears the holder. A status change
   * appends its audit entry by `actor` in the same transaction: `replay.pause`, `replay.resume`
   * (paused → pending), `replay.cancel`, `replay.finish` (completed, canary_failed, failed);
   * running ⇄ canary is not audited. Throws `NotFoundError` for an unknown job.
   */
  replayJobUpdate(params: {
    id: string;
    actor: string;
    now: number;
    status?: ReplayJobStatus;
    holder?: string;
    release?: boolean;
    message?: string | null;
    canary?: ReplayCanary | null;
  }): Promise<ReplayJob>;
  /**
   * Takes a job for `holder` until `now + leaseMs`: the oldest pending, running or canary job
   * (or `jobId`) that nobody holds or whose holder's lease ran out (its runner died). A pending
   * job becomes running. Returns undefined when there is none (or `jobId` is held or final).
   */
  replayJobAcquire(params: {
    holder: string;
    leaseMs: number;
    now: number;
    jobId?: string;
  }): Promise<ReplayJob | undefined>;
  /** Extends `holder`'s hold on a job to `now + leaseMs`; false if it no longer holds it. */
  replayJobRenew(params: { id: string; holder: string; leaseMs: number; now: number }): Promise<boolean>;
  /**
   * Replays dead letters for a job held by `holder` (running or canary; else `ConflictError`
   * and nothing changes), in ONE transaction: each item still in the DLQ becomes a new waiting
   * message `messageId` in `destination` (null: its source queue) with its body (edited if it
   * was), headers plus the replay headers (core/replay.ts REPLAY_HEADERS), idempotency key,
   * `replayOf` = the dead letter and `replayCount` + 1; the dead letter moves to the replay
   * history (source counters dead−1, replayed+1; group deadCount−1). Skipped, and left in the
   * DLQ: items at their queue's replay limit, items whose key is live in the destination; items
   * no longer in the DLQ are skipped as `gone`. The job's counts and `position` advance in the
   * same transaction (with `canary`, the replayed pairs are appended to the job's canary), and
   * skips append one `replay.skip` audit entry (target: the job). Throws `NotFoundError` for
   * an unknown destination.
   */
  deadLetterReplayBatch(params: {
    jobId: string;
    holder: string;
    items: { id: string; messageId: string }[];
    destination: string | null;
    position: DeadLetterCursor;
    canary: boolean;
    actor: string;
    now: number;
  }): Promise<ReplayBatchResult>;
  /** Dead letters matching a filter, counted per group, tier, queue or replay count, most first. */
  deadLetterCountBy(
    params: DeadLetterFilter & { by: 'group' | 'tier' | 'queue' | 'replayCount' },
  ): Promise<{ key: string; count: number }[]>;
  /** A dead letter that left the DLQ by a replay (the replay history), or undefined. */
  deadLetterFindReplayed(params: { id: string }): Promise<ReplayedDeadLetter | undefined>;
  /**
   * The lineage neighbours of a message, dead letter, replayed dead letter or tombstone.
   * Throws `NotFoundError` when the id is none of them.
   */
  deadLetterLineage(params: { id: string }): Promise<DeadLetterLineage>;

  // ---- retention and archives (see core/archive-record.ts and engine/retention-sweeper.ts)
  /**
   * Rows of a queue the retention sweeper may archive, oldest first, at most `limit`:
   * - `state: 'dead'`: dead letters in the DLQ with `diedAt < before`, by (diedAt, id);
   * - `state: 'replayed'`: rows of the replay history with `replayedAt < before`, by (replayedAt, id).
   * `after` continues after the last row of the previous page (its diedAt, or replayedAt, and id).
   */
  deadLetterListExpired(params: {
    queue: string;
    state: 'dead' | 'replayed';
    before: number;
    limit: number;
    after?: { at: number; id: string };
  }): Promise<ArchivableDeadLetter[]>;
  /** How many rows {@link Store.deadLetterListExpired} would list for a queue, per state. */
  deadLetterCountExpired(params: {
    queue: string;
    before: number;
  }): Promise<{ dead: number; replayed: number }>;
  /**
   * Deletes rows that the sweeper has written to an archive file (and fsynced), in ONE
   * transaction: a `dead` ref leaves the DLQ (counters dead−1, archived+1; its group's
   * deadCount−1), a `replayed` ref leaves the replay history (no counter changes: it was
   * counted as replayed and stays so). A ref is deleted only if the row is still there, of
   * `queue`, in that state, and with `edits` edits (an edit, replay or discard made after the
   * row was written to the file keeps it): the others are returned in `stale`. Appends one
   * `retention.archive` audit entry (target: the file; details: queue, day, file, archiveId,
   * count, dead, replayed, firstId, lastId) when anything was deleted.
   */
  deadLetterArchive(params: {
    queue: string;
    day: string;
    file: string;
    archiveId: string;
    letters: ArchivedRef[];
    actor: string;
    now: number;
  }): Promise<{ dead: number; replayed: number; stale: string[] }>;
  /**
   * Puts archived records back, in ONE transaction (all or nothing): a `dead` record returns
   * to the DLQ, a `replayed` one to the replay history (never to the DLQ: it was replayed).
   * A record whose id is already in the DLQ, the replay history, a tombstone or a queue is
   * skipped and listed with the reason. A dead record this store archived (its `archiveId` is
   * named by one of its `retention.archive` audit entries for that queue) is `restored`:
   * counters archived−1, dead+1. Any other dead record (another deployment's archive) is
   * `added` as a new dead letter: dead+1, as if it had been sent and died here, and its group
   * counts it (created as `new` if this store does not know it). Groups regain deadCount
   * either way; their triage status is left alone. Appends one `archive.import` audit entry
   * (target: the file; details: file, counts, ids) when anything was imported. Throws
   * `NotFoundError` (nothing imported) when a record's queue does not exist. With `dryRun`,
   * returns the same result and changes nothing (the transaction is rolled back).
   */
  deadLetterImport(params: {
    file: string;
    records: ArchiveRecord[];
    actor: string;
    now: number;
    dryRun?: boolean;
  }): Promise<DeadLetterImportResult>;

  // ---- queue documentation
  /** A queue's DLQ documentation, or undefined when none was ever set (or the queue does not exist). */
  queueDocsGet(params: { queue: string }): Promise<QueueDocs | undefined>;
  /**
   * Sets the given documentation fields (absent keeps, null clears) and appends a `queue.docs`
   * audit entry (details: the fields changed, `from` and `to`) in the same transaction. Throws
   * `NotFoundError` for an unknown queue.
   */
  queueDocsSet(params: {
    queue: string;
    patch: QueueDocsInput;
    actor: string;
    now: number;
  }): Promise<QueueDocs>;

  // ---- groups
  groupGet(params: { id: string }): Promise<Group | undefined>;
  groupList(params: GroupFilter & { sort: GroupSort; limit: number; offset?: number }): Promise<Group[]>;
  /**
   * The groups {@link Store.groupList} returns, in its order, each as the JSON text of its
   * `Group` built by the database (the API's group list page).
   */
  groupListJson(params: GroupFilter & { sort: GroupSort; limit: number; offset?: number }): Promise<string[]>;
  /**
   * Throws `NotFoundError` for an unknown group. With `actor`, a change of status appends a
   * `group.status` audit entry (details: `from`, `to`) in the same transaction; setting the
   * status a group already has changes nothing and records nothing.
   */
  groupStatusSet(params: { id: string; status: GroupStatus; now: number; actor?: string }): Promise<Group>;
  /**
   * Merges `sources` into `target` in ONE transaction: the sources' dead letters (in the DLQ)
   * move to the target; the target's count, deadCount and queues are the sums, its firstSeen the
   * earliest (with that group's sample), lastSeen the latest; its status and tier stay. Each
   * source leaves `groups` and becomes an alias to the target (so later deaths that compute its
   * id land in the target), and aliases into a source are re-pointed to the target. Replay
   * history and tombstones keep the group id they were written with. Appends a `group.merge`
   * audit entry (target: the target; details: sources, moved, repointed). Throws
   * `ValidationError` for no sources or the target among them, `NotFoundError` for an unknown
   * group, `ConflictError` for a group that was merged already (naming where). With `dryRun`,
   * returns the same result and changes nothing.
   */
  groupMerge(params: {
    target: string;
    sources: string[];
    actor: string;
    now: number;
    dryRun?: boolean;
  }): Promise<GroupMergeResult>;
  /** The groups merged into `target` (directly or through a chain), latest merge first. */
  groupListMerged(params: { target: string }): Promise<MergedGroup[]>;
  /** The alias of a merged group, or undefined when `id` was never merged. */
  groupAliasGet(params: { id: string }): Promise<MergedGroup | undefined>;
  /**
   * Stores a fingerprint rule and appends a `group_rule.create` audit entry by `actor` in the
   * same transaction. Throws `ConflictError` if a rule has the same name or id.
   */
  groupRuleCreate(params: { rule: GroupRule; actor: string }): Promise<GroupRule>;
  /** Every stored fingerprint rule, oldest first (the order the engine tries them). */
  groupRuleList(): Promise<GroupRule[]>;
  /**
   * Deletes a rule and appends a `group_rule.remove` audit entry in the same transaction.
   * Throws `NotFoundError` for an unknown id.
   */
  groupRuleRemove(params: { id: string; actor: string; now: number }): Promise<GroupRule>;

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
  /** How many groups have each triage status (statuses without groups are absent), for metrics. */
  groupCountByStatus(): Promise<Partial<Record<GroupStatus, number>>>;

  // ---- alerts (see core/alert.ts, engine/alert-evaluator.ts and engine/alert-delivery.ts)
  /**
   * Stores a rule and appends an `alert_rule.create` audit entry by `actor` in the same
   * transaction. Throws `ConflictError` if a rule has the same name or id.
   */
  alertRuleCreate(params: { rule: AlertRule; actor: string }): Promise<AlertRule>;
  /** Every rule, by name. */
  alertRuleList(): Promise<AlertRule[]>;
  /**
   * Deletes a rule and, in the same transaction, resolves its firing alerts at `now` without a
   * notification (details.resolvedBy: `rule removed`) and appends an `alert_rule.remove` audit
   * entry. Throws `NotFoundError` for an unknown id.
   */
  alertRuleRemove(params: { id: string; actor: string; now: number }): Promise<AlertRule>;
  /**
   * Replaces the settings of the rule with `rule.id` (its `createdAt` and `createdBy` stay) and
   * appends an `alert_rule.update` audit entry (the settings after, and `before`) in the same
   * transaction. Throws `NotFoundError` for an unknown id, `ConflictError` when another rule
   * has the name.
   */
  alertRuleUpdate(params: { rule: AlertRule; actor: string; now: number }): Promise<AlertRule>;
  /**
   * Deletes at most `limit` alerts resolved before `before`, oldest first, with their
   * deliveries, and at most `limit` finished (delivered or failed) deliveries of no alert (review
   * reports) created before `before`. Firing alerts and pending deliveries are never deleted.
   */
  alertPrune(params: { before: number; limit: number }): Promise<{ alerts: number; deliveries: number }>;
  /** Alerts newest first (by firedAt, then id), optionally only those in `state`. */
  alertList(params: { state?: AlertState; limit: number }): Promise<Alert[]>;
  /** For each key that has a resolved alert, when the latest one resolved (for the cooldown). */
  alertListLastResolved(params: { keys: string[] }): Promise<{ key: string; resolvedAt: number }[]>;
  /**
   * Inserts a firing alert and its deliveries in one transaction. Returns false, and writes
   * nothing, when an alert of the same key is firing already (another evaluator was first).
   */
  alertFire(params: { alert: Alert; deliveries: AlertDelivery[] }): Promise<boolean>;
  /**
   * Resolves a firing alert at `now` and inserts its deliveries in one transaction. Returns
   * false, and writes nothing, when the alert is not firing (unknown or resolved already).
   */
  alertResolve(params: { id: string; now: number; deliveries: AlertDelivery[] }): Promise<boolean>;
  /**
   * Notifies a still-firing alert again: sets its `lastNotifiedAt` to `now` and inserts its
   * deliveries in one transaction. Returns false, and writes nothing, when it is not firing.
   */
  alertRenotify(params: { id: string; now: number; deliveries: AlertDelivery[] }): Promise<boolean>;
  /** Inserts deliveries that no alert change carries (the scheduled review report). */
  alertDeliveryInsert(params: { deliveries: AlertDelivery[] }): Promise<void>;
  /** Pending deliveries due at `now` (`nextAttemptAt <= now`), oldest due first, at most `limit`. */
  alertDeliveryListDue(params: { now: number; limit: number }): Promise<AlertDelivery[]>;
  /** Records the outcome of a delivery attempt. Throws `NotFoundError` for an unknown id. */
  alertDeliveryUpdate(params: {
    id: string;
    attempts: number;
    status: AlertDeliveryStatus;
    nextAttemptAt: number;
    lastError: string | null;
    deliveredAt: number | null;
  }): Promise<void>;
  /**
   * Deliveries newest first (by createdAt, then id): of the alerts `alertIds` when given, of
   * one `event` when given, at most `limit`.
   */
  alertDeliveryList(params: {
    alertIds?: string[];
    event?: AlertDeliveryEvent;
    limit: number;
  }): Promise<AlertDelivery[]>;
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
  /**
   * `body` as JSON text, when the caller has it already (the engine serialises every body to
   * check its size): a store writes it as it is instead of serialising the body again.
   */
  bodyJson?: string;
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

/** A row written to an archive file, as the sweeper listed it: see {@link Store.deadLetterArchive}. */
export interface ArchivedRef {
  id: string;
  state: 'dead' | 'replayed';
  /** How many body edits the row had when it was listed. */
  edits: number;
}

/** What {@link Store.deadLetterImport} did. */
export interface DeadLetterImportResult {
  /** Dead letters this store had archived, back in the DLQ (archived → dead). */
  restored: number;
  /** Dead letters new to this store (another deployment's archive), now in the DLQ. */
  added: number;
  /** Replayed dead letters back in the replay history. */
  history: number;
  /** Records not imported because their id is already here, and where. */
  skipped: { id: string; reason: ImportSkipReason }[];
}

/**
 * Why an archived record was not imported: its id is already a dead letter (`dead`), in the
 * replay history (`replayed`), a tombstone (`discarded`) or a message in a queue (`message`).
 */
export type ImportSkipReason = 'dead' | 'replayed' | 'discarded' | 'message';

/** What one replay batch did; `job` is the job after it. */
export interface ReplayBatchResult {
  replayed: { id: string; messageId: string; queue: string }[];
  skipped: ReplaySkip[];
  job: ReplayJob;
}

/** What {@link Store.messageSettleAndClaim} did. */
export interface SettleAndClaimResult {
  completed: { completed: number; lost: string[] };
  failed: { applied: number; lost: string[] };
  claimed: ClaimedMessage[];
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
