import type { AlertRule, AlertState } from '../core/alert.ts';
import type { DeadLetter, DeadLetterFilter } from '../core/dead-letter.ts';
import type { DoctorReport } from '../core/doctor.ts';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.ts';
import type { Group, GroupMergeResult, GroupStatus, MergedGroup } from '../core/group.ts';
import type { GroupRule, GroupRuleInput } from '../core/group-rule.ts';
import type { DeadLetterLineage } from '../core/lineage.ts';
import type { Json, NewMessage } from '../core/message.ts';
import type { QueueDocs, QueueDocsInput } from '../core/queue-docs.ts';
import { formatBackoff, type QueueRecord, type QueueSettingsInput } from '../core/queue-settings.ts';
import {
  isFinalReplayStatus,
  type ReplayJob,
  type ReplayJobStatus,
  type ReplayPlan,
  type ReplaySkip,
} from '../core/replay.ts';
import type { ReviewReport } from '../core/review.ts';
import type { AlertHistoryEntry, AlertRuleChanges, AlertRuleInput } from '../engine/alerts.ts';
import type { ApiTokenInfo, CreatedApiToken } from '../engine/api-tokens.ts';
import type { ArchiveImportResult } from '../engine/archive-import.ts';
import type { AuditListParams, AuditPage } from '../engine/audit-listing.ts';
import type { DeadLetterEditResult } from '../engine/dead-letter-edit.ts';
import type {
  DeadLetterListParams,
  DeadLetterPage,
  Deadletter,
  QueueStatsReport,
} from '../engine/deadletter.ts';
import type { DiscardOptions, DiscardReport } from '../engine/discard.ts';
import type { ReplayRunResult } from '../engine/replay-runner.ts';
import type { ReplayOptions, ReplayOutcome, ResumeOptions } from '../engine/replays.ts';
import type { RetentionRunOptions, RetentionSweepResult } from '../engine/retention-sweeper.ts';
import type { ReviewOptions } from '../engine/review.ts';
import type { MessageInsertResult } from '../store/store.ts';

/**
 * The part of the library handle that the CLI's commands can also reach through a running
 * server (`--server URL --token T`): {@link Deadletter} and {@link ApiClient} both provide it,
 * so a command is written once against it.
 */
export type DeadletterApi = Pick<
  Deadletter,
  | 'listQueues'
  | 'createQueue'
  | 'updateQueue'
  | 'stats'
  | 'sendBatch'
  | 'listDeadLetters'
  | 'getDeadLetter'
  | 'listGroups'
  | 'getGroup'
  | 'setGroupStatus'
  | 'getLineage'
  | 'mergeGroups'
  | 'listMergedGroups'
  | 'addGroupRule'
  | 'listGroupRules'
  | 'removeGroupRule'
  | 'editDeadLetter'
  | 'getQueueDocs'
  | 'setQueueDocs'
  | 'listAudit'
  | 'doctor'
  | 'review'
  | 'discard'
  | 'replayDryRun'
  | 'replay'
  | 'getReplayJob'
  | 'listReplayJobs'
  | 'listReplaySkips'
  | 'pauseReplay'
  | 'resumeReplay'
  | 'cancelReplay'
  | 'sweepRetention'
  | 'importArchive'
>;

/**
 * The admin calls the CLI makes through the server or, locally, through {@link LocalAdmin}
 * (src/cli/local-admin.ts): alert rules, the alert history and API tokens.
 */
export type AdminApi = Pick<
  ApiClient,
  | 'listAlertRules'
  | 'addAlertRule'
  | 'updateAlertRule'
  | 'removeAlertRule'
  | 'listAlertHistory'
  | 'listTokens'
  | 'createToken'
  | 'revokeToken'
>;

/** An archive file as the API lists it: its name (`orders/2026-01-01.jsonl.gz`), not a path. */
export interface RemoteArchiveFile {
  file: string;
  queue: string;
  day: string;
  records: number;
  bytes: number;
}

/** How often a foreground replay through a server polls its job. */
export const REPLAY_POLL_MS = 500;

/** Where a server is and the token to call it with. */
export interface ServerTarget {
  /** Base URL, e.g. `http://127.0.0.1:7070` (no trailing slash needed). */
  url: string;
  token: string;
}

