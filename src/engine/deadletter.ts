import { EventEmitter } from 'node:events';
import type { ArchiveRecord } from '../core/archive-record.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import {
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterSummary,
  decodeCursor,
  encodeCursor,
} from '../core/dead-letter.ts';
import {
  cutMessage,
  type DeadLetterBrief,
  type DeadLetterBriefJson,
  mayHoldIssueList,
} from '../core/dead-letter-brief.ts';
import type { Tombstone } from '../core/discard.ts';
import type { DoctorReport } from '../core/doctor.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import { NotFoundError, ValidationError } from '../core/errors.ts';
import type { FailureRules } from '../core/failure-plan.ts';
import { issuesLine } from '../core/fingerprint.ts';
import {
  GROUP_STATUSES,
  type Group,
  type GroupFilter,
  type GroupMergeResult,
  type GroupSort,
  type GroupStatus,
  type MergedGroup,
} from '../core/group.ts';
import { type GroupRule, type GroupRuleInput, validateGroupRuleInput } from '../core/group-rule.ts';
import { newId } from '../core/ids.ts';
import type { DeadLetterLineage, ReplayedDeadLetter } from '../core/lineage.ts';
import type { Json, NewMessage } from '../core/message.ts';
import type { QueueDocs, QueueDocsInput } from '../core/queue-docs.ts';
import { resolveQueueDocs } from '../core/queue-docs.ts';
import {
  QUEUE_DEFAULTS,
  type QueueRecord,
  type QueueSettingsInput,
  resolveQueueSettings,
  validateQueueName,
} from '../core/queue-settings.ts';
import type { ReplayJob, ReplayJobStatus, ReplayPlan, ReplaySkip } from '../core/replay.ts';
import type { ReviewReport } from '../core/review.ts';
import { isTier } from '../core/tier.ts';
import { openStore } from '../store/open.ts';
import type { MessageInsert, MessageInsertResult, MessageRecord, QueueStats, Store } from '../store/store.ts';
import {
  type ArchiveFileInfo,
  listArchiveFiles,
  locateArchiveFile,
  readArchiveFile,
} from './archive-file.ts';
import { type ArchiveImportResult, importArchive } from './archive-import.ts';
import { type AuditListParams, type AuditPage, listAuditEntries } from './audit-listing.ts';
import { type DeadLetterEditResult, editDeadLetterBody } from './dead-letter-edit.ts';
import { type DiscardOptions, type DiscardReport, discardDeadLetters } from './discard.ts';
import { gatherDoctor } from './doctor.ts';
import {
  DEFAULT_DONE_SWEEP_INTERVAL_MS,
  type DonePruneOptions,
  type DonePruneResult,
  doneRetentionService,
  pruneDoneMessages,
} from './done-retention.ts';
import { StoredGroupRules } from './group-rules.ts';
import { type LeaseSweepResult, sweepExpiredLeases } from './lease-sweeper.ts';
import { type MaintenanceOptions, MaintenanceRunner, type MaintenanceService } from './maintenance.ts';
import type { ReplayRunResult } from './replay-runner.ts';
import {
  type ReplayOptions,
  type ReplayOutcome,
  type ReplaySettings,
  Replays,
  type ResumeOptions,
} from './replays.ts';
import {
  type RetentionRunOptions,
  RetentionSweeper,
  type RetentionSweeperOptions,
  type RetentionSweepResult,
  resolveRetentionSweeperConfig,
} from './retention-sweeper.ts';
import { gatherReview, type ReviewOptions } from './review.ts';
import { type AttemptObservation, type Handler, Worker, type WorkerOptions } from './worker.ts';

/** Options of {@link Deadletter.open}. */
export interface DeadletterOptions {
  /** A store URL (`sqlite:./path.db`) or an open {@link Store}. Default `sqlite:./.deadletter/deadletter.db`. */
  store?: string | Store;
  /** Injected clock; tests use `ManualClock`. Default: the wall clock. */
  clock?: Clock;
  /** Classifier, fingerprint and backoff rules for all queues; per-queue rules in `queues` come first. */
  rules?: FailureRules;
  /** Per-queue rules, by queue name. */
  queues?: Record<string, FailureRules>;
  /**
   * How often this process reloads the stored fingerprint rules (`dlq group rule add`), which
   * apply after the rules above. Default 2s; 0 loads them once, when the first worker starts.
   */
  groupRuleRefresh?: Duration;
  /** Largest accepted body, serialised as JSON. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * The maintenance services (the lease-expiry sweep) run in one process of all that share the
   * store, elected by a leadership lease. They start with this handle's first worker (or
   * `startMaintenance()`); `false` never runs them here. `services` adds services of the
   * caller's (the server's queue sampler) to the built-in ones, run by the same leader.
   */
  maintenance?:
    | false
    | (MaintenanceOptions & {
        leaseSweepInterval?: Duration;
        /** How often done messages past their queue's done retention are deleted. Default 10s. */
        doneSweepInterval?: Duration;
        services?: MaintenanceService[];
      });
  /**
   * Observes every handler run of this handle's workers (queue, duration, outcome), e.g. for a
   * metrics histogram; a worker's own `onAttempt` option takes precedence.
   */
  onAttempt?: (attempt: AttemptObservation) => void;
  /**
   * Who the audit log records for changes made through this handle when a call does not say
   * (`{ actor }` on each changing method). Default `library`.
   */
  actor?: string;
  /** Replay jobs: the hold lease, the replay runner's poll interval, the canary's (see {@link ReplaySettings}). */
  replay?: ReplaySettings;
  /**
   * Where the retention sweeper writes archive files (`<archiveDir>/<queue>/<YYYY-MM-DD>.jsonl.gz`),
   * resolved against the current directory. Default `./.deadletter/archive`. One directory
   * belongs to one store: two stores sweeping into the same files would overwrite each other.
   */
  archiveDir?: string;
  /** The retention sweeper's batch size (default 5,000), interval (default 1h) and lease (default 5m). */
  retention?: Omit<RetentionSweeperOptions, 'archiveDir'>;
}

