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

/**
 * A group that was merged into another. Its row left the group list; its dead letters moved to
 * `targetId`, and deaths whose fingerprint still computes its id land in `targetId` too (an
 * alias). The other fields are what the group was when it was merged.
 */
export interface MergedGroup {
  id: string;
  /** The live group it now belongs to (re-pointed when that group is merged in turn). */
  targetId: string;
  fingerprint: string;
  errorName: string;
  normalizedMessage: string;
  tier: Tier;
  /** Dead letters it had seen when it was merged. */
  count: number;
  firstSeen: number;
  lastSeen: number;
  mergedAt: number;
  mergedBy: string;
}

/** What a merge did (or, with `dryRun`, would do). */
export interface GroupMergeResult {
  /** The target after the merge (unchanged on a dry run). */
  target: Group;
  /** The groups merged into it, as they were. */
  merged: MergedGroup[];
  /** Dead letters in the DLQ that moved to the target. */
  moved: number;
  /** Earlier aliases into a source that now point at the target (A into B, then B into C: A's). */
  repointed: number;
  dryRun: boolean;
}
