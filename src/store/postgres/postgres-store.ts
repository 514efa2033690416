import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import type { AuditEntry, AuditEntryInput, AuditFilter } from '../../core/audit.ts';
import type { DeadLetter, DeadLetterSummary } from '../../core/dead-letter.ts';
import type { DeadLetterBriefJson } from '../../core/dead-letter-brief.ts';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { Group, GroupMergeResult, GroupStatus, MergedGroup } from '../../core/group.ts';
import type { GroupRule } from '../../core/group-rule.ts';
import { QUEUE_DEFAULTS, type QueueRecord } from '../../core/queue-settings.ts';
import { queueChanges, queueSettingsForAudit } from '../sqlite/audited-changes.ts';
import type { QueueStats, Store, StoreCapabilities } from '../store.ts';
import { PostgresAlerts } from './alerts.ts';
import { PostgresServerTables } from './api-tokens.ts';
import {
  type AuditRow,
  appendAudit,
  auditInsertParams,
  auditInsertSql,
  auditListQuery,
  toAuditEntry,
} from './audit.ts';
import { clientConfig, quoteIdent } from './connection.ts';
import { type PgDb, type Queryable, UNPREPARED } from './db.ts';
import { PostgresDoneRetention } from './done-retention.ts';
import { PostgresGroupMerge } from './group-merge.ts';
import { deadLetterBriefListQuery, groupListJsonQuery } from './json-lists.ts';
import type { Values } from './lease-batches.ts';
import { deadLetterListQuery, groupListQuery, type ListQuery } from './list-queries.ts';
import { NotificationListener, type Subscription } from './listener.ts';
import { PostgresMessages } from './messages.ts';
import type { PostgresTarget } from './postgres-url.ts';
import { type QueueStatements, queueStatements } from './queue-statements.ts';
import { PostgresReplay } from './replay.ts';
import { PostgresReplayJobs } from './replay-jobs.ts';
import { PostgresRetention } from './retention.ts';
import {
  type DeadLetterRow,
  type DeadLetterSummaryRow,
  type GroupRow,
  type QueueRow,
  toDeadLetter,
  toDeadLetterSummary,
  toGroup,
  toQueueRecord,
} from './rows.ts';
import { type PostgresStatements, postgresStatements } from './statements.ts';
import { PostgresTriage } from './triage.ts';

/** A node of `EXPLAIN (FORMAT JSON)`'s plan tree. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
  [property: string]: unknown;
}

/** The notification channel of a schema's store: `deadletter_<schema>`, payload the queue name. */
export function channelOf(schema: string): string {
  return `deadletter_${schema}`;
}

/** A `groups` row with its queues, as the group statements return it. */
type GroupWithQueuesRow = GroupRow & { queues: string[] };

/**
 * The PostgreSQL store: a pool of connections to a schema that `openPostgresStore` has
 * already checked (or migrated), for many workers in many processes on many machines.
 *
 * - Claims lock rows with `FOR UPDATE SKIP LOCKED`, so concurrent claimers never wait for
 *   each other and never get the same message.
 * - Every call is one statement where possible (batches as arrays through `unnest`), which
 *   PostgreSQL runs as its own transaction; calls that need several statements run them in
 *   one explicit transaction on one pooled connection.
 * - Inserts, immediate retries and releases `NOTIFY` the schema's channel in the same
 *   transaction; `queueListen` hears it on a dedicated connection.
 */
