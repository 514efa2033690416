import type { Tier } from './tier.ts';

/**
 * Triage status of a group. A new dead letter in a `resolved` group moves it to `regressed`.
 * `ignored` groups keep counting but are left out of "untriaged".
 */
export const GROUP_STATUSES = ['new', 'acknowledged', 'resolved', 'ignored', 'regressed'] as const;
export type GroupStatus = (typeof GROUP_STATUSES)[number];

/** Dead letters that share a fingerprint: one bug, one group. */
export interface Group {
  /** Stable id derived from the fingerprint. */
  id: string;
  fingerprint: string;
  /** Error name of the group's failures. */
  errorName: string;
  /** The error message with its variable parts normalised away. */
  normalizedMessage: string;
  tier: Tier;
  status: GroupStatus;
  firstSeen: number;
  lastSeen: number;
  /** Dead letters ever seen in this group. */
  count: number;
  /** Dead letters of this group currently in the DLQ. */
  deadCount: number;
  /** Queues the group's dead letters came from. */
  queues: string[];
  /** The id of the first dead letter of the group. */
  sampleId: string;
  statusChangedAt: number;
}

export interface GroupFilter {
  queue?: string;
  status?: GroupStatus;
  tier?: Tier;
}

export type GroupSort = 'count' | 'lastSeen';
