import type { AuditEntry } from '../core/audit.ts';
import type { DeadLetter, DeadLetterSummary } from '../core/dead-letter.ts';
import type { DeadLetterBrief } from '../core/dead-letter-brief.ts';
import type { Tombstone } from '../core/discard.ts';
import type { DoctorReport } from '../core/doctor.ts';
import type { Group, GroupMergeResult, GroupStatus, MergedGroup } from '../core/group.ts';
import type { DeadLetterLineage } from '../core/lineage.ts';
import type { QueueDocs } from '../core/queue-docs.ts';
import type { QueueRecord } from '../core/queue-settings.ts';
import type { ReplayJob, ReplayPlan, ReplaySkip } from '../core/replay.ts';
import type { ReviewReport } from '../core/review.ts';
import type { Tier } from '../core/tier.ts';
import type { AlertRuleView, AlertView, QueueSample, QueueStats, Selector } from './model.ts';

/**
 * The dashboard's typed client of the HTTP API (`/api/...`). The token lives in
 * sessionStorage: it is gone when the tab closes, and never leaves this origin. Types are the
 * engine's own (type-only imports, erased at build): the API sends them as they are.
 */

export type {
  AlertRuleView,
  AlertView,
  AuditEntry,
  DeadLetter,
  DeadLetterBrief,
  DeadLetterLineage,
  DeadLetterSummary,
  DoctorReport,
  Group,
  GroupMergeResult,
  GroupStatus,
  MergedGroup,
  QueueDocs,
  QueueRecord,
  QueueSample,
  QueueStats,
  ReplayJob,
  ReplayPlan,
  ReplaySkip,
  ReviewReport,
  Selector,
  Tier,
  Tombstone,
};

export type Role = 'viewer' | 'operator' | 'admin';

/** Who the token is, as `GET /api/session` answers. */
export interface Session {
  name: string;
  role: Role;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** What a discard did, or with `dryRun` would do (the engine's `DiscardReport`). */
export interface DiscardReport {
  dryRun: boolean;
  reason: string | null;
  matched: number;
  discarded: number;
  skipped: number;
  byQueue: { queue: string; count: number }[];
  byGroup: { groupId: string; count: number }[];
  byTier: { tier: Tier; count: number }[];
  samples: DeadLetterSummary[];
  resolvedGroup: string | null;
}

/** An error the API answered with: its HTTP status and `{error: {code, message}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

const TOKEN_KEY = 'deadletter.token';

/** Called when the API refuses the token (401): the app goes back to the login screen. */
let onUnauthorized: () => void = () => undefined;

export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function storeToken(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage disabled: the token lives as long as the page.
  }
}

type QueryValue = string | number | boolean | string[] | undefined | null;

/** `?a=1&b=x&where=..&where=..`: undefined, null and empty values are left out. */
export function queryString(params: Record<string, QueryValue>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      if (key === 'ids') {
        if (value.length > 0) search.set(key, value.join(','));
      } else for (const item of value) if (item !== '') search.append(key, item);
    } else search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

async function request<T>(
  method: string,
  path: string,
  options: { query?: Record<string, QueryValue>; body?: unknown; token?: string } = {},
): Promise<T> {
  const token = options.token ?? storedToken();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${path}${options.query ? queryString(options.query) : ''}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(0, 'network', `the server cannot be reached (${(error as Error).message})`);
  }
  const text = await response.text();
  let payload: unknown;
  try {
    payload = text ? JSON.parse(text) : undefined;
  } catch {
    payload = undefined;
  }
  if (!response.ok) {
    const error = (payload as { error?: { code?: string; message?: string } } | undefined)?.error;
    const failure = new ApiError(
      response.status,
      error?.code ?? 'http',
      error?.message ?? `${method} ${path} answered ${response.status}`,
    );
    if (response.status === 401 && options.token === undefined) onUnauthorized();
    throw failure;
  }
  return payload as T;
}

/** The selector as the API's JSON body field. */
function selectorBody(selector: Selector): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(selector)) {
    if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) continue;
    out[key] = value;
  }
  return out;
}

