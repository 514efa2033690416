import type { Tier } from '../core/tier.ts';

/**
 * The API's wire shapes the dashboard uses beside the engine's own types (api.ts re-exports
 * them). Pure types: the logic files that use them are tested in Node.
 */

/** One queue's counts, as `GET /api/stats` answers. */
export interface QueueStats {
  queue: string;
  waiting: number;
  delayed: number;
  leased: number;
  done: number;
  dead: number;
  dropped: number;
  replayed: number;
  discarded: number;
  archived: number;
  oldestDeadAt: number | null;
  retentionDays?: number;
  nextExpiryAt?: number | null;
}

export interface QueueSample {
  at: number;
  depth: number;
  inflow: number;
}

/**
 * The dead letters an operation applies to, as the CLI's selector flags: every given field
 * must match. `ids` (at most 1000) selects exact dead letters.
 */
export interface Selector {
  queue?: string;
  tier?: Tier;
  group?: string;
  since?: string;
  until?: string;
  grep?: string;
  where?: string[];
  ids?: string[];
}
