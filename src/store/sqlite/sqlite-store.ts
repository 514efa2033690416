import type Database from 'better-sqlite3';
import type { ApiToken } from '../../core/api-token.ts';
import type { AuditEntry, AuditEntryInput, AuditFilter } from '../../core/audit.ts';
import type { DeadLetter, DeadLetterSummary } from '../../core/dead-letter.ts';
import type { DeadLetterBriefJson } from '../../core/dead-letter-brief.ts';
import type { Tombstone } from '../../core/discard.ts';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { Group, GroupMergeResult, GroupStatus, MergedGroup } from '../../core/group.ts';
import type { GroupRule } from '../../core/group-rule.ts';
import type { DeadLetterLineage, ReplayedDeadLetter } from '../../core/lineage.ts';
import type { Attempt, ClaimedMessage } from '../../core/message.ts';
import type { QueueDocs } from '../../core/queue-docs.ts';
import { QUEUE_DEFAULTS, type QueueRecord } from '../../core/queue-settings.ts';
import type { ReplayJob } from '../../core/replay.ts';
import type {
  ExpiredLease,
  FailItem,
  LeaseRef,
  MessageInsert,
  MessageInsertResult,
  MessageRecord,
  QueueSample,
  QueueStats,
  ReplayBatchResult,
  Store,
  StoreCapabilities,
} from '../store.ts';
import { SqliteAlerts } from './alerts.ts';
import { SqliteApiTokens } from './api-tokens.ts';
import { SqliteAuditLog } from './audit.ts';
import { queueChanges, queueSettingsForAudit } from './audited-changes.ts';
import type { Checkpointer } from './checkpointer.ts';
import { SqliteDeadLetterEdit } from './dead-letter-edit.ts';
import { SqliteDiscard } from './discard.ts';
import { SqliteDoneRetention } from './done-retention.ts';
import { SqliteGroupMerge } from './group-merge.ts';
import { deadLetterBriefListQuery, groupListJsonQuery } from './json-lists.ts';
import { deadLetterListQuery, groupListQuery, type ListQuery } from './list-queries.ts';
import { SqliteQueueDocs } from './queue-docs.ts';
import { SqliteQueueSamples } from './queue-samples.ts';
import { SqliteReplay } from './replay.ts';
import { SqliteReplayJobs } from './replay-jobs.ts';
import { SqliteRetention } from './retention.ts';
import {
  type ClaimRow,
  type DeadLetterSummaryRow,
  type GroupRow,
  type QueueRow,
  toClaimedMessage,
  toDeadLetter,
  toDeadLetterSummary,
  toGroup,
  toMessageRecord,
  toQueueRecord,
} from './rows.ts';
import { type GroupUpsertRow, INSERT_CHUNK, prepareStatements, type Statements } from './statements.ts';
import { SqliteTriageCounts } from './triage-counts.ts';

/** One line of `EXPLAIN QUERY PLAN`, e.g. `SEARCH messages USING INDEX messages_claim (queue=? AND visible_at<?)`. */
export interface QueryPlanLine {
  id: number;
  parent: number;
  detail: string;
}

function fromQueueRecord(queue: QueueRecord): QueueRow {
  return {
    name: queue.name,
    max_receives: queue.maxReceives,
    visibility_timeout_ms: queue.visibilityTimeoutMs,
    backoff: JSON.stringify(queue.backoff),
    dead_letter: queue.deadLetter ? 1 : 0,
    retention_days: queue.retentionDays,
    replay_limit: queue.replayLimit ?? QUEUE_DEFAULTS.replayLimit,
    done_retention_ms: queue.doneRetentionMs ?? QUEUE_DEFAULTS.doneRetentionMs,
    created_at: queue.createdAt,
    updated_at: queue.updatedAt,
  };
}

/** The values of one row of `messageInsert` (and of each row of `messageInsertChunk`). */
function insertValues(queue: string, message: MessageInsert, now: number) {
  return [
    message.id,
    queue,
    message.bodyJson ?? JSON.stringify(message.body),
    JSON.stringify(message.headers),
    message.idempotencyKey ?? null,
    now,
    message.visibleAt,
    message.replayOf ?? null,
    message.replayCount ?? 0,
  ] as [string, string, string, string, string | null, number, number, string | null, number];
}

/** Whether `error` is a SQLite constraint failure of the given extended code. */
function isConstraintError(error: unknown, code: string): boolean {
  return error instanceof Error && (error as Error & { code?: unknown }).code === code;
}

/** What a claim asks for (see {@link Store.messageClaim}). */
type ClaimParams = Parameters<Store['messageClaim']>[0];

/**
 * What a batch of failures adds to groups, counters and attempts, written once per batch (see
 * `failIn`).
 */
interface FailureTally {
  groups: Map<string, GroupUpsertRow>;
  /** Per group, deaths per queue. */
  groupQueues: Map<string, Map<string, number>>;
  dead: Map<string, number>;
  dropped: Map<string, number>;
  /** The retries' attempts to append, flat: message id, attempt JSON, message id, … */
  attempts: string[];
}