/** {@link QueueStats} of one queue plus when its next dead letters expire. */
export interface QueueStatsReport extends QueueStats {
  /** The queue's retention in days; 0 keeps dead letters forever. */
  retentionDays: number;
  /**
   * When the oldest dead letter passes the queue's retention (its `diedAt` + retention), after
   * which the retention sweeper archives it; null when the DLQ is empty or retention is 0.
   */
  nextExpiryAt: number | null;
}

/** Who makes a change, for the audit log; default the handle's `actor` option (`library`). */
export interface ActorOptions {
  actor?: string;
}

/** Options of one send. */
export interface SendOptions {
  headers?: Record<string, string>;
  /** Travels with the message and its replays; while a message with this key is live in the queue, a second send returns its id. */
  idempotencyKey?: string;
  /** Delay before the message is visible. */
  delay?: Duration;
}

/** A page of dead letters; pass `nextCursor` back to continue. */
export interface DeadLetterPage {
  items: DeadLetterSummary[];
  nextCursor: string | null;
}

/** Filters, order and paging of {@link Deadletter.listGroups}: by count (default) or last seen, 100 by default. */
export type GroupListParams = GroupFilter & { sort?: GroupSort; limit?: number; offset?: number };

/** A page of dead letters as {@link DeadLetterBriefJson} (JSON text); pass `nextCursor` back to continue. */
export interface DeadLetterBriefPage {
  items: DeadLetterBriefJson[];
  nextCursor: string | null;
}

/** List parameters: filters plus paging. */
export interface DeadLetterListParams extends DeadLetterFilter {
  /** Page size, 1–1000. Default 50. */
  limit?: number;
  cursor?: string;
}

const MAX_HEADER_BYTES = 64 * 1024;

/**
 * The library's entry point: a handle on a store with queues, sends, workers and the
 * dead-letter queue. Open it with {@link Deadletter.open}; close it with {@link Deadletter.close}.
 */
export class Deadletter {
  readonly store: Store;
  readonly clock: Clock;
  private readonly ownsStore: boolean;
  private readonly options: DeadletterOptions;
  private readonly sent = new EventEmitter();
  private readonly workers = new Set<Worker>();
  private readonly queueCache = new Map<string, { record: QueueRecord; at: number }>();
  private sweeping: Promise<LeaseSweepResult> | undefined;
  private maintenance: MaintenanceRunner | undefined;
  private readonly replays: Replays;
  private retentionSweeper: RetentionSweeper | undefined;
  private readonly listening = new Map<string, Promise<{ close: () => Promise<void> } | undefined>>();
  private readonly groupRules: StoredGroupRules;

  private constructor(store: Store, ownsStore: boolean, options: DeadletterOptions) {
    this.store = store;
    this.ownsStore = ownsStore;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.groupRules = new StoredGroupRules(
      store,
      parseDuration(options.groupRuleRefresh ?? 2_000, 'group rule refresh'),
      (error) => console.error('deadletter: cannot load the stored group rules:', error),
    );
    this.sent.setMaxListeners(0);
    this.replays = new Replays(
      {
        store,
        clock: this.clock,
        actorOf: (o) => this.actorOf(o),
        onSent: (queues) => {
          for (const queue of queues) this.sent.emit(queue);
        },
        onError:
          (options.maintenance === false ? undefined : options.maintenance?.onError) ??
          ((error, service) => console.error(`deadletter ${service}:`, error)),
      },
      options.replay,
    );
  }

  /**
   * Opens a store (initialising a brand-new empty SQLite file; an existing store with an older
   * schema must be migrated explicitly with `dlq migrate`).
   */
  static async open(options: DeadletterOptions = {}): Promise<Deadletter> {
    // Bad retention options fail here, before a store is opened.
    resolveRetentionSweeperConfig({ ...options.retention, archiveDir: options.archiveDir });
    if (typeof options.store === 'object') return new Deadletter(options.store, false, options);
    const store = await openStore(options.store ?? 'sqlite:./.deadletter/deadletter.db', { migrate: true });
    return new Deadletter(store, true, options);
  }

