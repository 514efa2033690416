import { afterEach, beforeEach, expect } from 'vitest';
import type { FailureInfo } from '../../core/failure.ts';
import type { Attempt, ClaimedMessage, Json, WorkerIdentity } from '../../core/message.ts';
import type { QueueRecord } from '../../core/queue-settings.ts';
import type { Tier } from '../../core/tier.ts';
import type { DeathRecord, MessageInsert, QueueStats, Store } from '../store.ts';

/** What a conformance factory returns: a store on a fresh, migrated database and how to dispose of it. */
export interface StoreUnderTest {
  store: Store;
  cleanup: () => Promise<void>;
}

/** Creates a store on a fresh, empty, migrated database; called once per test. */
export type StoreFactory = () => Promise<StoreUnderTest>;

/** Gives each test its own store: `ctx.store` inside an `it`. */
export interface StoreContext {
  readonly store: Store;
}

/** Registers beforeEach/afterEach hooks that open and dispose of a store per test. */
export function useStore(factory: StoreFactory): StoreContext {
  let current: StoreUnderTest | undefined;
  beforeEach(async () => {
    current = await factory();
  });
  afterEach(async () => {
    const done = current;
    current = undefined;
    if (done) {
      await done.store.close();
      await done.cleanup();
    }
  });
  return {
    get store(): Store {
      if (!current) throw new Error('the store is only available inside a test');
      return current.store;
    },
  };
}

/** A fixed start time: tests pass explicit times and never sleep. */
export const T0 = Date.UTC(2026, 0, 1);

/** The worker identity the suite claims with. */
export const WORKER: WorkerIdentity = { workerId: 'worker-1', workerVersion: '1.2.3', host: 'host-a' };
/** A second worker, for leases taken over by someone else. */
export const OTHER_WORKER: WorkerIdentity = { workerId: 'worker-2', workerVersion: '1.2.4', host: 'host-b' };