/** Adds `n` to `key` of a per-queue tally. */
function tally(counts: Map<string, number>, key: string, n = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + n);
}

/**
 * The SQLite store: one better-sqlite3 connection to a database that `openSqliteStore` has
 * already checked (or migrated) to the current schema.
 *
 * SQLite is a single writer. Every write is one short `BEGIN IMMEDIATE` transaction: taking
 * the write lock up front means a concurrent writer waits on `busy_timeout` instead of
 * failing with `SQLITE_BUSY` when a deferred read transaction tries to upgrade. Batches
 * (inserts, acks, failures) share one transaction so the commit cost is paid once.
 */
export class SqliteStore implements Store {
  readonly capabilities: StoreCapabilities = { skipLocked: false, listenNotify: false, singleWriter: true };
  readonly location: string;
  private readonly db: Database.Database;
  private readonly sql: Statements;
  /** The audit log; other methods append to it inside their own transactions. */
  protected readonly audit: SqliteAuditLog;
  private readonly apiTokens: SqliteApiTokens;
  private readonly queueSamples: SqliteQueueSamples;
  private readonly alerts: SqliteAlerts;
  private readonly discards: SqliteDiscard;
  private readonly groupMerges: SqliteGroupMerge;
  private readonly edits: SqliteDeadLetterEdit;
  private readonly docs: SqliteQueueDocs;
  private readonly triageCounts: SqliteTriageCounts;
  private readonly replayJobs: SqliteReplayJobs;
  private readonly replays: SqliteReplay;
  private readonly retention: SqliteRetention;
  private readonly doneRetention: SqliteDoneRetention;
  private readonly listStatements = new Map<string, Database.Statement<(string | number)[]>>();

  /** Wraps an open, schema-checked connection; use `openStore` or `openSqliteStore` instead. */
  private readonly checkpointer: Checkpointer | undefined;

  constructor(db: Database.Database, location: string, checkpointer?: Checkpointer) {
    this.db = db;
    this.checkpointer = checkpointer;
    this.location = location;
    this.sql = prepareStatements(db);
    this.audit = new SqliteAuditLog(db);
    this.apiTokens = new SqliteApiTokens(db, this.audit);
    this.queueSamples = new SqliteQueueSamples(db);
    this.alerts = new SqliteAlerts(db, this.audit);
    this.discards = new SqliteDiscard(db, this.audit);
    this.groupMerges = new SqliteGroupMerge(db, this.audit);
    this.edits = new SqliteDeadLetterEdit(db, this.audit);
    this.docs = new SqliteQueueDocs(db, this.audit);
    this.triageCounts = new SqliteTriageCounts(db);
    this.replayJobs = new SqliteReplayJobs(db, this.audit);
    this.replays = new SqliteReplay(db, this.audit);
    this.retention = new SqliteRetention(db, this.audit);
    this.doneRetention = new SqliteDoneRetention(db);
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    await this.checkpointer?.stop();
    if (!this.db.open) return;
    // Lets SQLite refresh planner statistics that have drifted (cheap; a no-op when fresh).
    this.db.pragma('optimize');
    this.db.close();
  }

  // ---- queues

  async queueCreate(params: { queue: QueueRecord; actor?: string }): Promise<QueueRecord> {
    const row = fromQueueRecord(params.queue);
    return this.db
      .transaction(() => {
        if (this.sql.queueInsert.run(row).changes === 0) {
          throw new ConflictError(`queue "${params.queue.name}" already exists`);
        }
        this.sql.countersInsert.run(row.name);
        const created = toQueueRecord(this.sql.queueGet.get(row.name) ?? row);
        if (params.actor !== undefined) {
          this.audit.append({
            at: created.createdAt,
            actor: params.actor,
            action: 'queue.create',
            targetType: 'queue',
            targetId: created.name,
            details: { settings: queueSettingsForAudit(created) },
          });
        }
        return created;
      })
      .immediate();
  }

  async queueUpdate(params: {
    name: string;
    patch: Partial<Omit<QueueRecord, 'name' | 'createdAt' | 'updatedAt'>>;
    now: number;
    actor?: string;
  }): Promise<QueueRecord> {
    return this.db
      .transaction(() => {
        const current = this.sql.queueGet.get(params.name);
        if (!current) throw new NotFoundError(`queue "${params.name}" does not exist`);
        const before = toQueueRecord(current);
        const merged: QueueRecord = { ...before, ...params.patch, updatedAt: params.now };
        const row = fromQueueRecord({ ...merged, name: current.name, createdAt: current.created_at });
        this.sql.queueUpdate.run(row);
        const updated = toQueueRecord(row);
        if (params.actor !== undefined) {
          const { from, to } = queueChanges(before, updated);
          this.audit.append({
            at: params.now,
            actor: params.actor,
            action: 'queue.update',
            targetType: 'queue',
            targetId: updated.name,
            details: { from, to },
          });
        }
        return updated;
      })
      .immediate();
  }

