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
}

/** A dead letter in a list: the context without body and attempts. */
export type DeadLetterSummary = Omit<DeadLetter, 'body' | 'attempts' | 'headers'> & { attemptCount: number };

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