  // ---- queues

  /**
   * Creates a queue; settings not given take the defaults (5 receives, 30 s lease, exponential
   * backoff, DLQ on, 14 days). Recorded in the audit log (`queue.create`).
   */
  async createQueue(
    name: string,
    settings: QueueSettingsInput = {},
    options: ActorOptions = {},
  ): Promise<QueueRecord> {
    validateQueueName(name);
    const resolved = resolveQueueSettings(settings);
    const now = this.clock.now();
    const record = await this.store.queueCreate({
      queue: {
        name,
        maxReceives: resolved.maxReceives ?? QUEUE_DEFAULTS.maxReceives,
        visibilityTimeoutMs: resolved.visibilityTimeoutMs ?? QUEUE_DEFAULTS.visibilityTimeoutMs,
        backoff: resolved.backoff ?? QUEUE_DEFAULTS.backoff,
        deadLetter: resolved.deadLetter ?? QUEUE_DEFAULTS.deadLetter,
        retentionDays: resolved.retentionDays ?? QUEUE_DEFAULTS.retentionDays,
        replayLimit: resolved.replayLimit ?? QUEUE_DEFAULTS.replayLimit,
        doneRetentionMs: resolved.doneRetentionMs ?? QUEUE_DEFAULTS.doneRetentionMs,
        createdAt: now,
        updatedAt: now,
      },
      actor: this.actorOf(options),
    });
    this.queueCache.set(name, { record, at: now });
    return record;
  }

  /** Creates the queue if it does not exist; an existing queue keeps its settings. */
  async ensureQueue(
    name: string,
    settings: QueueSettingsInput = {},
    options: ActorOptions = {},
  ): Promise<QueueRecord> {
    const existing = await this.store.queueGet({ name });
    return existing ?? this.createQueue(name, settings, options);
  }

  /** Changes the given settings of a queue; recorded in the audit log (`queue.update`, old and new values). */
  async updateQueue(
    name: string,
    settings: QueueSettingsInput,
    options: ActorOptions = {},
  ): Promise<QueueRecord> {
    const patch = resolveQueueSettings(settings);
    const record = await this.store.queueUpdate({
      name,
      patch,
      now: this.clock.now(),
      actor: this.actorOf(options),
    });
    this.queueCache.set(name, { record, at: this.clock.now() });
    return record;
  }

  async getQueue(name: string): Promise<QueueRecord> {
    const record = await this.store.queueGet({ name });
    if (!record) throw new NotFoundError(`unknown queue "${name}"`);
    return record;
  }

  listQueues(): Promise<QueueRecord[]> {
    return this.store.queueList();
  }

  /**
   * Per queue: waiting, delayed, leased, done, dead, dropped, replayed, discarded, archived, the
   * oldest dead letter and when the next dead letters expire.
   */
  async stats(): Promise<QueueStatsReport[]> {
    const [stats, queues] = await Promise.all([
      this.store.queueStats({ now: this.clock.now() }),
      this.store.queueList(),
    ]);
    const retention = new Map(queues.map((queue) => [queue.name, queue.retentionDays]));
    return stats.map((row) => {
      const retentionDays = retention.get(row.queue) ?? QUEUE_DEFAULTS.retentionDays;
      return { ...row, retentionDays, nextExpiryAt: nextExpiryAt(row.oldestDeadAt, retentionDays) };
    });
  }

  // ---- send

  /** Sends one message; returns its id (the existing message's id when deduplicated by idempotency key). */
  async send(queue: string, body: Json, options: SendOptions = {}): Promise<MessageInsertResult> {
    const [result] = await this.sendBatch(queue, [{ body, ...toNewMessageOptions(options) }]);
    return result as MessageInsertResult;
  }

  /** Sends messages in one transaction: all are accepted or none is. */
  async sendBatch(queue: string, messages: NewMessage[]): Promise<MessageInsertResult[]> {
    await this.queueSettings(queue);
    const now = this.clock.now();
    const maxBody = this.options.maxBodyBytes ?? 1024 * 1024;
    const inserts: MessageInsert[] = messages.map((message, index) => {
      const where = messages.length > 1 ? ` (message ${index + 1})` : '';
      const bodyJson = checkBody(message.body, maxBody, where);
      const headers = message.headers ?? {};
      checkHeaders(headers, where);
      const key = message.idempotencyKey ?? null;
      if (key !== null && (typeof key !== 'string' || key.length === 0 || key.length > 256)) {
        throw new ValidationError(`invalid idempotency key${where}: use a string of 1-256 characters`);
      }
      const delayMs = message.delayMs ?? 0;
      if (!Number.isFinite(delayMs) || delayMs < 0) throw new ValidationError(`invalid delay${where}`);
      return {
        id: newId(),
        body: message.body,
        bodyJson,
        headers,
        idempotencyKey: key,
        visibleAt: now + delayMs,
      };
    });
    if (inserts.length === 0) return [];
    const results = await this.store.messageInsertBatch({ queue, messages: inserts, now });
    this.sent.emit(queue);
    return results;
  }

