import { z } from 'zod';
import { type Duration, formatDuration, parseDuration } from './duration.ts';
import { ValidationError } from './errors.ts';

/**
 * How long to wait before a failed message is visible again, as stored with the queue.
 * - `exponential`: full jitter, a random delay in `[0, min(capMs, baseMs * 2^(receive-1))]`.
 * - `fixed`: always `delayMs` (0 retries at once).
 * A function backoff can be given to a worker in code; it is not stored.
 */
export type BackoffSpec =
  | { type: 'exponential'; baseMs: number; capMs: number }
  | { type: 'fixed'; delayMs: number };

/** A queue and its settings, as stored. */
export interface QueueRecord {
  name: string;
  /** Receives before a retryable failure is dead-lettered. Default 5; at least 1. */
  maxReceives: number;
  /** The lease a claim takes, in ms. Default 30 000. */
  visibilityTimeoutMs: number;
  backoff: BackoffSpec;
  /** Whether exhausted or permanent failures go to the DLQ. `false` drops them (counted as `dropped`). */
  deadLetter: boolean;
  /** Days dead letters are kept. Default 14. */
  retentionDays: number;
  /**
   * Replays per message lineage: a dead letter whose `replayCount` reached it is skipped by
   * replays (it keeps coming back). Default 3; 0 forbids replaying this queue's dead letters.
   * Optional only for stores that predate it (read as 3); the SQLite store always returns it.
   */
  replayLimit?: number;
  /**
   * How long a done (succeeded) message is kept, in ms, before the done-retention sweep deletes
   * it; its count stays in the queue's `done` counter. Default 1 hour; 0 deletes it when its ack
   * is applied, in the same transaction. Optional only for stores that predate it (read as the default).
   */
  doneRetentionMs?: number;
  createdAt: number;
  updatedAt: number;
}

/** Settings a caller may give when creating or updating a queue; durations as ms or strings. */
export interface QueueSettingsInput {
  maxReceives?: number;
  visibilityTimeout?: Duration;
  backoff?: BackoffSpec | string;
  deadLetter?: boolean;
  retention?: Duration;
  retentionDays?: number;
  /** Replays per message lineage before replays skip it (0-100; default 3). */
  replayLimit?: number;
  /** How long done messages are kept before they are deleted (0 to 365d; default 1h). */
  doneRetention?: Duration;
}

export const QUEUE_DEFAULTS = {
  maxReceives: 5,
  visibilityTimeoutMs: 30_000,
  backoff: { type: 'exponential', baseMs: 1_000, capMs: 300_000 } as BackoffSpec,
  deadLetter: true,
  retentionDays: 14,
  replayLimit: 3,
  doneRetentionMs: 3_600_000,
} as const;

/** The longest done retention a queue accepts: a year. */
export const MAX_DONE_RETENTION_MS = 365 * 86_400_000;

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Checks a queue name: 1–128 characters of letters, digits, `.`, `_`, `:` and `-`. */
export function validateQueueName(name: string): string {
  if (!QUEUE_NAME.test(name)) {
    throw new ValidationError(
      `invalid queue name "${name}": use 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`,
    );
  }
  return name;
}

/** Parses `exponential:1s:5m`, `exponential` or `fixed:0` / `fixed:10s`. */
export function parseBackoff(text: string): BackoffSpec {
  const [kind, a, b, ...rest] = text.trim().split(':');
  if (rest.length === 0 && kind === 'exponential') {
    const baseMs = a
      ? parseDuration(a, 'backoff base')
      : QUEUE_DEFAULTS.backoff.type === 'exponential'
        ? 1000
        : 0;
    const capMs = b ? parseDuration(b, 'backoff cap') : 300_000;
    if (capMs < baseMs) throw new ValidationError(`invalid backoff "${text}": the cap is below the base`);
    return { type: 'exponential', baseMs, capMs };
  }
  if (rest.length === 0 && kind === 'fixed' && b === undefined) {
    return { type: 'fixed', delayMs: parseDuration(a ?? '0', 'backoff delay') };
  }
  throw new ValidationError(
    `invalid backoff "${text}": use exponential:<base>:<cap> (e.g. exponential:1s:5m) or fixed:<delay>`,
  );
}

export function formatBackoff(spec: BackoffSpec): string {
  return spec.type === 'exponential'
    ? `exponential:${formatDuration(spec.baseMs)}:${formatDuration(spec.capMs)}`
    : `fixed:${formatDuration(spec.delayMs)}`;
}

const backoffSchema = z.union([
  z.object({
    type: z.literal('exponential'),
    baseMs: z.number().int().min(0),
    capMs: z.number().int().min(0),
  }),
  z.object({ type: z.literal('fixed'), delayMs: z.number().int().min(0) }),
]);

/** Validates settings input and returns the stored form of the fields given (others omitted). */
export function resolveQueueSettings(
  input: QueueSettingsInput,
): Partial<Omit<QueueRecord, 'name' | 'createdAt' | 'updatedAt'>> {
  const out: Partial<Omit<QueueRecord, 'name' | 'createdAt' | 'updatedAt'>> = {};
  if (input.maxReceives !== undefined) {
    if (!Number.isInteger(input.maxReceives) || input.maxReceives < 1 || input.maxReceives > 1000) {
      throw new ValidationError(
        `invalid maxReceives ${input.maxReceives}: use a whole number from 1 to 1000`,
      );
    }
    out.maxReceives = input.maxReceives;
  }
  if (input.visibilityTimeout !== undefined) {
    const ms = parseDuration(input.visibilityTimeout, 'visibility timeout');
    if (ms < 100 || ms > 12 * 3_600_000) {
      throw new ValidationError('invalid visibility timeout: use 100ms to 12h');
    }
    out.visibilityTimeoutMs = ms;
  }
  if (input.backoff !== undefined) {
    if (typeof input.backoff === 'string') out.backoff = parseBackoff(input.backoff);
    else {
      const parsed = backoffSchema.safeParse(input.backoff);
      if (!parsed.success) throw new ValidationError(`invalid backoff: ${parsed.error.issues[0]?.message}`);
      out.backoff = parsed.data;
    }
  }
  if (input.deadLetter !== undefined) out.deadLetter = input.deadLetter;
  if (input.retention !== undefined || input.retentionDays !== undefined) {
    const days = input.retentionDays ?? parseDuration(input.retention as Duration, 'retention') / 86_400_000;
    if (!Number.isFinite(days) || days < 0 || days > 3650) {
      throw new ValidationError('invalid retention: use 0 (keep forever) to 3650 days');
    }
    out.retentionDays = days;
  }
  if (input.replayLimit !== undefined) {
    if (!Number.isInteger(input.replayLimit) || input.replayLimit < 0 || input.replayLimit > 100) {
      throw new ValidationError(`invalid replayLimit ${input.replayLimit}: use a whole number from 0 to 100`);
    }
    out.replayLimit = input.replayLimit;
  }
  if (input.doneRetention !== undefined) {
    const ms = parseDuration(input.doneRetention, 'done retention');
    if (ms > MAX_DONE_RETENTION_MS) {
      throw new ValidationError('invalid done retention: use 0 (delete at once) to 365d');
    }
    out.doneRetentionMs = ms;
  }
  return out;
}