export class PostgresStore implements Store {
  readonly capabilities: StoreCapabilities = { skipLocked: true, listenNotify: true, singleWriter: false };
  readonly location: string;
  /** The schema holding this store's tables. */
  readonly schema: string;
  private readonly pool: Pool;
  private readonly sql: PostgresStatements;
  private readonly queueSql: QueueStatements;
  private readonly listener: NotificationListener;
  /** Queries and transactions for the feature modules (triage, replay, retention). */
  private readonly db: PgDb;
  private readonly messages: PostgresMessages;
  private readonly serverTables: PostgresServerTables;
  private readonly triage: PostgresTriage;
  private readonly replayJobs: PostgresReplayJobs;
  private readonly replays: PostgresReplay;
  private readonly retention: PostgresRetention;
  private readonly doneRetention: PostgresDoneRetention;
  private readonly alerts: PostgresAlerts;
  private readonly groupMerges: PostgresGroupMerge;
  private readonly inflight = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  /** Wraps a pool on a checked schema; use `openStore` or `openPostgresStore` instead. */
  constructor(target: PostgresTarget, pool: Pool) {
    this.location = target.location;
    this.schema = target.schema;
    this.pool = pool;
    this.sql = postgresStatements(target.schema, channelOf(target.schema));
    this.queueSql = queueStatements(target.schema);
    this.listener = new NotificationListener(clientConfig(target), channelOf(target.schema));
    this.db = {
      query: (name, text, values) => this.query(name, text, values),
      transaction: (fn) =>
        this.transaction((client) =>
          fn({ query: (name, text, values) => this.query(name, text, values, client) }),
        ),
    };
    this.messages = new PostgresMessages(this.db, this.sql);
    this.serverTables = new PostgresServerTables(this.db, target.schema);
    this.triage = new PostgresTriage(this.db, target.schema);
    this.replayJobs = new PostgresReplayJobs(this.db, target.schema);
    this.retention = new PostgresRetention(this.db, target.schema);
    this.doneRetention = new PostgresDoneRetention(this.db, target.schema);
    this.alerts = new PostgresAlerts(this.db, target.schema);
    this.groupMerges = new PostgresGroupMerge(this.db, target.schema);
    this.replays = new PostgresReplay(this.db, target.schema, this.replayJobs, channelOf(target.schema));
  }