  /**
   * A live or done message by id. A done message is kept for its queue's done retention
   * (default 1 h), then deleted: NotFoundError, as for an id that never existed.
   */
  async getMessage(id: string): Promise<MessageRecord> {
    const message = await this.store.messageGet({ id });
    if (!message) {
      throw new NotFoundError(
        `unknown message "${id}": never sent, or it succeeded and was pruned after its queue's done retention`,
      );
    }
    return message;
  }

  // ---- workers

  /**
   * Starts a worker on a queue (which must exist) and returns it once it runs. Stop it with
   * `worker.stop()`; `close()` stops every worker of this handle.
   */
  async work<Body = Json>(
    queue: string,
    handler: Handler<Body>,
    options: WorkerOptions = {},
  ): Promise<Worker> {
    const record = await this.getQueue(queue);
    await this.groupRules.start();
    const worker = new Worker(
      {
        store: this.store,
        clock: this.clock,
        queue: record,
        waitForWork: (name, ms) => this.waitForSend(name, ms),
      },
      handler as Handler<never>,
      {
        ...this.rulesFor(queue),
        ...(this.options.onAttempt ? { onAttempt: this.options.onAttempt } : {}),
        ...options,
      },
    );
    this.workers.add(worker);
    void worker.stopped.finally(() => this.workers.delete(worker));
    this.listen(queue);
    if (this.options.maintenance !== false) this.startMaintenance();
    return worker;
  }

  /**
   * Takes part in the election of the process that runs the maintenance services (the
   * lease-expiry sweep), and runs them while elected. Workers call it; a process without
   * workers (a server) calls it itself. Stopped by `close()`.
   */
  startMaintenance(): MaintenanceRunner {
    if (!this.maintenance) {
      const options = this.options.maintenance || {};
      // The lease-expiry sweep dead-letters too: it applies the stored group rules.
      this.groupRules.start().catch((error: unknown) => console.error('deadletter group rules:', error));
      this.maintenance = new MaintenanceRunner(
        this.store,
        this.clock,
        [
          {
            name: 'lease-expiry sweep',
            intervalMs: parseDuration(options.leaseSweepInterval ?? 1_000, 'lease sweep interval'),
            run: () => this.sweepExpiredLeases(),
          },
          this.retention.service((error) =>
            (options.onError ?? ((e: unknown) => console.error('deadletter retention sweep:', e)))(
              error,
              'retention sweep',
            ),
          ),
          this.replays.runnerService().asMaintenanceService(),
          doneRetentionService({
            store: this.store,
            clock: this.clock,
            intervalMs: parseDuration(
              options.doneSweepInterval ?? DEFAULT_DONE_SWEEP_INTERVAL_MS,
              'done sweep interval',
            ),
          }),
          ...(options.services ?? []),
        ],
        options,
      );
    }
    this.maintenance.start();
    return this.maintenance;
  }

  /**
   * Deletes done messages older than their queue's done retention now (the maintenance service
   * does it every 10 s); their count stays in the queue's `done`. See {@link pruneDoneMessages}.
   */
  pruneDoneMessages(options: DonePruneOptions = {}): Promise<DonePruneResult> {
    return pruneDoneMessages(this.store, { ...options, now: this.clock.now() });
  }