type Query = Record<string, string | number | string[] | undefined>;

/**
 * A small client of the HTTP API for the CLI: the same calls as the library handle, over
 * `fetch`. The audit log records the token's name as the actor, whatever `--actor` says.
 * HTTP errors come back as the engine's errors, so exit codes stay the same: 404 →
 * NotFoundError, 409 → ConflictError, 400/422 and a refused token (401/403) → ValidationError
 * (exit 2); 429, 5xx and an unreachable server → Error (exit 1).
 */
export class ApiClient implements DeadletterApi {
  private readonly base: string;
  private readonly token: string;

  constructor(target: ServerTarget) {
    this.base = target.url.replace(/\/+$/, '');
    this.token = target.token;
  }

  async listQueues(): Promise<QueueRecord[]> {
    return (await this.request<{ queues: QueueRecord[] }>('GET', '/api/queues')).queues;
  }

  createQueue(name: string, settings: QueueSettingsInput = {}): Promise<QueueRecord> {
    return this.request('POST', '/api/queues', { body: { name, ...settingsBody(settings) } });
  }

  updateQueue(name: string, settings: QueueSettingsInput): Promise<QueueRecord> {
    return this.request('PATCH', `/api/queues/${encodeURIComponent(name)}`, { body: settingsBody(settings) });
  }

  async stats(): Promise<QueueStatsReport[]> {
    return (await this.request<{ queues: QueueStatsReport[] }>('GET', '/api/stats')).queues;
  }

  async sendBatch(queue: string, messages: NewMessage[]): Promise<MessageInsertResult[]> {
    const body = {
      messages: messages.map((m) => ({
        body: m.body,
        ...(m.headers === undefined ? {} : { headers: m.headers }),
        ...(m.idempotencyKey === undefined ? {} : { idempotencyKey: m.idempotencyKey }),
        ...(m.delayMs === undefined ? {} : { delay: m.delayMs }),
      })),
    };
    const path = `/api/queues/${encodeURIComponent(queue)}/messages`;
    return (await this.request<{ results: MessageInsertResult[] }>('POST', path, { body })).results;
  }

  listDeadLetters(params: DeadLetterListParams = {}): Promise<DeadLetterPage> {
    return this.request('GET', '/api/dead-letters', {
      query: {
        queue: params.queue,
        tier: params.tier,
        group: params.groupId,
        since: isoOf(params.since),
        until: isoOf(params.until),
        grep: params.grep,
        // A value is sent as JSON, so that the string "42" stays a string on the other side.
        where: params.where?.map((w) => `body.${w.path.join('.')}=${JSON.stringify(w.value)}`),
        ids: params.ids?.join(','),
        limit: params.limit,
        cursor: params.cursor,
        // The whole summary, as the library's listDeadLetters returns (the API's default is brief).
        fields: 'full',
      },
    });
  }

  getDeadLetter(id: string): Promise<DeadLetter> {
    return this.request('GET', `/api/dead-letters/${encodeURIComponent(id)}`);
  }

  async listGroups(params: Parameters<Deadletter['listGroups']>[0] = {}): Promise<Group[]> {
    const query = {
      queue: params.queue,
      status: params.status,
      tier: params.tier,
      sort: params.sort === 'lastSeen' ? 'last-seen' : params.sort,
      limit: params.limit,
      offset: params.offset,
    };
    return (await this.request<{ groups: Group[] }>('GET', '/api/groups', { query })).groups;
  }

  getLineage(id: string): Promise<DeadLetterLineage> {
    return this.request('GET', `/api/dead-letters/${encodeURIComponent(id)}/lineage`);
  }

  getGroup(id: string): Promise<Group> {
    return this.request('GET', `/api/groups/${encodeURIComponent(id)}`);
  }

  setGroupStatus(id: string, status: GroupStatus): Promise<Group> {
    return this.request('POST', `/api/groups/${encodeURIComponent(id)}/status`, { body: { status } });
  }

  mergeGroups(
    target: string,
    sources: string[],
    options: { dryRun?: boolean } = {},
  ): Promise<GroupMergeResult> {
    return this.request('POST', `/api/groups/${encodeURIComponent(target)}/merge`, {
      body: { sources, ...(options.dryRun !== undefined && { dryRun: options.dryRun }) },
    });
  }