  /**
   * Ends the listener, waits for the calls in flight, then closes the pool. Calls made after
   * `close` began fail.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.listener.close();
      await Promise.allSettled([...this.inflight]);
      await this.pool.end();
    })();
    return this.closing;
  }

  // ---- queues

  async queueCreate(params: { queue: QueueRecord; actor?: string }): Promise<QueueRecord> {
    const q = params.queue;
    const values = [
      q.name,
      q.maxReceives,
      q.visibilityTimeoutMs,
      JSON.stringify(q.backoff),
      q.deadLetter,
      q.retentionDays,
      q.replayLimit ?? QUEUE_DEFAULTS.replayLimit,
      q.createdAt,
      q.updatedAt,
      q.doneRetentionMs ?? QUEUE_DEFAULTS.doneRetentionMs,
    ];
    const { actor } = params;
    const insert = async (tx: Queryable): Promise<QueueRecord> => {
      const row = (await tx.query<QueueRow>('queue_insert', this.queueSql.insert, values)).rows[0];
      if (!row) throw new ConflictError(`queue "${q.name}" already exists`);
      return toQueueRecord(row);
    };
    if (actor === undefined) return insert(this.db);
    return this.db.transaction(async (tx) => {
      const created = await insert(tx);
      await appendAudit(tx, this.schema, [
        {
          at: created.createdAt,
          actor,
          action: 'queue.create',
          targetType: 'queue',
          targetId: created.name,
          details: { settings: queueSettingsForAudit(created) },
        },
      ]);
      return created;
    });
  }

  async queueUpdate(params: {
    name: string;
    patch: Partial<Omit<QueueRecord, 'name' | 'createdAt' | 'updatedAt'>>;
    now: number;
    actor?: string;
  }): Promise<QueueRecord> {
    const { patch, actor } = params;
    const values = [
      params.name,
      patch.maxReceives ?? null,
      patch.visibilityTimeoutMs ?? null,
      patch.backoff === undefined ? null : JSON.stringify(patch.backoff),
      patch.deadLetter ?? null,
      patch.retentionDays ?? null,
      params.now,
      patch.replayLimit ?? null,
      patch.doneRetentionMs ?? null,
    ];
    const update = async (tx: Queryable): Promise<QueueRecord> => {
      const row = (await tx.query<QueueRow>('queue_update', this.queueSql.update, values)).rows[0];
      if (!row) throw new NotFoundError(`queue "${params.name}" does not exist`);
      return toQueueRecord(row);
    };
    if (actor === undefined) return update(this.db);
    return this.db.transaction(async (tx) => {
      const current = (
        await tx.query<QueueRow>('queue_get_for_update', this.queueSql.getForUpdate, [params.name])
      ).rows[0];
      if (!current) throw new NotFoundError(`queue "${params.name}" does not exist`);
      const updated = await update(tx);
      const { from, to } = queueChanges(toQueueRecord(current), updated);
      await appendAudit(tx, this.schema, [
        {
          at: params.now,
          actor,
          action: 'queue.update',
          targetType: 'queue',
          targetId: updated.name,
          details: { from, to },
        },
      ]);
      return updated;
    });
  }

  async queueGet(params: { name: string }): Promise<QueueRecord | undefined> {
    const { rows } = await this.query<QueueRow>('queue_get', this.queueSql.get, [params.name]);
    return rows[0] ? toQueueRecord(rows[0]) : undefined;
  }

  async queueList(): Promise<QueueRecord[]> {
    const { rows } = await this.query<QueueRow>('queue_list', this.queueSql.list);
    return rows.map(toQueueRecord);
  }

  async queueStats(params: { now: number }): Promise<QueueStats[]> {
    const { rows } = await this.query<QueueStats & { oldest_dead_at: number | null }>(
      'queue_stats',
      this.sql.queueStats,
      [params.now],
    );
    return rows.map(({ oldest_dead_at, ...counts }) => ({ ...counts, oldestDeadAt: oldest_dead_at }));
  }

  async queueListen(params: { queue: string; onAvailable: () => void }): Promise<Subscription> {
    if (this.closing) throw new Error(`store ${this.location} is closed`);
    return this.listener.subscribe(params.queue, params.onAvailable);
  }

  // ---- messages (postgres/messages.ts)

  messageInsertBatch(
    params: Parameters<Store['messageInsertBatch']>[0],
  ): ReturnType<Store['messageInsertBatch']> {
    return this.messages.insertBatch(params);
  }

  messageClaim(params: Parameters<Store['messageClaim']>[0]): ReturnType<Store['messageClaim']> {
    return this.messages.claim(params);
  }

  messageComplete(params: Parameters<Store['messageComplete']>[0]): ReturnType<Store['messageComplete']> {
    return this.messages.complete(params);
  }

  messageFail(params: Parameters<Store['messageFail']>[0]): ReturnType<Store['messageFail']> {
    return this.messages.fail(params);
  }

  messageSettleAndClaim(
    params: Parameters<NonNullable<Store['messageSettleAndClaim']>>[0],
  ): ReturnType<NonNullable<Store['messageSettleAndClaim']>> {
    return this.messages.settleAndClaim(params);
  }

  messageExtendLease(
    params: Parameters<Store['messageExtendLease']>[0],
  ): ReturnType<Store['messageExtendLease']> {
    return this.messages.extendLease(params);
  }

  messageRelease(params: Parameters<Store['messageRelease']>[0]): ReturnType<Store['messageRelease']> {
    return this.messages.release(params);
  }

  messageListExpiredLeases(
    params: Parameters<Store['messageListExpiredLeases']>[0],
  ): ReturnType<Store['messageListExpiredLeases']> {
    return this.messages.listExpiredLeases(params);
  }

  messageGet(params: Parameters<Store['messageGet']>[0]): ReturnType<Store['messageGet']> {
    return this.messages.get(params);
  }

  messageHasPending(
    params: Parameters<Store['messageHasPending']>[0],
  ): ReturnType<Store['messageHasPending']> {
    return this.messages.hasPending(params);
  }

  messagePruneDone(params: Parameters<Store['messagePruneDone']>[0]): ReturnType<Store['messagePruneDone']> {
    return this.doneRetention.pruneDone(params);
  }

  // ---- leadership

  async leaderAttemptElect(params: {
    name: string;
    holder: string;
    ttlMs: number;
    now: number;
  }): Promise<boolean> {
    const result = await this.query('leader_elect', this.sql.leaderElect, [
      params.name,
      params.holder,
      params.now + params.ttlMs,
      params.now,
    ]);
    return result.rowCount === 1;
  }

  async leaderResign(params: { name: string; holder: string }): Promise<void> {
    await this.query('leader_resign', this.sql.leaderResign, [params.name, params.holder]);
  }

  // ---- dead letters

  async deadLetterGet(params: { id: string }): Promise<DeadLetter | undefined> {
    const { rows } = await this.query<DeadLetterRow>('dead_letter_get', this.sql.deadLetterGet, [params.id]);
    return rows[0] ? toDeadLetter(rows[0]) : undefined;
  }

  async deadLetterList(params: Parameters<Store['deadLetterList']>[0]): Promise<DeadLetterSummary[]> {
    const { rows } = await this.listQuery<DeadLetterSummaryRow>(deadLetterListQuery(this.schema, params));
    return rows.map(toDeadLetterSummary);
  }

  async deadLetterBriefList(
    params: Parameters<Store['deadLetterBriefList']>[0],
  ): Promise<DeadLetterBriefJson[]> {
    const query = deadLetterBriefListQuery(this.schema, params);
    const { rows } = await this.listQuery<{ id: string; died_at: number; json: string }>(query);
    return rows.map((row) => ({ id: row.id, diedAt: row.died_at, json: row.json }));
  }

  async deadLetterListKeys(params: Parameters<Store['deadLetterListKeys']>[0]) {
    const query = deadLetterListQuery(this.schema, params, true);
    const { rows } = await this.listQuery<{ id: string; died_at: number }>(query);
    return rows.map((row) => ({ diedAt: row.died_at, id: row.id }));
  }

  // ---- groups

  async groupGet(params: { id: string }): Promise<Group | undefined> {
    const { rows } = await this.query<GroupWithQueuesRow>('group_get', this.sql.groupGet, [params.id]);
    return rows[0] ? toGroup(rows[0], rows[0].queues) : undefined;
  }

  async groupList(params: Parameters<Store['groupList']>[0]): Promise<Group[]> {
    const { rows } = await this.listQuery<GroupWithQueuesRow>(groupListQuery(this.schema, params));
    return rows.map((row) => toGroup(row, row.queues));
  }

  async groupListJson(params: Parameters<Store['groupListJson']>[0]): Promise<string[]> {
    const { rows } = await this.listQuery<{ json: string }>(groupListJsonQuery(this.schema, params));
    return rows.map((row) => row.json);
  }

  async groupStatusSet(params: {
    id: string;
    status: GroupStatus;
    now: number;
    actor?: string;
  }): Promise<Group> {
    const { actor } = params;
    const set = async (tx: Queryable): Promise<Group> => {
      const values = [params.id, params.status, params.now];
      const row = (await tx.query<GroupWithQueuesRow>('group_status_set', this.sql.groupStatusSet, values))
        .rows[0];
      if (!row) throw new NotFoundError(`group "${params.id}" does not exist`);
      return toGroup(row, row.queues);
    };
    if (actor === undefined) return set(this.db);
    return this.db.transaction(async (tx) => {
      const before = (
        await tx.query<{ status: GroupStatus }>('group_status_lock', this.sql.groupStatusForUpdate, [
          params.id,
        ])
      ).rows[0];
      if (!before) throw new NotFoundError(`group "${params.id}" does not exist`);
      const group = await set(tx);
      if (before.status !== group.status) {
        await appendAudit(tx, this.schema, [
          {
            at: params.now,
            actor,
            action: 'group.status',
            targetType: 'group',
            targetId: group.id,
            details: { from: before.status, to: group.status },
          },
        ]);
      }
      return group;
    });
  }

  // ---- group merge, aliases and stored fingerprint rules (postgres/group-merge.ts)

  groupMerge(params: Parameters<Store['groupMerge']>[0]): Promise<GroupMergeResult> {
    return this.groupMerges.merge(params);
  }

  groupListMerged(params: { target: string }): Promise<MergedGroup[]> {
    return this.groupMerges.listMerged(params.target);
  }

  groupAliasGet(params: { id: string }): Promise<MergedGroup | undefined> {
    return this.groupMerges.aliasGet(params.id);
  }

  groupRuleCreate(params: { rule: GroupRule; actor: string }): Promise<GroupRule> {
    return this.groupMerges.ruleCreate(params.rule, params.actor);
  }

  groupRuleList(): Promise<GroupRule[]> {
    return this.groupMerges.ruleList();
  }

  groupRuleRemove(params: { id: string; actor: string; now: number }): Promise<GroupRule> {
    return this.groupMerges.ruleRemove(params);
  }

  // ---- PostgreSQL only: inspection for tests and `dlq doctor` (not part of the Store interface)

  /** The plan PostgreSQL would use for `sql` with `params` (`EXPLAIN (FORMAT JSON)`). */
  async explain(sql: string, params: Values = []): Promise<PlanNode> {
    const { rows } = await this.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
      undefined,
      `EXPLAIN (FORMAT JSON) ${sql}`,
      params,
    );
    const plan = rows[0]?.['QUERY PLAN'][0]?.Plan;
    if (!plan) throw new Error('EXPLAIN returned no plan');
    return plan;
  }

  /** Runs `ANALYZE` on the store's tables, giving the planner statistics of the current data. */
  async analyze(): Promise<void> {
    const s = quoteIdent(this.schema);
    const tables = ['queues', 'queue_counters', 'messages', 'dead_letters', 'groups', 'group_queues'];
    await this.query(undefined, `ANALYZE ${tables.map((t) => `${s}.${t}`).join(', ')}`);
  }

  /** A run-time setting of the pooled connections, e.g. `statement_timeout` → `30s`. */
  async setting(name: string): Promise<string> {
    const { rows } = await this.query<{ value: string }>(undefined, 'SELECT current_setting($1) AS value', [
      name,
    ]);
    return rows[0]?.value ?? '';
  }

  /** The server process id of the LISTEN connection, or undefined while there is none. */
  get listenerProcessId(): number | undefined {
    return this.listener.processId;
  }

  // ---- internals

  /**
   * Runs one statement on the pool (its own transaction) or on `client` (inside the caller's).
   * A `name` makes it a prepared statement on each connection: the hot paths skip parsing and
   * planning after the first use.
   */
  private query<R extends QueryResultRow>(
    name: string | undefined,
    text: string,
    values: Values = [],
    client?: PoolClient,
  ): Promise<QueryResult<R>> {
    const config = name === undefined ? { text, values } : { name: `deadletter_${name}`, text, values };
    if (client) return client.query<R>(config);
    if (this.closing) return Promise.reject(new Error(`store ${this.location} is closed`));
    return this.track(this.pool.query<R>(config));
  }

  /**
   * List queries are planned per run, never prepared: a generic plan is made without the filter
   * values, and for a skewed column (one queue with most of the dead letters, one with a few) it
   * can pick the walk that suits the average value and crawl for the rare one.
   */
  private listQuery<R extends QueryResultRow>(query: ListQuery): Promise<QueryResult<R>> {
    return this.query<R>(UNPREPARED, query.sql, query.params);
  }

  /** Runs `fn` in one transaction on one pooled connection; rolls back if it throws. */
  private transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new Error(`store ${this.location} is closed`));
    return this.track(
      (async () => {
        const client = await this.pool.connect();
        try {
          await client.query('BEGIN');
          const result = await fn(client);
          await client.query('COMMIT');
          client.release();
          return result;
        } catch (error) {
          // A connection that cannot even roll back is broken: destroy it rather than pool it.
          const broken = await client.query('ROLLBACK').then(
            () => undefined,
            (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
          );
          client.release(broken);
          throw error;
        }
      })(),
    );
  }

  /** Remembers a call in flight until it settles, so `close` can wait for it. */
  private track<T>(promise: Promise<T>): Promise<T> {
    this.inflight.add(promise);
    const forget = () => this.inflight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  // ---- audit

  async auditAppend(params: { entries: AuditEntryInput[] }): Promise<void> {
    if (params.entries.length === 0) return;
    await this.query(undefined, auditInsertSql(this.schema), auditInsertParams(params.entries));
  }

  async auditList(params: AuditFilter & { limit: number; beforeId?: number }): Promise<AuditEntry[]> {
    const { rows } = await this.listQuery<AuditRow>(auditListQuery(this.schema, params));
    return rows.map(toAuditEntry);
  }

  // ---- API tokens and queue samples (postgres/api-tokens.ts)

  tokenCreate(params: Parameters<Store['tokenCreate']>[0]): ReturnType<Store['tokenCreate']> {
    return this.serverTables.tokenCreate(params);
  }

  tokenFindByHash(params: Parameters<Store['tokenFindByHash']>[0]): ReturnType<Store['tokenFindByHash']> {
    return this.serverTables.tokenFindByHash(params);
  }

  tokenList(): ReturnType<Store['tokenList']> {
    return this.serverTables.tokenList();
  }

  tokenRevoke(params: Parameters<Store['tokenRevoke']>[0]): ReturnType<Store['tokenRevoke']> {
    return this.serverTables.tokenRevoke(params);
  }

  tokenTouch(params: Parameters<Store['tokenTouch']>[0]): ReturnType<Store['tokenTouch']> {
    return this.serverTables.tokenTouch(params);
  }

  queueSampleInsert(
    params: Parameters<Store['queueSampleInsert']>[0],
  ): ReturnType<Store['queueSampleInsert']> {
    return this.serverTables.queueSampleInsert(params);
  }

  queueSampleList(params: Parameters<Store['queueSampleList']>[0]): ReturnType<Store['queueSampleList']> {
    return this.serverTables.queueSampleList(params);
  }

  queueSampleDeleteBefore(
    params: Parameters<Store['queueSampleDeleteBefore']>[0],
  ): ReturnType<Store['queueSampleDeleteBefore']> {
    return this.serverTables.queueSampleDeleteBefore(params);
  }

  async groupCountByStatus(): Promise<Partial<Record<GroupStatus, number>>> {
    const { rows } = await this.query<{ status: GroupStatus; n: number }>(
      'group_count_by_status',
      `SELECT status, count(*)::bigint AS n FROM ${quoteIdent(this.schema)}.groups GROUP BY status`,
    );
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  // ---- triage: discard, edit, documentation, counts (postgres/triage.ts)

  async deadLetterDiscard(params: Parameters<Store['deadLetterDiscard']>[0]): Promise<{
    discarded: string[];
    missing: string[];
  }> {
    return this.triage.discard(params);
  }

  async tombstoneGet(params: { id: string }): ReturnType<Store['tombstoneGet']> {
    return this.triage.tombstoneGet(params.id);
  }

  async deadLetterEdit(params: Parameters<Store['deadLetterEdit']>[0]): Promise<DeadLetter> {
    return this.triage.edit(params);
  }

  async deadLetterCountDied(
    params: Parameters<Store['deadLetterCountDied']>[0],
  ): Promise<{ dead: number; replayed: number; discarded: number }> {
    return this.triage.countDied(params);
  }

  async deadLetterCountOutcomes(
    params: Parameters<Store['deadLetterCountOutcomes']>[0],
  ): ReturnType<Store['deadLetterCountOutcomes']> {
    return this.triage.countOutcomes(params);
  }

  async deadLetterListAtReplayLimit(params: {
    sampleSize: number;
  }): Promise<{ queue: string; count: number; sampleIds: string[] }[]> {
    return this.triage.listAtReplayLimit(params.sampleSize);
  }

  async queueDocsGet(params: { queue: string }): ReturnType<Store['queueDocsGet']> {
    return this.triage.queueDocsGet(params.queue);
  }

  async queueDocsSet(params: Parameters<Store['queueDocsSet']>[0]): ReturnType<Store['queueDocsSet']> {
    return this.triage.queueDocsSet(params);
  }

  // ---- replay (postgres/replay-jobs.ts, postgres/replay.ts)

  async replayJobCreate(
    params: Parameters<Store['replayJobCreate']>[0],
  ): ReturnType<Store['replayJobCreate']> {
    return this.replayJobs.create(params);
  }

  async replayJobGet(params: Parameters<Store['replayJobGet']>[0]): ReturnType<Store['replayJobGet']> {
    return this.replayJobs.get(params.id);
  }

  async replayJobList(params: Parameters<Store['replayJobList']>[0]): ReturnType<Store['replayJobList']> {
    return this.replayJobs.list(params);
  }

  async replayJobUpdate(
    params: Parameters<Store['replayJobUpdate']>[0],
  ): ReturnType<Store['replayJobUpdate']> {
    return this.replayJobs.update(params);
  }

  async replayJobAcquire(
    params: Parameters<Store['replayJobAcquire']>[0],
  ): ReturnType<Store['replayJobAcquire']> {
    return this.replayJobs.acquire(params);
  }

  async replayJobRenew(params: Parameters<Store['replayJobRenew']>[0]): ReturnType<Store['replayJobRenew']> {
    return this.replayJobs.renew(params);
  }

  async deadLetterReplayBatch(
    params: Parameters<Store['deadLetterReplayBatch']>[0],
  ): ReturnType<Store['deadLetterReplayBatch']> {
    return this.replays.replayBatch(params);
  }

  async deadLetterCountBy(
    params: Parameters<Store['deadLetterCountBy']>[0],
  ): ReturnType<Store['deadLetterCountBy']> {
    return this.replays.countBy(params);
  }

  async deadLetterFindReplayed(
    params: Parameters<Store['deadLetterFindReplayed']>[0],
  ): ReturnType<Store['deadLetterFindReplayed']> {
    return this.replays.findReplayed(params.id);
  }

  async deadLetterLineage(
    params: Parameters<Store['deadLetterLineage']>[0],
  ): ReturnType<Store['deadLetterLineage']> {
    return this.replays.lineage(params.id);
  }

  // ---- retention and archives (postgres/retention.ts)

  async deadLetterListExpired(
    params: Parameters<Store['deadLetterListExpired']>[0],
  ): ReturnType<Store['deadLetterListExpired']> {
    return this.retention.listExpired(params);
  }

  async deadLetterCountExpired(
    params: Parameters<Store['deadLetterCountExpired']>[0],
  ): ReturnType<Store['deadLetterCountExpired']> {
    return this.retention.countExpired(params);
  }

  async deadLetterArchive(
    params: Parameters<Store['deadLetterArchive']>[0],
  ): ReturnType<Store['deadLetterArchive']> {
    return this.retention.archive(params);
  }

  async deadLetterImport(
    params: Parameters<Store['deadLetterImport']>[0],
  ): ReturnType<Store['deadLetterImport']> {
    return this.retention.import(params);
  }

  // ---- alerts (postgres/alerts.ts)

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
    await this.alerts.deliveryInsertAll(params.deliveries);
  }

  async alertDeliveryListDue(
    params: Parameters<Store['alertDeliveryListDue']>[0],
  ): ReturnType<Store['alertDeliveryListDue']> {
    return this.alerts.deliveryListDue(params.now, params.limit);
  }

  async alertDeliveryUpdate(params: Parameters<Store['alertDeliveryUpdate']>[0]): Promise<void> {
    await this.alerts.deliveryUpdateOne(params);
  }

  async alertDeliveryList(
    params: Parameters<Store['alertDeliveryList']>[0],
  ): ReturnType<Store['alertDeliveryList']> {
    return this.alerts.deliveryList(params);
  }
}
