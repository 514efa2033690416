import type { DeadLetter } from '../core/dead-letter.ts';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.ts';
import type { Group, GroupStatus } from '../core/group.ts';
import type { NewMessage } from '../core/message.ts';
import { formatBackoff, type QueueRecord, type QueueSettingsInput } from '../core/queue-settings.ts';
import type {
  DeadLetterListParams,
  DeadLetterPage,
  Deadletter,
  QueueStatsReport,
} from '../engine/deadletter.ts';
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
>;

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

  getGroup(id: string): Promise<Group> {
    return this.request('GET', `/api/groups/${encodeURIComponent(id)}`);
  }

  setGroupStatus(id: string, status: GroupStatus): Promise<Group> {
    return this.request('POST', `/api/groups/${encodeURIComponent(id)}/status`, { body: { status } });
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
  return body;
}