  async listMergedGroups(target: string): Promise<MergedGroup[]> {
    const path = `/api/groups/${encodeURIComponent(target)}/merged`;
    return (await this.request<{ groups: MergedGroup[] }>('GET', path)).groups;
  }

  addGroupRule(input: GroupRuleInput): Promise<GroupRule> {
    return this.request('POST', '/api/group-rules', { body: input });
  }

  async listGroupRules(): Promise<GroupRule[]> {
    return (await this.request<{ rules: GroupRule[] }>('GET', '/api/group-rules')).rules;
  }

  removeGroupRule(idOrName: string): Promise<GroupRule> {
    return this.request('DELETE', `/api/group-rules/${encodeURIComponent(idOrName)}`);
  }

  async editDeadLetter(id: string, body: Json): Promise<DeadLetterEditResult> {
    return this.request('PUT', `/api/dead-letters/${encodeURIComponent(id)}/body`, { body: { body } });
  }

  getQueueDocs(queue: string): Promise<QueueDocs> {
    return this.request('GET', `/api/queues/${encodeURIComponent(queue)}/docs`);
  }

  setQueueDocs(queue: string, docs: QueueDocsInput): Promise<QueueDocs> {
    return this.request('PUT', `/api/queues/${encodeURIComponent(queue)}/docs`, { body: docs });
  }

  listAudit(params: AuditListParams = {}): Promise<AuditPage> {
    return this.request('GET', '/api/audit', {
      query: {
        action: params.action,
        actor: params.actor,
        target: params.targetId,
        since: isoOf(params.since),
        until: isoOf(params.until),
        limit: params.limit,
        cursor: params.cursor,
      },
    });
  }

  doctor(): Promise<DoctorReport> {
    return this.request('GET', '/api/doctor');
  }

  review(options: ReviewOptions = {}): Promise<ReviewReport> {
    return this.request('GET', '/api/review', {
      query: { since: isoOf(options.since), until: isoOf(options.until) },
    });
  }

  /** A discard or its dry run; the server discards in its own batches (`batchSize` and progress are local only). */
  discard(filter: DeadLetterFilter, options: DiscardOptions = {}): Promise<DiscardReport> {
    return this.request('POST', '/api/discards', {
      body: {
        selector: selectorBody(filter),
        ...(options.reason !== undefined && { reason: options.reason }),
        ...(options.dryRun !== undefined && { dryRun: options.dryRun }),
      },
    });
  }

  replayDryRun(filter: DeadLetterFilter, options: { to?: string } = {}): Promise<ReplayPlan> {
    return this.request('POST', '/api/replays/dry-run', {
      body: { selector: selectorBody(filter), ...(options.to !== undefined && { to: options.to }) },
    });
  }

  /**
   * Creates a replay job on the server (its replay runner runs it). With `detach` the job is
   * returned at once (`pending`); else it is followed by polling until it ends or pauses,
   * calling `onProgress`; aborting `signal` pauses it (as Ctrl-C does in the foreground).
   */
  async replay(filter: DeadLetterFilter, options: ReplayOptions = {}): Promise<ReplayOutcome> {
    const body: Record<string, unknown> = { selector: selectorBody(filter) };
    if (options.to !== undefined) body.to = options.to;
    if (options.rate !== undefined) body.rate = options.rate;
    if (options.batchSize !== undefined) body.batchSize = options.batchSize;
    if (options.canary !== undefined) body.canary = options.canary;
    if (options.canaryMaxFailureRate !== undefined) body.canaryMaxFailureRate = options.canaryMaxFailureRate;
    if (options.canaryTimeout !== undefined) body.canaryTimeout = options.canaryTimeout;
    const created = await this.request<{ job: ReplayJob; plan: ReplayPlan }>('POST', '/api/replays', {
      body,
    });
    if (options.detach === true) return { job: created.job, plan: created.plan, skipped: [] };
    return { ...(await this.follow(created.job, options)), plan: created.plan };
  }

  getReplayJob(id: string): Promise<ReplayJob> {
    return this.request('GET', `/api/replays/${encodeURIComponent(id)}`);
  }