  async queueGet(params: { name: string }): Promise<QueueRecord | undefined> {
    const row = this.sql.queueGet.get(params.name);
    return row ? toQueueRecord(row) : undefined;
  }

  async queueList(): Promise<QueueRecord[]> {
    return this.sql.queueList.all().map(toQueueRecord);
  }

  async queueStats(params: { now: number }): Promise<QueueStats[]> {
    // One read transaction, so the counts of all queues come from the same snapshot.
    return this.db.transaction(() => {
      const counters = new Map(this.sql.countersAll.all().map((row) => [row.queue, row]));
      const leased = new Map(this.sql.countLeasedByQueue.all().map((row) => [row.queue, row.n]));
      return this.sql.queueList.all().map((queue): QueueStats => {
        const counter = counters.get(queue.name);
        return {
          queue: queue.name,
          waiting: this.sql.countWaiting.get(queue.name, params.now)?.n ?? 0,
          delayed: this.sql.countDelayed.get(queue.name, params.now)?.n ?? 0,
          leased: leased.get(queue.name) ?? 0,
          done: counter?.done ?? 0,
          dead: counter?.dead ?? 0,
          dropped: counter?.dropped ?? 0,
          replayed: counter?.replayed ?? 0,
          discarded: counter?.discarded ?? 0,
          archived: counter?.archived ?? 0,
          oldestDeadAt: this.sql.oldestDead.get(queue.name)?.t ?? null,
        };
      });
    })();
  }

  // ---- messages

  async messageInsertBatch(params: {
    queue: string;
    messages: MessageInsert[];
    now: number;
  }): Promise<MessageInsertResult[]> {
    return this.db
      .transaction(() => {
        if (!this.sql.queueGet.get(params.queue)) {
          throw new NotFoundError(`queue "${params.queue}" does not exist`);
        }
        const results: MessageInsertResult[] = [];
        const { messages } = params;
        for (let at = 0; at < messages.length; ) {
          const chunk = messages.slice(at, at + INSERT_CHUNK);
          // A full chunk without idempotency keys (nothing to deduplicate) goes in one statement.
          if (chunk.length === INSERT_CHUNK && chunk.every((m) => (m.idempotencyKey ?? null) === null)) {
            if (this.insertChunk(params.queue, chunk, params.now)) {
              for (const message of chunk) results.push({ id: message.id, deduplicated: false });
              at += chunk.length;
              continue;
            }
          }
          // One by one: keyed messages, the tail, or a chunk that hit a taken id (to name it).
          for (const message of chunk) results.push(this.insertOne(params.queue, message, params.now));
          at += chunk.length;
        }
        return results;
      })
      .immediate();
  }