/** A queue record with defaults; `overrides` win. */
export function queueRecord(name: string, overrides: Partial<QueueRecord> = {}): QueueRecord {
  return {
    name,
    maxReceives: 5,
    visibilityTimeoutMs: 30_000,
    backoff: { type: 'exponential', baseMs: 1_000, capMs: 300_000 },
    deadLetter: true,
    retentionDays: 14,
    replayLimit: 3,
    doneRetentionMs: 3_600_000,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

/** Creates queues with default settings. */
export async function createQueues(store: Store, ...names: string[]): Promise<void> {
  for (const name of names) await store.queueCreate({ queue: queueRecord(name) });
}

let idCounter = 0;

/**
 * A new message id. Ids increase with every call (like the UUIDv7 ids the engine makes),
 * so "insertion order" and "id order" agree for any store.
 */
export function nextId(prefix = 'msg'): string {
  idCounter += 1;
  return `${prefix}-${String(idCounter).padStart(8, '0')}`;
}

/** A message to insert, visible at `visibleAt` (default `T0`). */
export function message(overrides: Partial<MessageInsert> = {}): MessageInsert {
  return {
    id: nextId(),
    body: { order: 42, items: ['a', 'b'], note: 'ünïcødé ✓' },
    headers: { 'content-type': 'application/json' },
    idempotencyKey: null,
    visibleAt: T0,
    ...overrides,
  };
}

/** Inserts `count` default messages (visible at `now`) and returns their ids in order. */
export async function send(store: Store, queue: string, count: number, now = T0): Promise<string[]> {
  const messages = Array.from({ length: count }, () => message({ visibleAt: now }));
  const results = await store.messageInsertBatch({ queue, messages, now });
  return results.map((r) => r.id);
}

/** Claims up to `limit` messages with a 30 s lease. */
export function claim(
  store: Store,
  queue: string,
  now: number,
  limit = 10,
  worker: WorkerIdentity = WORKER,
): Promise<ClaimedMessage[]> {
  return store.messageClaim({ queue, limit, now, leaseMs: 30_000, worker });
}

/** Claims exactly one message and fails the test otherwise. */
export async function claimOne(store: Store, queue: string, now: number): Promise<ClaimedMessage> {
  const claimed = await claim(store, queue, now, 1);
  expect(claimed).toHaveLength(1);
  return claimed[0] as ClaimedMessage;
}

/** A failed attempt of a claimed message. */
export function attemptOf(claimed: ClaimedMessage, startedAt: number, error: FailureInfo): Attempt {
  return { ...WORKER, number: claimed.receives, startedAt, durationMs: 12, error };
}

/** What a death in group `groupId` looks like. */
export function deathRecord(
  groupId: string,
  options: { tier?: Tier; name?: string; message?: string; error?: FailureInfo } = {},
): DeathRecord {
  const error: FailureInfo = options.error ?? {
    name: options.name ?? 'TypeError',
    message: options.message ?? `Cannot read properties of undefined (${groupId})`,
    stack: `${options.name ?? 'TypeError'}: boom\n    at handle (src/handler.ts:10:5)`,
  };
  return {
    tier: options.tier ?? 'permanent',
    error,
    fingerprint: `fp-${groupId}`,
    groupId,
    normalizedMessage: `normalised ${groupId}`,
  };
}

/** Options of {@link killOne}. */
export interface KillSpec {
  queue: string;
  diedAt: number;
  groupId?: string;
  tier?: Tier;
  name?: string;
  message?: string;
  body?: Json;
  id?: string;
}

/**
 * Sends one message, claims it and dead-letters it at `diedAt`. The queue must hold no other
 * visible waiting message. Returns the id of the dead letter.
 */
export async function killOne(store: Store, spec: KillSpec): Promise<string> {
  const id = spec.id ?? nextId('dead');
  await store.messageInsertBatch({
    queue: spec.queue,
    messages: [
      message({ id, visibleAt: spec.diedAt - 10, ...(spec.body !== undefined && { body: spec.body }) }),
    ],
    now: spec.diedAt - 10,
  });
  const claimed = await claimOne(store, spec.queue, spec.diedAt - 5);
  expect(claimed.id).toBe(id);
  const death = deathRecord(spec.groupId ?? 'group-a', {
    ...(spec.tier !== undefined && { tier: spec.tier }),
    ...(spec.name !== undefined && { name: spec.name }),
    ...(spec.message !== undefined && { message: spec.message }),
  });
  const result = await store.messageFail({
    items: [
      {
        id,
        leaseToken: claimed.leaseToken,
        attempt: attemptOf(claimed, spec.diedAt - 5, death.error),
        outcome: 'dead',
        death,
      },
    ],
    now: spec.diedAt,
  });
  expect(result).toEqual({ applied: 1, lost: [] });
  return id;
}

/** The stats of one queue. */
export async function statsOf(store: Store, queue: string, now: number): Promise<QueueStats> {
  const all = await store.queueStats({ now });
  const stats = all.find((s) => s.queue === queue);
  if (!stats) throw new Error(`no stats for queue ${queue}`);
  return stats;
}

/**
 * Checks a queue's stats against the expected counts, and that they add up to the number
 * of messages accepted: every message is in exactly one state.
 */
export async function expectStats(
  store: Store,
  queue: string,
  now: number,
  expected: Omit<QueueStats, 'queue' | 'oldestDeadAt' | 'replayed' | 'discarded' | 'archived'> &
    Partial<Pick<QueueStats, 'replayed' | 'discarded' | 'archived'>> & {
      sent: number;
      oldestDeadAt?: number | null;
    },
): Promise<void> {
  const stats = await statsOf(store, queue, now);
  // replayed, discarded and archived are 0 unless the caller says otherwise.
  const { sent, oldestDeadAt, ...counts } = { replayed: 0, discarded: 0, archived: 0, ...expected };
  expect(stats).toMatchObject(counts);
  if (oldestDeadAt !== undefined) expect(stats.oldestDeadAt).toBe(oldestDeadAt);
  expect(sentOf(stats)).toBe(sent);
}

/**
 * Every message a queue accepted, from its stats: each is in exactly one state, so
 * `sent = waiting + delayed + leased + done + dead + dropped + replayed + discarded + archived`.
 */
export function sentOf(stats: QueueStats): number {
  return (
    stats.waiting +
    stats.delayed +
    stats.leased +
    stats.done +
    stats.dead +
    stats.dropped +
    stats.replayed +
    stats.discarded +
    stats.archived
  );
}

/**
 * A dead letter without its edit fields (`originalBody`, `edits`: see conformance/dead-letter-edit.ts),
 * for comparisons that are about something else.
 */
export function withoutEdits<T extends { originalBody?: unknown; edits?: unknown }>(
  letter: T | undefined,
): Omit<T, 'originalBody' | 'edits'> | undefined {
  if (!letter) return letter;
  const { originalBody: _original, edits: _edits, ...rest } = letter;
  return rest;
}