  async listReplayJobs(
    params: { status?: ReplayJobStatus | ReplayJobStatus[]; limit?: number } = {},
  ): Promise<ReplayJob[]> {
    const query = { status: params.status, limit: params.limit };
    return (await this.request<{ jobs: ReplayJob[] }>('GET', '/api/replays', { query })).jobs;
  }

  async listReplaySkips(id: string): Promise<ReplaySkip[]> {
    const path = `/api/replays/${encodeURIComponent(id)}/skips`;
    return (await this.request<{ skips: ReplaySkip[] }>('GET', path)).skips;
  }

  pauseReplay(id: string): Promise<ReplayJob> {
    return this.request('POST', `/api/replays/${encodeURIComponent(id)}/pause`, { body: {} });
  }

  cancelReplay(id: string): Promise<ReplayJob> {
    return this.request('POST', `/api/replays/${encodeURIComponent(id)}/cancel`, { body: {} });
  }

  /** Resumes a paused job on the server; followed as {@link replay} does unless `detach`. */
  async resumeReplay(id: string, options: ResumeOptions = {}): Promise<ReplayRunResult> {
    const job = await this.request<ReplayJob>('POST', `/api/replays/${encodeURIComponent(id)}/resume`, {
      body: {},
    });
    if (options.detach === true) return { job, skipped: [] };
    return this.follow(job, options);
  }

  /** Polls a job until it is final or paused; aborting `signal` pauses it and keeps following. */
  private async follow(
    start: ReplayJob,
    options: Pick<ReplayOptions, 'onProgress' | 'signal'>,
  ): Promise<ReplayRunResult> {
    let job = start;
    let pausing = false;
    for (;;) {
      options.onProgress?.(job, []);
      if (isFinalReplayStatus(job.status) || job.status === 'paused') break;
      if (options.signal?.aborted && !pausing) {
        pausing = true;
        job = await this.pauseReplay(job.id).catch((error: unknown) => {
          // It ended meanwhile: what it ended as is read below.
          if (error instanceof ConflictError) return job;
          throw error;
        });
        continue;
      }
      await sleep(REPLAY_POLL_MS, options.signal && !pausing ? options.signal : undefined);
      job = await this.getReplayJob(job.id);
    }
    return { job, skipped: job.skipped > 0 ? await this.listReplaySkips(job.id) : [] };
  }

  /** One sweep on the server (its archive directory); progress is not reported. */
  sweepRetention(options: RetentionRunOptions = {}): Promise<RetentionSweepResult> {
    return this.request('POST', '/api/retention/run', {
      body: {
        ...(options.dryRun === true && { dryRun: true }),
        ...(options.queue !== undefined && { queue: options.queue }),
      },
    });
  }

  /** Imports one of the server's archive files, named as {@link listArchives} names it. */
  importArchive(file: string, options: { dryRun?: boolean } = {}): Promise<ArchiveImportResult> {
    return this.request('POST', '/api/archives/import', {
      body: { file, ...(options.dryRun === true && { dryRun: true }) },
    });
  }

  /** The server's archive files. */
  async listArchives(params: { queue?: string } = {}): Promise<RemoteArchiveFile[]> {
    const query = { queue: params.queue };
    return (await this.request<{ files: RemoteArchiveFile[] }>('GET', '/api/archives', { query })).files;
  }

  /** The records of one of the server's archive files, a page at a time, in file order. */
  async *readArchive(file: string, pageSize = 1000): AsyncGenerator<Record<string, unknown>> {
    let offset: number | null = 0;
    while (offset !== null) {
      const page: { records: Record<string, unknown>[]; nextOffset: number | null } = await this.request(
        'GET',
        `/api/archives/${encodeURIComponent(file)}`,
        { query: { offset, limit: pageSize } },
      );
      yield* page.records;
      offset = page.nextOffset;
    }
  }

  // ---- alert rules, alert history and tokens (admin; engine/alerts.ts and api-tokens.ts locally)

  async listAlertRules(): Promise<AlertRule[]> {
    return (await this.request<{ rules: AlertRule[] }>('GET', '/api/alert-rules')).rules;
  }

  addAlertRule(input: AlertRuleInput): Promise<AlertRule> {
    return this.request('POST', '/api/alert-rules', { body: input });
  }