  /** Inserts one message, inside the caller's transaction; a live duplicate key deduplicates. */
  private insertOne(queue: string, message: MessageInsert, now: number): MessageInsertResult {
    const idempotencyKey = message.idempotencyKey ?? null;
    if (idempotencyKey !== null) {
      // Inside the immediate transaction nothing else can insert between this check and the
      // insert; it also sees earlier messages of this same batch.
      const live = this.sql.messageFindLiveByKey.get(queue, idempotencyKey);
      if (live) return { id: live.id, deduplicated: true };
    }
    try {
      this.sql.messageInsert.run(...insertValues(queue, message, now));
    } catch (cause) {
      if (isConstraintError(cause, 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
        throw new ConflictError(`message id "${message.id}" is already taken`, { cause });
      }
      throw cause;
    }
    return { id: message.id, deduplicated: false };
  }

  /**
   * Inserts {@link INSERT_CHUNK} messages without idempotency keys in one statement, inside the
   * caller's transaction. False if one of their ids is taken: SQLite undid the statement alone,
   * and the caller inserts them one by one to name the id.
   */
  private insertChunk(queue: string, chunk: MessageInsert[], now: number): boolean {
    try {
      this.sql.messageInsertChunk.run(...chunk.flatMap((message) => insertValues(queue, message, now)));
      return true;
    } catch (cause) {
      if (isConstraintError(cause, 'SQLITE_CONSTRAINT_PRIMARYKEY')) return false;
      throw cause;
    }
  }

  async messageClaim(params: ClaimParams): Promise<ClaimedMessage[]> {
    if (params.limit <= 0) return [];
    return this.claimRows(params, this.db.transaction(() => this.claimIn(params)).immediate());
  }

  async messageComplete(params: {
    items: LeaseRef[];
    now: number;
  }): Promise<{ completed: number; lost: string[] }> {
    if (params.items.length === 0) return { completed: 0, lost: [] };
    return this.db.transaction(() => this.completeIn(params.items, params.now)).immediate();
  }

  async messageFail(params: {
    items: FailItem[];
    now: number;
  }): Promise<{ applied: number; lost: string[] }> {
    if (params.items.length === 0) return { applied: 0, lost: [] };
    return this.db.transaction(() => this.failIn(params.items, params.now)).immediate();
  }

  async messageSettleAndClaim(params: Parameters<NonNullable<Store['messageSettleAndClaim']>>[0]) {
    const claim: ClaimParams = { ...params.claim, now: params.now };
    // One commit: the pages of a batch's rows and of the lease index are written to the WAL
    // once for the acks of the last batch and the claim of the next, not once for each.
    const { completed, failed, rows } = this.db
      .transaction(() => ({
        completed: this.completeIn(params.complete, params.now),
        failed: this.failIn(params.fail, params.now),
        rows: claim.limit > 0 ? this.claimIn(claim) : [],
      }))
      .immediate();
    return { completed, failed, claimed: this.claimRows(claim, rows) };
  }

  /** The claim statement, inside the caller's transaction. */
  private claimIn(params: ClaimParams): ClaimRow[] {
    // Raw mode: each row is a ClaimRow array (the statement's declared row type is the object form).
    return this.sql.messageClaim.all({
      queue: params.queue,
      now: params.now,
      leaseExpiresAt: params.now + params.leaseMs,
      limit: params.limit,
      workerId: params.worker.workerId,
      workerVersion: params.worker.workerVersion,
      host: params.worker.host,
    }) as unknown as ClaimRow[];
  }

  /** Claimed rows as messages, in claim order (RETURNING gives rows in no particular order). */
  private claimRows(params: ClaimParams, rows: ClaimRow[]): ClaimedMessage[] {
    const leaseExpiresAt = params.now + params.leaseMs;
    rows.sort((a, b) => a[6] - b[6] || a[0] - b[0]);
    return rows.map((row) => toClaimedMessage(row, params.queue, leaseExpiresAt, this.readAttempts));
  }

  /**
   * The failed attempts of a claimed message before its `receives`-th receive, read when its
   * handler first looks at them. While the message is leased that is all of its recorded
   * attempts; once it has been settled they may be gone (deleted with the message, or moved
   * into its dead letter), and the list is what is left.
   */
  private readonly readAttempts = (id: string, receives: number): Attempt[] => {
    const text = this.sql.messageAttempts.get(id);
    if (text === null || text === undefined) return [];
    return (JSON.parse(text) as Attempt[]).filter((attempt) => attempt.number < receives);
  };

  /**
   * Completes leased messages, inside the caller's transaction. A message of a queue with done
   * retention 0 is deleted instead of kept as done (see `messageCompleteDelete`).
   */
  private completeIn(items: LeaseRef[], now: number): { completed: number; lost: string[] } {
    if (items.length === 0) return { completed: 0, lost: [] };
    const lost: string[] = [];
    const done = new Map<string, number>();
    // Read once per call (a handful of rows): which of the two statements fits each message.
    const queues = this.sql.queuesDeletingDone.all();
    const deleting = new Set(queues.filter(([, deletes]) => deletes === 1).map(([name]) => name));
    for (const item of items) {
      let queue: string | undefined;
      if (deleting.size === 0) {
        queue = this.sql.messageComplete.get(now, item.leaseToken, item.id);
      } else if (deleting.size === queues.length) {
        queue = this.completeDeleting(item);
      } else {
        // Queues of both kinds: the message's own queue decides.
        const leased = this.sql.messageLeasedQueue.get(item.leaseToken, item.id);
        if (leased !== undefined && deleting.has(leased)) {
          queue = this.completeDeleting(item);
        } else if (leased !== undefined) {
          queue = this.sql.messageComplete.get(now, item.leaseToken, item.id);
        }
      }
      if (queue !== undefined) tally(done, queue);
      else lost.push(item.id);
    }
    for (const [queue, n] of done) this.sql.countersAddDone.run(n, queue);
    return { completed: items.length - lost.length, lost };
  }

  /** Completes a message by deleting it, with its failed attempts if it has any; its queue, or none if the lease was lost. */
  private completeDeleting(item: LeaseRef): string | undefined {
    const row = this.sql.messageCompleteDelete.get(item.leaseToken, item.id);
    if (row === undefined) return undefined;
    // Only a message received more than once can have failed attempts (most have none).
    if (row[1] > 1) this.sql.attemptsDelete.run(item.id);
    return row[0];
  }

  /**
   * Applies failure outcomes, inside the caller's transaction. The deaths' counts (groups, the
   * groups' queues, the queue counters) are summed and written once per row they touch: a batch
   * of failures from one bug updates its group (and the group's six indexes) once, not per death.
   */
  private failIn(items: FailItem[], now: number): { applied: number; lost: string[] } {
    const lost: string[] = [];
    const batch: FailureTally = {
      groups: new Map(),
      groupQueues: new Map(),
      dead: new Map(),
      dropped: new Map(),
      attempts: [],
    };
    for (const item of items) {
      if (!this.applyFailure(item, now, batch)) lost.push(item.id);
    }
    this.appendAttempts(batch.attempts);
    for (const group of batch.groups.values()) this.sql.groupUpsert.run(group);
    for (const [groupId, queues] of batch.groupQueues) {
      for (const [queue, n] of queues) this.sql.groupQueueUpsert.run(groupId, queue, n);
    }
    for (const [queue, n] of batch.dead) this.sql.countersAddDead.run(n, queue);
    for (const [queue, n] of batch.dropped) this.sql.countersAddDropped.run(n, queue);
    return { applied: items.length - lost.length, lost };
  }

  /**
   * Appends the retries' attempts ({@link FailureTally.attempts}): {@link INSERT_CHUNK} rows per
   * statement, the rest one by one. A message has at most one attempt in a batch, so their order
   * among messages does not matter.
   */
  private appendAttempts(values: string[]): void {
    const chunk = 2 * INSERT_CHUNK;
    let at = 0;
    for (; at + chunk <= values.length; at += chunk)
      this.sql.attemptInsertChunk.run(...values.slice(at, at + chunk));
    for (; at < values.length; at += 2)
      this.sql.attemptInsert.run(values[at] as string, values[at + 1] as string);
  }

  /**
   * One failure outcome, inside the caller's transaction; false if the lease was lost. A death
   * or drop is counted, and a retry's attempt kept, in `batch`, which {@link failIn} writes once
   * the batch is applied.
   */
  private applyFailure(item: FailItem, now: number, batch: FailureTally): boolean {
    const lease = { id: item.id, leaseToken: item.leaseToken };
    if (item.outcome === 'retry') {
      if (this.sql.messageRetry.run(item.visibleAt, item.leaseToken, item.id).changes !== 1) return false;
      batch.attempts.push(item.id, JSON.stringify(item.attempt));
      return true;
    }
    const row = this.sql.messageDelete.get(lease);
    if (!row) return false;
    // Only a message received more than once can have failed attempts.
    const earlier = row.receives > 1 ? this.sql.attemptsTake.all(row.id) : [];
    if (item.outcome === 'drop') {
      tally(batch.dropped, row.queue);
      return true;
    }
    const { death } = item;
    const groupId = this.sql.groupAliasTarget.get(death.groupId)?.target_id ?? death.groupId;
    // The earlier attempts' JSON as stored, in order, then this one: no parse of kilobytes of stacks.
    const texts = earlier.sort((a, b) => a[0] - b[0]).map(([, text]) => text);
    texts.push(JSON.stringify(item.attempt));
    const attempts = `[${texts.join(',')}]`;
    this.sql.deadLetterInsert.run({
      id: row.id,
      queue: row.queue,
      body: row.body,
      headers: row.headers,
      idempotencyKey: row.idempotency_key,
      enqueuedAt: row.enqueued_at,
      attempts,
      attemptCount: texts.length,
      errorName: death.error.name,
      errorMessage: death.error.message,
      errorStack: death.error.stack ?? null,
      errorCode: death.error.code ?? null,
      errorStatus: death.error.status ?? null,
      tier: death.tier,
      fingerprint: death.fingerprint,
      groupId,
      diedAt: now,
      replayCount: row.replay_count,
      previousId: row.replay_of,
    });
    const group = batch.groups.get(groupId);
    if (group) group.count++;
    else {
      // The first death of the batch in a group describes it, should this create it.
      batch.groups.set(groupId, {
        groupId,
        fingerprint: death.fingerprint,
        errorName: death.error.name,
        normalizedMessage: death.normalizedMessage,
        tier: death.tier,
        sampleId: row.id,
        now,
        count: 1,
      });
    }
    const queues = batch.groupQueues.get(groupId) ?? new Map<string, number>();
    batch.groupQueues.set(groupId, queues);
    tally(queues, row.queue);
    tally(batch.dead, row.queue);
    return true;
  }

  async messageExtendLease(params: LeaseRef & { leaseExpiresAt: number }): Promise<boolean> {
    return (
      this.db
        .transaction(() =>
          this.sql.messageExtendLease.run({
            id: params.id,
            leaseToken: params.leaseToken,
            leaseExpiresAt: params.leaseExpiresAt,
          }),
        )
        .immediate().changes === 1
    );
  }

  async messageRelease(params: {
    items: (LeaseRef & { uncountReceive: boolean })[];
    now: number;
  }): Promise<{ released: number }> {
    if (params.items.length === 0) return { released: 0 };
    return this.db
      .transaction(() => {
        let released = 0;
        for (const item of params.items) {
          released += this.sql.messageRelease.run({
            id: item.id,
            leaseToken: item.leaseToken,
            now: params.now,
            uncount: item.uncountReceive ? 1 : 0,
          }).changes;
        }
        return { released };
      })
      .immediate();
  }

  async messageListExpiredLeases(params: { now: number; limit: number }): Promise<ExpiredLease[]> {
    return this.sql.messageExpiredLeases.all(params.now, params.limit).map((row) => ({
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
    }));
  }

  async messageGet(params: { id: string }): Promise<MessageRecord | undefined> {
    const row = this.sql.messageGet.get(params.id);
    return row ? toMessageRecord(row) : undefined;
  }

  async messageHasPending(params: { queue: string }): Promise<boolean> {
    return this.sql.messageHasPending.get(params.queue, params.queue)?.pending === 1;
  }

  async messagePruneDone(
    params: Parameters<Store['messagePruneDone']>[0],
  ): ReturnType<Store['messagePruneDone']> {
    return this.doneRetention.pruneDone(params);
  }

  // ---- dead letters

  async deadLetterGet(params: { id: string }): Promise<DeadLetter | undefined> {
    const row = this.sql.deadLetterGet.get(params.id);
    return row ? toDeadLetter(row) : undefined;
  }

  async deadLetterList(params: Parameters<Store['deadLetterList']>[0]): Promise<DeadLetterSummary[]> {
    const query = deadLetterListQuery(params);
    const rows = this.listStatement(query).all(...query.params) as DeadLetterSummaryRow[];
    return rows.map(toDeadLetterSummary);
  }

  async deadLetterBriefList(
    params: Parameters<Store['deadLetterBriefList']>[0],
  ): Promise<DeadLetterBriefJson[]> {
    const query = deadLetterBriefListQuery(params);
    const rows = this.listStatement(query).all(...query.params) as {
      id: string;
      died_at: number;
      json: string;
    }[];
    return rows.map((row) => ({ id: row.id, diedAt: row.died_at, json: row.json }));
  }

  async deadLetterListKeys(params: Parameters<Store['deadLetterListKeys']>[0]) {
    const query = deadLetterListQuery(params, true);
    const rows = this.listStatement(query).all(...query.params) as { id: string; died_at: number }[];
    return rows.map((row) => ({ diedAt: row.died_at, id: row.id }));
  }

  // ---- replay (sqlite/replay-jobs.ts, sqlite/replay.ts)

  async replayJobCreate(params: Parameters<Store['replayJobCreate']>[0]): Promise<ReplayJob> {
    return this.replayJobs.create(params);
  }

  async replayJobGet(params: { id: string }): Promise<ReplayJob | undefined> {
    return this.replayJobs.get(params.id);
  }

  async replayJobList(params: Parameters<Store['replayJobList']>[0]): Promise<ReplayJob[]> {
    return this.replayJobs.list(params);
  }

  async replayJobUpdate(params: Parameters<Store['replayJobUpdate']>[0]): Promise<ReplayJob> {
    return this.replayJobs.update(params);
  }

  async replayJobAcquire(params: Parameters<Store['replayJobAcquire']>[0]): Promise<ReplayJob | undefined> {
    return this.replayJobs.acquire(params);
  }

  async replayJobRenew(params: Parameters<Store['replayJobRenew']>[0]): Promise<boolean> {
    return this.replayJobs.renew(params);
  }

  async deadLetterReplayBatch(
    params: Parameters<Store['deadLetterReplayBatch']>[0],
  ): Promise<ReplayBatchResult> {
    return this.replays.replayBatch(params);
  }

  async deadLetterCountBy(params: Parameters<Store['deadLetterCountBy']>[0]) {
    return this.replays.countBy(params);
  }

  async deadLetterFindReplayed(params: { id: string }): Promise<ReplayedDeadLetter | undefined> {
    return this.replays.findReplayed(params.id);
  }

  async deadLetterLineage(params: { id: string }): Promise<DeadLetterLineage> {
    return this.replays.lineage(params.id);
  }

  // ---- retention and archives (sqlite/retention.ts)

  async deadLetterListExpired(params: Parameters<Store['deadLetterListExpired']>[0]) {
    return this.retention.listExpired(params);
  }

  async deadLetterCountExpired(params: { queue: string; before: number }) {
    return this.retention.countExpired(params);
  }

  async deadLetterArchive(params: Parameters<Store['deadLetterArchive']>[0]) {
    return this.retention.archive(params);
  }

  async deadLetterImport(params: Parameters<Store['deadLetterImport']>[0]) {
    return this.retention.import(params);
  }

  // ---- discard, edit, documentation and triage counts (sqlite/discard.ts, dead-letter-edit.ts,
  // queue-docs.ts, triage-counts.ts)

  async deadLetterDiscard(params: Parameters<Store['deadLetterDiscard']>[0]) {
    return this.discards.discard(params);
  }

  async tombstoneGet(params: { id: string }): Promise<Tombstone | undefined> {
    return this.discards.tombstoneGet(params.id);
  }

  async deadLetterEdit(params: Parameters<Store['deadLetterEdit']>[0]): Promise<DeadLetter> {
    return this.edits.edit(params);
  }

  async deadLetterCountDied(params: Parameters<Store['deadLetterCountDied']>[0]) {
    return this.triageCounts.countDied(params);
  }

  async deadLetterCountOutcomes(params: Parameters<Store['deadLetterCountOutcomes']>[0]) {
    return this.triageCounts.countOutcomes(params);
  }

  async deadLetterListAtReplayLimit(params: { sampleSize: number }) {
    return this.triageCounts.listAtReplayLimit(params.sampleSize);
  }

  async queueDocsGet(params: { queue: string }): Promise<QueueDocs | undefined> {
    return this.docs.get(params.queue);
  }

  async queueDocsSet(params: Parameters<Store['queueDocsSet']>[0]): Promise<QueueDocs> {
    return this.docs.set(params);
  }

  // ---- groups

  async groupGet(params: { id: string }): Promise<Group | undefined> {
    const row = this.sql.groupGet.get(params.id);
    return row ? this.toGroupWithQueues(row) : undefined;
  }

  async groupList(params: Parameters<Store['groupList']>[0]): Promise<Group[]> {
    const query = groupListQuery(params);
    return this.db.transaction(() => {
      const rows = this.listStatement(query).all(...query.params) as GroupRow[];
      return rows.map((row) => this.toGroupWithQueues(row));
    })();
  }

  async groupListJson(params: Parameters<Store['groupListJson']>[0]): Promise<string[]> {
    const query = groupListJsonQuery(params);
    return this.listStatement(query)
      .pluck()
      .all(...query.params) as string[];
  }

  async groupStatusSet(params: {
    id: string;
    status: GroupStatus;
    now: number;
    actor?: string;
  }): Promise<Group> {
    return this.db
      .transaction(() => {
        const before = this.sql.groupGet.get(params.id);
        if (!before) throw new NotFoundError(`group "${params.id}" does not exist`);
        const row = this.sql.groupStatusSet.get({ id: params.id, status: params.status, now: params.now });
        if (!row) throw new NotFoundError(`group "${params.id}" does not exist`);
        if (params.actor !== undefined && before.status !== row.status) {
          this.audit.append({
            at: params.now,
            actor: params.actor,
            action: 'group.status',
            targetType: 'group',
            targetId: row.id,
            details: { from: before.status, to: row.status },
          });
        }
        return this.toGroupWithQueues(row);
      })
      .immediate();
  }

  // ---- group merge, aliases and stored fingerprint rules (sqlite/group-merge.ts)

  async groupMerge(params: Parameters<Store['groupMerge']>[0]): Promise<GroupMergeResult> {
    return this.groupMerges.merge(params);
  }

  async groupListMerged(params: { target: string }): Promise<MergedGroup[]> {
    return this.groupMerges.listMerged(params.target);
  }

  async groupAliasGet(params: { id: string }): Promise<MergedGroup | undefined> {
    return this.groupMerges.aliasGet(params.id);
  }

  async groupRuleCreate(params: { rule: GroupRule; actor: string }): Promise<GroupRule> {
    return this.groupMerges.ruleCreate(params.rule, params.actor);
  }

  async groupRuleList(): Promise<GroupRule[]> {
    return this.groupMerges.ruleList();
  }

  async groupRuleRemove(params: { id: string; actor: string; now: number }): Promise<GroupRule> {
    return this.groupMerges.ruleRemove(params);
  }

  private toGroupWithQueues(row: GroupRow): Group {
    return toGroup(
      row,
      this.sql.groupQueues.all(row.id).map((q) => q.queue),
    );
  }

  private listStatement(query: ListQuery): Database.Statement<(string | number)[]> {
    let statement = this.listStatements.get(query.key);
    if (!statement) {
      statement = this.db.prepare<(string | number)[]>(query.sql);
      this.listStatements.set(query.key, statement);
    }
    return statement;
  }

  // ---- SQLite only: inspection for tests and `dlq doctor` (not part of the Store interface)

  /** `EXPLAIN QUERY PLAN` of a statement with its parameters (named or positional). */
  explainQueryPlan(
    sql: string,
    params: (string | number)[] | Record<string, string | number> = [],
  ): QueryPlanLine[] {
    const statement = this.db.prepare<unknown[], QueryPlanLine>(`EXPLAIN QUERY PLAN ${sql}`);
    return Array.isArray(params) ? statement.all(...params) : statement.all(params);
  }

  /** Runs `ANALYZE`, giving the query planner statistics of the current data. */
  analyze(): void {
    this.db.exec('ANALYZE');
  }

  // ---- leadership

  async leaderAttemptElect(params: {
    name: string;
    holder: string;
    ttlMs: number;
    now: number;
  }): Promise<boolean> {
    // Inserts, or takes over a lease that is ours or has expired; another holder's live lease
    // makes the upsert's WHERE false and changes nothing.
    const result = this.db
      .prepare(
        `INSERT INTO leaders (name, holder, expires_at) VALUES (@name, @holder, @expiresAt)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE leaders.holder = excluded.holder OR leaders.expires_at <= @now`,
      )
      .run({
        name: params.name,
        holder: params.holder,
        expiresAt: params.now + params.ttlMs,
        now: params.now,
      });
    return result.changes === 1;
  }

  async leaderResign(params: { name: string; holder: string }): Promise<void> {
    this.db.prepare('DELETE FROM leaders WHERE name = ? AND holder = ?').run(params.name, params.holder);
  }

  // ---- audit

  async auditAppend(params: { entries: AuditEntryInput[] }): Promise<void> {
    this.audit.appendAll(params.entries);
  }

  async auditList(params: AuditFilter & { limit: number; beforeId?: number }): Promise<AuditEntry[]> {
    return this.audit.list(params);
  }

  // ---- API tokens (sqlite/api-tokens.ts)

  async tokenCreate(params: { token: ApiToken; actor: string }): Promise<ApiToken> {
    return this.apiTokens.create(params.token, params.actor);
  }

  async tokenFindByHash(params: { hash: string }): Promise<ApiToken | undefined> {
    return this.apiTokens.findHash(params.hash);
  }

  async tokenList(): Promise<ApiToken[]> {
    return this.apiTokens.list();
  }

  async tokenRevoke(params: { name: string; now: number; actor: string }): Promise<ApiToken> {
    return this.apiTokens.revokeByName(params.name, params.now, params.actor);
  }

  async tokenTouch(params: { id: string; now: number }): Promise<void> {
    this.apiTokens.touchAt(params.id, params.now);
  }

  // ---- queue samples (sqlite/queue-samples.ts)

  async queueSampleInsert(params: { samples: QueueSample[] }): Promise<void> {
    this.queueSamples.insertAll(params.samples);
  }

  async queueSampleList(params: { queue: string; since?: number; until?: number }): Promise<QueueSample[]> {
    return this.queueSamples.list(params);
  }

  async queueSampleDeleteBefore(params: { before: number }): Promise<{ deleted: number }> {
    return { deleted: this.queueSamples.deleteOlder(params.before) };
  }

  async groupCountByStatus(): Promise<Partial<Record<GroupStatus, number>>> {
    // Reads the (status, count, id) index only.
    const rows = this.db
      .prepare<[], { status: GroupStatus; n: number }>(
        'SELECT status, count(*) AS n FROM groups GROUP BY status',
      )
      .all();
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  // ---- alerts (sqlite/alerts.ts)

  async alertRuleCreate(
    params: Parameters<Store['alertRuleCreate']>[0],
  ): ReturnType<Store['alertRuleCreate']> {
    return this.alerts.ruleCreate(params.rule, params.actor);
  }

  async alertRuleList(): ReturnType<Store['alertRuleList']> {
    return this.alerts.ruleList();
  }

  async alertRuleRemove(
    params: Parameters<Store['alertRuleRemove']>[0],
  ): ReturnType<Store['alertRuleRemove']> {
    return this.alerts.ruleRemove(params.id, params.actor, params.now);
  }

  async alertRuleUpdate(
    params: Parameters<Store['alertRuleUpdate']>[0],
  ): ReturnType<Store['alertRuleUpdate']> {
    return this.alerts.ruleUpdate(params.rule, params.actor, params.now);
  }

  async alertRenotify(params: Parameters<Store['alertRenotify']>[0]): ReturnType<Store['alertRenotify']> {
    return this.alerts.renotify(params.id, params.now, params.deliveries);
  }

  async alertPrune(params: Parameters<Store['alertPrune']>[0]): ReturnType<Store['alertPrune']> {
    return this.alerts.prune(params.before, params.limit);
  }

  async alertList(params: Parameters<Store['alertList']>[0]): ReturnType<Store['alertList']> {
    return this.alerts.list(params);
  }

  async alertListLastResolved(
    params: Parameters<Store['alertListLastResolved']>[0],
  ): ReturnType<Store['alertListLastResolved']> {
    return this.alerts.listLastResolved(params.keys);
  }

  async alertFire(params: Parameters<Store['alertFire']>[0]): ReturnType<Store['alertFire']> {
    return this.alerts.fire(params.alert, params.deliveries);
  }

  async alertResolve(params: Parameters<Store['alertResolve']>[0]): ReturnType<Store['alertResolve']> {
    return this.alerts.resolve(params.id, params.now, params.deliveries);
  }

  async alertDeliveryInsert(params: Parameters<Store['alertDeliveryInsert']>[0]): Promise<void> {
    this.alerts.deliveryInsertAll(params.deliveries);
  }

  async alertDeliveryListDue(
    params: Parameters<Store['alertDeliveryListDue']>[0],
  ): ReturnType<Store['alertDeliveryListDue']> {
    return this.alerts.deliveryListDue(params.now, params.limit);
  }

  async alertDeliveryUpdate(params: Parameters<Store['alertDeliveryUpdate']>[0]): Promise<void> {
    this.alerts.deliveryUpdateOne(params);
  }

  async alertDeliveryList(
    params: Parameters<Store['alertDeliveryList']>[0],
  ): ReturnType<Store['alertDeliveryList']> {
    return this.alerts.deliveryList(params);
  }
}
