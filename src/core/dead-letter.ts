import { ValidationError } from './errors.ts';
import type { FailureInfo } from './failure.ts';
import type { Attempt, Json } from './message.ts';
import type { Tier } from './tier.ts';

/** A dead letter with its whole context. Its id is the id of the message that died. */
export interface DeadLetter {
  id: string;
  queue: string;
  body: Json;
  headers: Record<string, string>;
  idempotencyKey: string | null;
  enqueuedAt: number;
  /** Every failed attempt, oldest first; the last one holds the final error. */
  attempts: Attempt[];
  error: FailureInfo;
  tier: Tier;
  fingerprint: string;
  groupId: string;
  diedAt: number;
  /** How many times this message's lineage has been replayed. */
  replayCount: number;
  /** Lineage: the dead letter this message was a replay of, if it died again after a replay. */
  previousId: string | null;
  /**
   * The body as the message died, kept by the first `dlq edit`; null (or absent, from a store
   * without editing) while the body was never edited. `body` is the current, edited body.
   */
  originalBody?: Json | null;
  /** Every edit of the body, oldest first; empty (or absent) when never edited. */
  edits?: DeadLetterEdit[];
}

/** One edit of a dead letter's body before replay (`dlq edit`). */
export interface DeadLetterEdit {
  at: number;
  /** Who edited: the audit log's actor. */
  actor: string;
  /** The body after this edit. */
  body: Json;
}

/** A dead letter in a list: the context without body and attempts. */
export type DeadLetterSummary = Omit<
  DeadLetter,
  'body' | 'attempts' | 'headers' | 'originalBody' | 'edits'
> & {
  attemptCount: number;
};

/** Filters shared by `dlq list` (and later replay and discard). All given filters must match. */
export interface DeadLetterFilter {
  queue?: string;
  tier?: Tier;
  groupId?: string;
  /** Died at or after (epoch ms). */
  since?: number;
  /** Died before (epoch ms). */
  until?: number;
  /** Case-insensitive substring of the error name or message. */
  grep?: string;
  /** Only these dead letters (at most 1000 ids). */
  ids?: string[];
  /** Fields of the JSON body that must equal a value, e.g. `body.customer.country=DE`. */
  where?: BodyFieldMatch[];
}

/**
 * A body field equal to a JSON value. `path` is the keys from the body's root (array indexes
 * as numeric strings); `value` is compared as JSON: `DE` and `"DE"` are the string "DE",
 * `42` the number, `true` the boolean.
 */
export interface BodyFieldMatch {
  path: string[];
  value: Json;
}

const WHERE_KEY = /^[A-Za-z0-9_$-]+$/;

/**
 * Parses `body.customer.country=DE` (the `body.` prefix is required). The value is JSON when it
 * parses as JSON (`42`, `true`, `null`, `"x"`), else a string. Throws ValidationError.
 */
export function parseWhere(text: string): BodyFieldMatch {
  const eq = text.indexOf('=');
  const left = eq < 0 ? text : text.slice(0, eq);
  const [root, ...path] = left.trim().split('.');
  if (eq < 0 || root !== 'body' || path.length === 0 || path.some((key) => !WHERE_KEY.test(key))) {
    throw new ValidationError(
      `invalid --where "${text}": use body.<field>[.<field>...]=<value>, e.g. body.customer.country=DE`,
    );
  }
  const raw = text.slice(eq + 1);
  let value: Json;
  try {
    value = JSON.parse(raw) as Json;
    if (typeof value === 'object' && value !== null) value = raw;
  } catch {
    value = raw;
  }
  return { path, value };
}

/** Position in the newest-first order of dead letters: (diedAt, id) of the last row seen. */
export interface DeadLetterCursor {
  diedAt: number;
  id: string;
}

export function encodeCursor(cursor: DeadLetterCursor): string {
  return Buffer.from(`${cursor.diedAt}:${cursor.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(text: string): DeadLetterCursor {
  const raw = Buffer.from(text, 'base64url').toString('utf8');
  const at = raw.indexOf(':');
  const diedAt = Number(raw.slice(0, at));
  const id = raw.slice(at + 1);
  if (at <= 0 || !Number.isSafeInteger(diedAt) || id.length === 0) {
    throw new ValidationError(`invalid cursor "${text}": pass the nextCursor of a previous page`);
  }
  return { diedAt, id };
}