  updateAlertRule(ref: string, changes: AlertRuleChanges): Promise<AlertRule> {
    return this.request('PATCH', `/api/alert-rules/${encodeURIComponent(ref)}`, { body: changes });
  }

  removeAlertRule(ref: string): Promise<AlertRule> {
    return this.request('DELETE', `/api/alert-rules/${encodeURIComponent(ref)}`);
  }

  async listAlertHistory(params: { state?: AlertState; limit?: number }): Promise<AlertHistoryEntry[]> {
    const query = { state: params.state, limit: params.limit };
    return (await this.request<{ alerts: AlertHistoryEntry[] }>('GET', '/api/alerts', { query })).alerts;
  }

  async listTokens(): Promise<ApiTokenInfo[]> {
    return (await this.request<{ tokens: ApiTokenInfo[] }>('GET', '/api/tokens')).tokens;
  }

  createToken(params: { name: string; role: string }): Promise<CreatedApiToken> {
    return this.request('POST', '/api/tokens', { body: { name: params.name, role: params.role } });
  }

  revokeToken(name: string): Promise<ApiTokenInfo> {
    return this.request('DELETE', `/api/tokens/${encodeURIComponent(name)}`);
  }

  private async request<T>(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown } = {},
  ): Promise<T> {
    const url = new URL(this.base + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(item));
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: 'application/json',
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (cause) {
      const reason =
        cause instanceof Error
          ? ((cause.cause as Error | undefined)?.message ?? cause.message)
          : String(cause);
      throw new Error(`cannot reach the server at ${this.base}: ${reason}`, { cause });
    }
    const text = await response.text();
    if (response.ok) return JSON.parse(text) as T;
    throw errorOf(response.status, text, `${method} ${url.pathname}`);
  }
}

/** An HTTP error as the engine's error of the same meaning (see the class comment). */
function errorOf(status: number, text: string, what: string): Error {
  let message = `${what} answered ${status}`;
  try {
    const body = JSON.parse(text) as { error?: { message?: string } };
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    // Not our JSON (a proxy's page): keep the status line.
  }
  if (status === 404) return new NotFoundError(message);
  if (status === 409) return new ConflictError(message);
  if (status === 401 || status === 403)
    return new ValidationError(`the server refused the token: ${message}`);
  if (status === 400 || status === 413 || status === 415 || status === 422)
    return new ValidationError(message);
  return new Error(`the server failed (${status}): ${message}`);
}

/** A selection as the API's JSON selector takes it (times as ISO, `where` values as JSON). */
export function selectorBody(filter: DeadLetterFilter): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (filter.queue !== undefined) body.queue = filter.queue;
  if (filter.tier !== undefined) body.tier = filter.tier;
  if (filter.groupId !== undefined) body.group = filter.groupId;
  if (filter.since !== undefined) body.since = isoOf(filter.since);
  if (filter.until !== undefined) body.until = isoOf(filter.until);
  if (filter.grep !== undefined) body.grep = filter.grep;
  if (filter.where !== undefined) {
    body.where = filter.where.map((w) => `body.${w.path.join('.')}=${JSON.stringify(w.value)}`);
  }
  if (filter.ids !== undefined) body.ids = filter.ids;
  return body;
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function isoOf(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Queue settings as the API takes them (durations as strings or milliseconds, backoff as text). */
function settingsBody(settings: QueueSettingsInput): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (settings.maxReceives !== undefined) body.maxReceives = settings.maxReceives;
  if (settings.visibilityTimeout !== undefined) body.visibilityTimeout = settings.visibilityTimeout;
  if (settings.backoff !== undefined) {
    body.backoff = typeof settings.backoff === 'string' ? settings.backoff : formatBackoff(settings.backoff);
  }
  if (settings.deadLetter !== undefined) body.deadLetter = settings.deadLetter;
  if (settings.retention !== undefined) body.retention = settings.retention;
  else if (settings.retentionDays !== undefined) body.retention = `${settings.retentionDays}d`;
  if (settings.replayLimit !== undefined) body.replayLimit = settings.replayLimit;
  if (settings.doneRetention !== undefined) body.doneRetention = settings.doneRetention;
  return body;
}