  /** Returns expired leases to their queue (or the DLQ); workers do this every second. */
  sweepExpiredLeases(): Promise<LeaseSweepResult> {
    this.sweeping ??= sweepExpiredLeases({
      store: this.store,
      clock: this.clock,
      rulesFor: (queue) => this.rulesFor(queue),
      queueFor: (queue) => this.queueSettings(queue).catch(() => undefined),
    }).finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  // ---- dead letters and groups

  /** Lists dead letters, newest first, with filters and cursor paging. */
  listDeadLetters(params: DeadLetterListParams = {}): Promise<DeadLetterPage> {
    return this.deadLetterPage(params, (query) => this.store.deadLetterList(query));
  }

  /**
   * The page {@link listDeadLetters} returns, each item a `DeadLetterBrief` as JSON text built
   * by the store, with its paging key: what the API's list route sends, without decoding rows.
   */
  async listDeadLetterBriefs(params: DeadLetterListParams = {}): Promise<DeadLetterBriefPage> {
    const page = await this.deadLetterPage(params, (query) => this.store.deadLetterBriefList(query));
    return { ...page, items: await this.withIssueLines(page.items) };
  }

  /**
   * The briefs whose message is a list of validation issues, with the issues on one line
   * ({@link briefMessage}) instead of the start of their JSON, which the store's cut leaves: their
   * whole messages are read in one query. Any other brief is passed on as the store built it.
   */
  private async withIssueLines(items: DeadLetterBriefJson[]): Promise<DeadLetterBriefJson[]> {
    const candidates = items.filter((item) => mayHoldIssueList(item.json));
    if (candidates.length === 0) return items;
    const letters = await this.store.deadLetterList({
      ids: candidates.map((item) => item.id),
      limit: candidates.length,
    });
    const lines = new Map<string, string>();
    for (const letter of letters) {
      const line = issuesLine(letter.error.message);
      if (line !== undefined) lines.set(letter.id, cutMessage(line));
    }
    if (lines.size === 0) return items;
    return items.map((item) => {
      const message = lines.get(item.id);
      if (message === undefined) return item;
      const brief = JSON.parse(item.json) as DeadLetterBrief;
      brief.error.message = message;
      return { ...item, json: JSON.stringify(brief) };
    });
  }

  private async deadLetterPage<T extends { diedAt: number; id: string }>(
    params: DeadLetterListParams,
    list: (query: Parameters<Store['deadLetterList']>[0]) => Promise<T[]>,
  ): Promise<{ items: T[]; nextCursor: string | null }> {
    const limit = params.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new ValidationError(`invalid limit ${limit}: use 1 to 1000`);
    }
    if (params.tier !== undefined && !isTier(params.tier))
      throw new ValidationError(`unknown tier "${params.tier}"`);
    const cursor = params.cursor ? decodeCursor(params.cursor) : undefined;
    const { cursor: _c, limit: _l, ...filter } = params;
    const rows = await list({
      ...filter,
      limit: limit + 1,
      ...(cursor ? { cursor } : {}),
    });
    const items = rows.slice(0, limit);
    if (items.length === 0 && cursor === undefined && params.groupId !== undefined) {
      // Nothing in a group that was merged away: say where its dead letters went.
      const alias = await this.store.groupAliasGet({ id: params.groupId });
      if (alias) throw new NotFoundError(`group "${params.groupId}" was merged into "${alias.targetId}"`);
    }
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor({ diedAt: last.diedAt, id: last.id }) : null,
    };
  }

  /** One dead letter with its whole context. */
  async getDeadLetter(id: string): Promise<DeadLetter> {
    const found = await this.store.deadLetterGet({ id });
    if (!found) throw new NotFoundError(`unknown dead letter "${id}"`);
    return found;
  }

  /** Groups of dead letters, by count (default) or last seen. */
  async listGroups(params: GroupListParams = {}): Promise<Group[]> {
    return this.store.groupList(this.groupListQuery(params));
  }

  /**
   * The groups {@link listGroups} returns, each as the JSON text of its `Group` built by the
   * store: what the API's group list route sends, without decoding rows.
   */
  async listGroupsJson(params: GroupListParams = {}): Promise<string[]> {
    return this.store.groupListJson(this.groupListQuery(params));
  }

  private groupListQuery(params: GroupListParams): Parameters<Store['groupList']>[0] {
    if (params.status !== undefined && !(GROUP_STATUSES as readonly string[]).includes(params.status)) {
      throw new ValidationError(`unknown group status "${params.status}": use ${GROUP_STATUSES.join(', ')}`);
    }
    if (params.tier !== undefined && !isTier(params.tier))
      throw new ValidationError(`unknown tier "${params.tier}"`);
    return { ...params, sort: params.sort ?? 'count', limit: params.limit ?? 100 };
  }

  async getGroup(id: string): Promise<Group> {
    const group = await this.store.groupGet({ id });
    if (group) return group;
    const alias = await this.store.groupAliasGet({ id });
    throw new NotFoundError(
      alias ? `group "${id}" was merged into "${alias.targetId}"` : `unknown group "${id}"`,
    );
  }

  /**
   * Merges groups into `target`: their dead letters move to it, its counts, times, queues and
   * sample take theirs in, and they leave the group list. Later failures that compute a merged
   * group's id land in `target` (an alias; a chain A into B, then B into C, sends A to C). The
   * target keeps its status. Replay history and tombstones keep the group id they had. Audited
   * (`group.merge`). `dryRun` reports the same result and changes nothing.
   */
  mergeGroups(
    target: string,
    sources: string[],
    options: ActorOptions & { dryRun?: boolean } = {},
  ): Promise<GroupMergeResult> {
    if (!Array.isArray(sources) || sources.some((s) => typeof s !== 'string' || s.length === 0)) {
      throw new ValidationError('sources must be group ids');
    }
    return this.store.groupMerge({
      target,
      sources,
      actor: this.actorOf(options),
      now: this.clock.now(),
      ...(options.dryRun !== undefined && { dryRun: options.dryRun }),
    });
  }

  /** The groups merged into a group (directly or through a chain), latest merge first. */
  async listMergedGroups(target: string): Promise<MergedGroup[]> {
    await this.getGroup(target);
    return this.store.groupListMerged({ target });
  }

  /**
   * Stores a fingerprint rule (data, applied in every process after the rules given in code;
   * see {@link StoredGroupRules}). Audited (`group_rule.create`). ValidationError for a bad
   * name, match (a regex that does not compile) or fingerprint; NotFoundError for an unknown
   * queue; ConflictError for a name in use.
   */
  async addGroupRule(input: GroupRuleInput, options: ActorOptions = {}): Promise<GroupRule> {
    const valid = validateGroupRuleInput(input);
    if (valid.queue !== null) await this.getQueue(valid.queue);
    const actor = this.actorOf(options);
    const rule = await this.store.groupRuleCreate({
      rule: { id: newId(), ...valid, createdAt: this.clock.now(), createdBy: actor },
      actor,
    });
    await this.groupRules.reload();
    return rule;
  }

  /** The stored fingerprint rules, in the order they are tried (oldest first). */
  listGroupRules(): Promise<GroupRule[]> {
    return this.store.groupRuleList();
  }

  /** Removes a stored fingerprint rule by id or name; audited (`group_rule.remove`). */
  async removeGroupRule(idOrName: string, options: ActorOptions = {}): Promise<GroupRule> {
    const rules = await this.store.groupRuleList();
    const rule = rules.find((r) => r.id === idOrName) ?? rules.find((r) => r.name === idOrName);
    if (!rule) throw new NotFoundError(`unknown group rule "${idOrName}"`);
    const removed = await this.store.groupRuleRemove({
      id: rule.id,
      actor: this.actorOf(options),
      now: this.clock.now(),
    });
    await this.groupRules.reload();
    return removed;
  }

  /**
   * Sets a group's triage status: acknowledged, resolved or ignored (or back to new). A change
   * is recorded in the audit log (`group.status`, from and to).
   */
  setGroupStatus(id: string, status: GroupStatus, options: ActorOptions = {}): Promise<Group> {
    if (!(GROUP_STATUSES as readonly string[]).includes(status) || status === 'regressed') {
      throw new ValidationError(
        `invalid group status "${status}": use new, acknowledged, resolved or ignored`,
      );
    }
    return this.store.groupStatusSet({ id, status, now: this.clock.now(), actor: this.actorOf(options) });
  }

  // ---- triage: audit log, discard, edit, documentation, doctor, review

  /** The audit log, newest first, with filters (action, actor, target, time) and cursor paging. */
  async listAudit(params: AuditListParams = {}): Promise<AuditPage> {
    return listAuditEntries(this.store, params);
  }

  /**
   * Discards the dead letters `filter` selects: each leaves a tombstone (id, queue, group,
   * tier, reason, who, when) and the audit log gets an entry per batch. A reason is required.
   * Everything is checked first and nothing changes on bad input: an empty filter or a filter
   * matching nothing, an unknown group or queue, an explicit id not in the DLQ (ValidationError
   * or NotFoundError). Discarding a whole group (`{ groupId }` alone) resolves it.
   * `dryRun` only describes what would go.
   */
  async discard(filter: DeadLetterFilter, options: DiscardOptions = {}): Promise<DiscardReport> {
    return discardDeadLetters(
      { store: this.store, clock: this.clock, actor: this.actorOf(options) },
      filter,
      options,
    );
  }

  /** The tombstone of a discarded dead letter; NotFoundError when the id was never discarded. */
  async getTombstone(id: string): Promise<Tombstone> {
    const tombstone = await this.store.tombstoneGet({ id });
    if (!tombstone) throw new NotFoundError(`no discarded dead letter "${id}"`);
    return tombstone;
  }

  /**
   * Replaces the body of one dead letter before replay; the original body and every edit are
   * kept (`originalBody`, `edits`) and the edit is audited (`dead_letter.edit`).
   */
  async editDeadLetter(id: string, body: Json, options: ActorOptions = {}): Promise<DeadLetterEditResult> {
    const maxBody = this.options.maxBodyBytes ?? 1024 * 1024;
    return editDeadLetterBody(
      {
        store: this.store,
        clock: this.clock,
        actor: this.actorOf(options),
        checkBody: (value) => checkBody(value, maxBody, ''),
      },
      id,
      body,
    );
  }

  /** A queue's DLQ documentation (every field null when none was set). NotFoundError for an unknown queue. */
  async getQueueDocs(queue: string): Promise<QueueDocs> {
    const [record, docs] = await Promise.all([
      this.store.queueGet({ name: queue }),
      this.store.queueDocsGet({ queue }),
    ]);
    if (!record) throw new NotFoundError(`unknown queue "${queue}"`);
    return (
      docs ?? {
        queue,
        owner: null,
        contact: null,
        source: null,
        purpose: null,
        failureMeaning: null,
        runbook: null,
        updatedAt: record.createdAt,
        updatedBy: '',
      }
    );
  }

  /**
   * Sets the given documentation fields of a queue's DLQ (others keep their value; `null` or
   * `''` clears one); audited as `queue.docs`. NotFoundError for an unknown queue.
   */
  async setQueueDocs(queue: string, docs: QueueDocsInput, options: ActorOptions = {}): Promise<QueueDocs> {
    const patch = resolveQueueDocs(docs);
    return this.store.queueDocsSet({ queue, patch, actor: this.actorOf(options), now: this.clock.now() });
  }

  /** Checks the deployment against the common DLQ failure patterns (see core/doctor.ts). */
  async doctor(): Promise<DoctorReport> {
    return gatherDoctor({ store: this.store, clock: this.clock });
  }

  /** What happened to each DLQ over a window (default the last 7 days); render it with `renderReviewMarkdown`. */
  async review(options: ReviewOptions = {}): Promise<ReviewReport> {
    return gatherReview({ store: this.store, clock: this.clock }, options);
  }

  // ---- retention and archives (retention-sweeper.ts, archive-file.ts, archive-import.ts)

  /** The retention sweeper: its maintenance service runs in the elected process; `sweepRetention` runs it now. */
  get retention(): RetentionSweeper {
    this.retentionSweeper ??= new RetentionSweeper({
      store: this.store,
      clock: this.clock,
      config: resolveRetentionSweeperConfig({
        ...this.options.retention,
        archiveDir: this.options.archiveDir,
      }),
    });
    return this.retentionSweeper;
  }

  /** The absolute path of the archive directory. */
  get archiveDir(): string {
    return this.retention.config.archiveDir;
  }

  /**
   * Archives expired dead letters now (one sweep; see {@link RetentionSweeper}); with `dryRun`,
   * counts them. The audit log records `system` unless `actor` says. `ConflictError` when
   * another process is sweeping.
   */
  sweepRetention(options: RetentionRunOptions = {}): Promise<RetentionSweepResult> {
    return this.retention.run(options);
  }

  /** The archive files, by queue and day, with their sizes and record counts. */
  listArchives(params: { queue?: string } = {}): Promise<ArchiveFileInfo[]> {
    return listArchiveFiles(this.archiveDir, params.queue);
  }

  /**
   * The records of an archive file, streamed: `file` is a path, or a name relative to the archive
   * directory as `listArchives` shows (`orders/2026-01-01.jsonl.gz`).
   */
  readArchive(file: string): AsyncGenerator<ArchiveRecord & { line: number }> {
    return readArchiveFile(locateArchiveFile(file, this.archiveDir));
  }

  /** Imports an archive file back (see `importArchive` in archive-import.ts); audited as `archive.import`. */
  importArchive(
    file: string,
    options: ActorOptions & { dryRun?: boolean; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<ArchiveImportResult> {
    return importArchive({
      store: this.store,
      clock: this.clock,
      path: locateArchiveFile(file, this.archiveDir),
      actor: this.actorOf(options),
      ...(options.dryRun !== undefined && { dryRun: options.dryRun }),
      ...(options.onProgress && { onProgress: options.onProgress }),
    });
  }

  // ---- replay (engine/replays.ts, replay-runner.ts, replay-service.ts)

  /**
   * What a replay of `filter` would do, changing nothing: how many, per group, tier and queue,
   * samples, the destination, how many were replayed before and how many the replay limit skips.
   */
  replayDryRun(filter: DeadLetterFilter, options: { to?: string } = {}): Promise<ReplayPlan> {
    return this.replays.dryRun(filter, options);
  }

  /**
   * Replays the dead letters `filter` selects, as a durable job (see {@link ReplayOptions}):
   * back to their source queue or to `to`, with the replay headers and their idempotency key,
   * skipping those at their queue's replay limit. Runs here until the job ends (completed,
   * stopped by its canary, paused, cancelled) unless `detach`. Bad input, an unknown
   * destination, an empty selection, or an explicit id that was discarded or already replayed
   * throw before anything changes.
   */
  replay(filter: DeadLetterFilter, options: ReplayOptions = {}): Promise<ReplayOutcome> {
    return this.replays.replay(filter, options);
  }

  /** A replay job; NotFoundError for an unknown id. */
  getReplayJob(id: string): Promise<ReplayJob> {
    return this.replays.get(id);
  }

  /** Replay jobs, newest first, optionally of some statuses. */
  listReplayJobs(
    params: { status?: ReplayJobStatus | ReplayJobStatus[]; limit?: number } = {},
  ): Promise<ReplayJob[]> {
    return this.replays.list(params);
  }

  /** The dead letters a job skipped and why (replay limit, duplicate key, gone). */
  listReplaySkips(id: string): Promise<ReplaySkip[]> {
    return this.replays.skips(id);
  }

  /** Pauses a replay job (its runner stops before its next batch); audited. */
  pauseReplay(id: string, options: ActorOptions = {}): Promise<ReplayJob> {
    return this.replays.pause(id, options);
  }

  /**
   * Resumes a paused job (audited) and runs it here unless `detach`; also takes over a job
   * whose runner died, once its hold has run out.
   */
  resumeReplay(id: string, options: ResumeOptions = {}): Promise<ReplayRunResult> {
    return this.replays.resume(id, options);
  }

  /** Cancels a replay job; what it replayed stays replayed. Audited. */
  cancelReplay(id: string, options: ActorOptions = {}): Promise<ReplayJob> {
    return this.replays.cancel(id, options);
  }

  /** The lineage neighbours of a dead letter, a replayed one, a message or a tombstone. */
  getLineage(id: string): Promise<DeadLetterLineage> {
    return this.replays.lineage(id);
  }

  /** A dead letter that was replayed (from the replay history), or undefined. */
  findReplayedDeadLetter(id: string): Promise<ReplayedDeadLetter | undefined> {
    return this.replays.findReplayed(id);
  }

  /** Stops every worker started from this handle (gracefully), then closes the store if this handle opened it. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.workers].map((worker) => worker.stop()));
    await this.maintenance?.stop();
    await this.replays.stop();
    await this.retentionSweeper?.stop();
    await this.sweeping?.catch(() => undefined);
    await this.groupRules.stop();
    const subscriptions = await Promise.all(this.listening.values());
    await Promise.allSettled(subscriptions.map((s) => s?.close()));
    if (this.ownsStore) await this.store.close();
  }

  // ---- internals

  /** The actor of a change: the call's, else the handle's `actor` option, else `library`. */
  private actorOf(options: ActorOptions): string {
    const actor = (options.actor ?? this.options.actor ?? 'library').trim();
    if (actor.length === 0 || actor.length > 200) {
      throw new ValidationError('invalid actor: use 1 to 200 characters');
    }
    return actor;
  }

  private rulesFor(queue: string): FailureRules {
    return {
      ...this.options.rules,
      ...this.options.queues?.[queue],
      storedFingerprintRules: () => this.groupRules.forQueue(queue),
    };
  }

  private async queueSettings(name: string): Promise<QueueRecord> {
    const cached = this.queueCache.get(name);
    const now = this.clock.now();
    if (cached && now - cached.at < 5_000) return cached.record;
    const record = await this.getQueue(name);
    this.queueCache.set(name, { record, at: now });
    return record;
  }

  /** On stores that can notify other processes, wakes this handle's workers when messages arrive from anywhere. */
  private listen(queue: string): void {
    const { store } = this;
    if (!store.capabilities.listenNotify || !store.queueListen || this.listening.has(queue)) return;
    this.listening.set(
      queue,
      store.queueListen({ queue, onAvailable: () => this.sent.emit(queue) }).catch((error: unknown) => {
        // Polling still works: a failed subscription only costs latency.
        console.error(`deadletter: cannot listen for messages of queue "${queue}":`, error);
        return undefined;
      }),
    );
  }

  private waitForSend(queue: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sent.off(queue, done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sent.on(queue, done);
    });
  }
}