export const api = {
  /** Checks a token without storing it. */
  session: (token?: string) => request<Session>('GET', '/api/session', token ? { token } : {}),
  stats: () => request<{ queues: QueueStats[] }>('GET', '/api/stats').then((r) => r.queues),
  queues: () => request<{ queues: QueueRecord[] }>('GET', '/api/queues').then((r) => r.queues),
  queue: (name: string) => request<QueueRecord>('GET', `/api/queues/${encodeURIComponent(name)}`),
  samples: (name: string, since: string) =>
    request<{ samples: QueueSample[] }>('GET', `/api/queues/${encodeURIComponent(name)}/samples`, {
      query: { since },
    }).then((r) => r.samples),
  queueDocs: (name: string) => request<QueueDocs>('GET', `/api/queues/${encodeURIComponent(name)}/docs`),
  setQueueDocs: (name: string, docs: Partial<Record<string, string | null>>) =>
    request<QueueDocs>('PUT', `/api/queues/${encodeURIComponent(name)}/docs`, { body: docs }),

  groups: (params: {
    queue?: string;
    status?: string;
    tier?: string;
    sort?: 'count' | 'last-seen' | 'first-seen';
    limit?: number;
  }) => request<{ groups: Group[] }>('GET', '/api/groups', { query: params }).then((r) => r.groups),
  group: (id: string) => request<Group>('GET', `/api/groups/${encodeURIComponent(id)}`),
  setGroupStatus: (id: string, status: Exclude<GroupStatus, 'regressed'>) =>
    request<Group>('POST', `/api/groups/${encodeURIComponent(id)}/status`, { body: { status } }),
  mergeGroups: (target: string, sources: string[], dryRun: boolean) =>
    request<GroupMergeResult>('POST', `/api/groups/${encodeURIComponent(target)}/merge`, {
      body: { sources, dryRun },
    }),
  mergedGroups: (id: string) =>
    request<{ groups: MergedGroup[] }>('GET', `/api/groups/${encodeURIComponent(id)}/merged`).then(
      (r) => r.groups,
    ),

  deadLetters: (selector: Selector, paging: { limit?: number; cursor?: string | null } = {}) =>
    request<Page<DeadLetterBrief>>('GET', '/api/dead-letters', {
      query: { ...selector, limit: paging.limit, cursor: paging.cursor },
    }),
  deadLetter: (id: string) => request<DeadLetter>('GET', `/api/dead-letters/${encodeURIComponent(id)}`),
  lineage: (id: string) =>
    request<DeadLetterLineage>('GET', `/api/dead-letters/${encodeURIComponent(id)}/lineage`),
  editDeadLetter: (id: string, body: unknown) =>
    request<{ deadLetter: DeadLetter }>('PUT', `/api/dead-letters/${encodeURIComponent(id)}/body`, {
      body: { body },
    }),

  audit: (params: {
    action?: string;
    actor?: string;
    target?: string;
    limit?: number;
    cursor?: string | null;
  }) => request<Page<AuditEntry>>('GET', '/api/audit', { query: params }),

  replayDryRun: (selector: Selector, to?: string) =>
    request<ReplayPlan>('POST', '/api/replays/dry-run', {
      body: { selector: selectorBody(selector), ...(to ? { to } : {}) },
    }),
  replayCreate: (
    selector: Selector,
    options: {
      to?: string;
      rate?: number;
      batchSize?: number;
      canary?: number;
      canaryMaxFailureRate?: number;
    },
  ) =>
    request<{ job: ReplayJob; plan: ReplayPlan }>('POST', '/api/replays', {
      body: { selector: selectorBody(selector), ...options },
    }),
  replayJobs: (limit = 50) =>
    request<{ jobs: ReplayJob[] }>('GET', '/api/replays', { query: { limit } }).then((r) => r.jobs),
  replayJob: (id: string) => request<ReplayJob>('GET', `/api/replays/${encodeURIComponent(id)}`),
  replaySkips: (id: string) =>
    request<{ skips: ReplaySkip[] }>('GET', `/api/replays/${encodeURIComponent(id)}/skips`).then(
      (r) => r.skips,
    ),
  replayAction: (id: string, action: 'pause' | 'resume' | 'cancel') =>
    request<ReplayJob>('POST', `/api/replays/${encodeURIComponent(id)}/${action}`, { body: {} }),

  discard: (selector: Selector, options: { reason?: string; dryRun: boolean }) =>
    request<DiscardReport>('POST', '/api/discards', {
      body: { selector: selectorBody(selector), ...options },
    }),

  alerts: (params: { state?: 'firing' | 'resolved'; limit?: number } = {}) =>
    request<{ alerts: AlertView[] }>('GET', '/api/alerts', { query: params }).then((r) => r.alerts),
  alertRules: () => request<{ rules: AlertRuleView[] }>('GET', '/api/alert-rules').then((r) => r.rules),
  createAlertRule: (rule: {
    name: string;
    queue: string | null;
    kind: AlertRuleView['kind'];
    threshold?: string | number;
    window?: string | null;
    cooldown?: string;
    renotify?: string;
    channels: { type: 'webhook' | 'slack' | 'log'; url?: string }[];
  }) => request<AlertRuleView>('POST', '/api/alert-rules', { body: rule }),
  updateAlertRule: (ref: string, changes: { enabled?: boolean; renotify?: string | null }) =>
    request<AlertRuleView>('PATCH', `/api/alert-rules/${encodeURIComponent(ref)}`, { body: changes }),
  removeAlertRule: (ref: string) =>
    request<AlertRuleView>('DELETE', `/api/alert-rules/${encodeURIComponent(ref)}`),

  doctor: () => request<DoctorReport>('GET', '/api/doctor'),
  review: (since?: string) => request<ReviewReport>('GET', '/api/review', { query: { since } }),
};
