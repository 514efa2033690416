import type { Group, GroupStatus } from '../core/group.ts';
import type { Tier } from '../core/tier.ts';

// The `groups` table has the same columns and types in every store, so its row and its
// mapping to a Group live once here.

/** A row of `groups`. */
export interface GroupRow {
  id: string;
  fingerprint: string;
  error_name: string;
  normalized_message: string;
  tier: Tier;
  status: GroupStatus;
  first_seen: number;
  last_seen: number;
  count: number;
  dead_count: number;
  sample_id: string;
  status_changed_at: number;
}

/** A `groups` row and its queues (in name order) as a {@link Group}. */
export function toGroup(row: GroupRow, queues: string[]): Group {
  return {
    id: row.id,
    fingerprint: row.fingerprint,
    errorName: row.error_name,
    normalizedMessage: row.normalized_message,
    tier: row.tier,
    status: row.status,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    count: row.count,
    deadCount: row.dead_count,
    queues,
    sampleId: row.sample_id,
    statusChangedAt: row.status_changed_at,
  };
}