/** When a dead letter that died at `diedAt` expires under `retentionDays` (0: never, null). */
function nextExpiryAt(diedAt: number | null, retentionDays: number): number | null {
  if (diedAt === null || retentionDays <= 0) return null;
  return diedAt + Math.round(retentionDays * 86_400_000);
}

function toNewMessageOptions(options: SendOptions): Omit<NewMessage, 'body'> {
  const out: Omit<NewMessage, 'body'> = {};
  if (options.headers !== undefined) out.headers = options.headers;
  if (options.idempotencyKey !== undefined) out.idempotencyKey = options.idempotencyKey;
  if (options.delay !== undefined) out.delayMs = parseDuration(options.delay, 'delay');
  return out;
}

/** Checks that a body is JSON within `maxBytes` and returns its JSON text. */
function checkBody(body: unknown, maxBytes: number, where: string): string {
  if (body === undefined) throw new ValidationError(`missing message body${where}`);
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch (error) {
    throw new ValidationError(`message body${where} is not JSON-serialisable: ${(error as Error).message}`);
  }
  if (text === undefined) throw new ValidationError(`message body${where} is not JSON-serialisable`);
  if (text.length > maxBytes && Buffer.byteLength(text) > maxBytes) {
    throw new ValidationError(
      `message body${where} is ${Buffer.byteLength(text)} bytes: the limit is ${maxBytes}`,
    );
  }
  return text;
}

function checkHeaders(headers: unknown, where: string): void {
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw new ValidationError(`headers${where} must be an object of strings`);
  }
  let size = 0;
  for (const [key, value] of Object.entries(headers)) {
    if (typeof value !== 'string') throw new ValidationError(`header "${key}"${where} must be a string`);
    size += key.length + value.length;
  }
  if (size > MAX_HEADER_BYTES) throw new ValidationError(`headers${where} exceed ${MAX_HEADER_BYTES} bytes`);
}
