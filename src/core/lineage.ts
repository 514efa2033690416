import type { DeadLetter } from './dead-letter.ts';

/**
 * Where a record of a message's lineage is now:
 * - `waiting`, `leased`, `done`: a message in its queue (a replay that has not died);
 * - `dead`: a dead letter in the DLQ;
 * - `replayed`: a dead letter that was replayed (kept in the replay history);
 * - `discarded`: a dead letter that was discarded (only its tombstone is left).
 */
export type LineageState = 'waiting' | 'leased' | 'done' | 'dead' | 'replayed' | 'discarded';

/** One record of a lineage: a message, a dead letter, a replayed dead letter or a tombstone. */
export interface LineageLink {
  id: string;
  state: LineageState;
  queue: string;
  /** When it entered that state's record: died (dead letters), enqueued (messages). */
  at: number;
  /** Replays of the lineage before it; null for a tombstone (not kept). */
  replayCount: number | null;
}

/**
 * The neighbours of one record in its lineage. A replay keeps the message's idempotency key and
 * gets a new id; if it dies again, its dead letter (same id as the replayed message) points back
 * with `previousId`.
 */
export interface DeadLetterLineage {
  /** The record asked about. */
  self: LineageLink;
  /** The dead letter this one is a replay of (its `previousId`, or a message's `replayOf`). */
  previous: LineageLink | null;
  /** What it was replayed to: the new message, or that message's dead letter if it died again. */
  next: LineageLink | null;
}

/** A dead letter that left the DLQ by a replay, as kept in the replay history. */
export interface ReplayedDeadLetter extends DeadLetter {
  replayedAt: number;
  replayedBy: string;
  replayJobId: string | null;
  /** The id of the message it was replayed as. */
  replayedTo: string;
  /** The queue that message went to. */
  destination: string;
}
