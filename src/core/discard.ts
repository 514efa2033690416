import { ValidationError } from './errors.ts';
import type { Tier } from './tier.ts';

/**
 * What stays of a discarded dead letter after its body is gone: enough to answer "where did
 * it go, who did it and why". Tombstones are never deleted by Deadletter.
 */
export interface Tombstone {
  /** The id the dead letter had (the id of the message that died). */
  id: string;
  queue: string;
  groupId: string;
  tier: Tier;
  reason: string;
  /** Who discarded it: the audit log's actor. */
  actor: string;
  diedAt: number;
  discardedAt: number;
}

/** The longest discard reason accepted, in characters. */
export const MAX_DISCARD_REASON = 1000;

/**
 * Checks a discard reason: required, not blank, at most {@link MAX_DISCARD_REASON} characters.
 * Returns it trimmed. Throws ValidationError.
 */
export function validateDiscardReason(reason: string | undefined): string {
  const trimmed = reason?.trim() ?? '';
  if (trimmed.length === 0) {
    throw new ValidationError('a discard needs a reason: say why these dead letters can go (--reason "...")');
  }
  if ([...trimmed].length > MAX_DISCARD_REASON) {
    throw new ValidationError(`invalid reason: use at most ${MAX_DISCARD_REASON} characters`);
  }
  return trimmed;
}

/** A tombstone in one line: `discarded by ada at 2026-01-01T10:00:00Z: duplicate orders`. */
export function formatTombstone(tombstone: Tombstone): string {
  const at = new Date(tombstone.discardedAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `discarded by ${tombstone.actor} at ${at}: ${tombstone.reason}`;
}
