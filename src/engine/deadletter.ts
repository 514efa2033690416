import { EventEmitter } from 'node:events';
import { type Clock, systemClock } from '../core/clock.ts';
import {
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterSummary,
  decodeCursor,
  encodeCursor,
} from '../core/dead-letter.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import { NotFoundError, ValidationError } from '../core/errors.ts';
import type { FailureRules } from '../core/failure-plan.ts';
import {
  GROUP_STATUSES,
  type Group,
  type GroupFilter,
  type GroupSort,
  type GroupStatus,
} from '../core/group.ts';
import { newId } from '../core/ids.ts';
import type { Json, NewMessage } from '../core/message.ts';
import {
  QUEUE_DEFAULTS,
  type QueueRecord,
  type QueueSettingsInput,
  resolveQueueSettings,
  validateQueueName,
} from '../core/queue-settings.ts';
import { isTier } from '../core/tier.ts';
import { openStore } from '../store/open.ts';
import type { MessageInsert, MessageInsertResult, MessageRecord, QueueStats, Store } from '../store/store.ts';
import { type LeaseSweepResult, sweepExpiredLeases } from './lease-sweeper.ts';
import { type MaintenanceOptions, MaintenanceRunner, type MaintenanceService } from './maintenance.ts';
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
    | (MaintenanceOptions & { leaseSweepInterval?: Duration; services?: MaintenanceService[] });
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
  private readonly listening = new Map<string, Promise<{ close: () => Promise<void> } | undefined>>();

  private constructor(store: Store, ownsStore: boolean, options: DeadletterOptions) {
    this.store = store;
    this.ownsStore = ownsStore;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.sent.setMaxListeners(0);
  }

  /**
   * Opens a store (initialising a brand-new empty SQLite file; an existing store with an older
   * schema must be migrated explicitly with `dlq migrate`).
   */
  static async open(options: DeadletterOptions = {}): Promise<Deadletter> {
    if (typeof options.store === 'object') return new Deadletter(options.store, false, options);
    const store = await openStore(options.store ?? 'sqlite:./.deadletter/deadletter.db', { migrate: true });
    return new Deadletter(store, true, options);
  }

  // ---- queues

  /** Creates a queue; settings not given take the defaults (5 receives, 30 s lease, exponential backoff, DLQ on, 14 days). */
  async createQueue(name: string, settings: QueueSettingsInput = {}): Promise<QueueRecord> {
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
        createdAt: now,
        updatedAt: now,
      },
    });
    this.queueCache.set(name, { record, at: now });
    return record;
  }

  /** Creates the queue if it does not exist; an existing queue keeps its settings. */
  async ensureQueue(name: string, settings: QueueSettingsInput = {}): Promise<QueueRecord> {
    const existing = await this.store.queueGet({ name });
    return existing ?? this.createQueue(name, settings);
  }

  /** Changes the given settings of a queue. */
  async updateQueue(name: string, settings: QueueSettingsInput): Promise<QueueRecord> {
    const patch = resolveQueueSettings(settings);
    const record = await this.store.queueUpdate({ name, patch, now: this.clock.now() });
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
      checkBody(message.body, maxBody, where);
      const headers = message.headers ?? {};
      checkHeaders(headers, where);
      const key = message.idempotencyKey ?? null;
      if (key !== null && (typeof key !== 'string' || key.length === 0 || key.length > 256)) {
        throw new ValidationError(`invalid idempotency key${where}: use a string of 1-256 characters`);
      }
      const delayMs = message.delayMs ?? 0;
      if (!Number.isFinite(delayMs) || delayMs < 0) throw new ValidationError(`invalid delay${where}`);
      return { id: newId(), body: message.body, headers, idempotencyKey: key, visibleAt: now + delayMs };
    });
    if (inserts.length === 0) return [];
    const results = await this.store.messageInsertBatch({ queue, messages: inserts, now });
    this.sent.emit(queue);
    return results;
  }

  /** A live or done message by id. */
  async getMessage(id: string): Promise<MessageRecord> {
    const message = await this.store.messageGet({ id });
    if (!message) throw new NotFoundError(`unknown message "${id}"`);
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
      this.maintenance = new MaintenanceRunner(
        this.store,
        this.clock,
        [
          {
            name: 'lease-expiry sweep',
            intervalMs: parseDuration(options.leaseSweepInterval ?? 1_000, 'lease sweep interval'),
            run: () => this.sweepExpiredLeases(),
          },
          ...(options.services ?? []),
        ],
        options,
      );
    }
    this.maintenance.start();
    return this.maintenance;
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
  async listDeadLetters(params: DeadLetterListParams = {}): Promise<DeadLetterPage> {
    const limit = params.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new ValidationError(`invalid limit ${limit}: use 1 to 1000`);
    }
    if (params.tier !== undefined && !isTier(params.tier))
      throw new ValidationError(`unknown tier "${params.tier}"`);
    const cursor = params.cursor ? decodeCursor(params.cursor) : undefined;
    const { cursor: _c, limit: _l, ...filter } = params;
    const rows = await this.store.deadLetterList({
      ...filter,
      limit: limit + 1,
      ...(cursor ? { cursor } : {}),
    });
    const items = rows.slice(0, limit);
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
  listGroups(
    params: GroupFilter & { sort?: GroupSort; limit?: number; offset?: number } = {},
  ): Promise<Group[]> {
    if (params.status !== undefined && !(GROUP_STATUSES as readonly string[]).includes(params.status)) {
      throw new ValidationError(`unknown group status "${params.status}": use ${GROUP_STATUSES.join(', ')}`);
    }
    if (params.tier !== undefined && !isTier(params.tier))
      throw new ValidationError(`unknown tier "${params.tier}"`);
    return this.store.groupList({ ...params, sort: params.sort ?? 'count', limit: params.limit ?? 100 });
  }

  async getGroup(id: string): Promise<Group> {
    const group = await this.store.groupGet({ id });
    if (!group) throw new NotFoundError(`unknown group "${id}"`);
    return group;
  }

  /** Sets a group's triage status: acknowledged, resolved or ignored (or back to new). */
  setGroupStatus(id: string, status: GroupStatus): Promise<Group> {
    if (!(GROUP_STATUSES as readonly string[]).includes(status) || status === 'regressed') {
      throw new ValidationError(
        `invalid group status "${status}": use new, acknowledged, resolved or ignored`,
      );
    }
    return this.store.groupStatusSet({ id, status, now: this.clock.now() });
  }

  /** Stops every worker started from this handle (gracefully), then closes the store if this handle opened it. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.workers].map((worker) => worker.stop()));
    await this.maintenance?.stop();
    await this.sweeping?.catch(() => undefined);
    const subscriptions = await Promise.all(this.listening.values());
    await Promise.allSettled(subscriptions.map((s) => s?.close()));
    if (this.ownsStore) await this.store.close();
  }

  // ---- internals

  private rulesFor(queue: string): FailureRules {
    return { ...this.options.rules, ...this.options.queues?.[queue] };
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

function checkBody(body: unknown, maxBytes: number, where: string): void {
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
