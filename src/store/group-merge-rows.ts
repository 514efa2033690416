import type { AuditEntryInput } from '../core/audit.ts';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.ts';
import type { SerialisedFailureMatch } from '../core/failure-match.ts';
import type { MergedGroup } from '../core/group.ts';
import type { GroupRule } from '../core/group-rule.ts';
import type { Tier } from '../core/tier.ts';
import type { GroupRow } from './group-row.ts';

// The `group_aliases` and `group_rules` tables have the same columns in every store (PostgreSQL
// returns BIGINT as text, hence the Number()s), and a merge checks its input the same way.

/** A row of `group_aliases`. */
export interface AliasRow {
  source_id: string;
  target_id: string;
  fingerprint: string;
  error_name: string;
  normalized_message: string;
  tier: Tier;
  count: number;
  first_seen: number;
  last_seen: number;
  merged_at: number;
  merged_by: string;
}

export interface GroupRuleRow {
  id: string;
  name: string;
  queue: string | null;
  match: string;
  fingerprint: string;
  created_at: number;
  created_by: string;
}

export function toMergedGroup(row: AliasRow): MergedGroup {
  return {
    id: row.source_id,
    targetId: row.target_id,
    fingerprint: row.fingerprint,
    errorName: row.error_name,
    normalizedMessage: row.normalized_message,
    tier: row.tier,
    count: Number(row.count),
    firstSeen: Number(row.first_seen),
    lastSeen: Number(row.last_seen),
    mergedAt: Number(row.merged_at),
    mergedBy: row.merged_by,
  };
}

export function toGroupRule(row: GroupRuleRow): GroupRule {
  return {
    id: row.id,
    name: row.name,
    queue: row.queue,
    match: JSON.parse(row.match) as SerialisedFailureMatch,
    fingerprint: row.fingerprint,
    createdAt: Number(row.created_at),
    createdBy: row.created_by,
  };
}

/** The checks of a merge that need no database: at least one source, not the target itself. */
export function mergeSources(target: string, sources: string[]): string[] {
  const unique = [...new Set(sources)];
  if (unique.length === 0) throw new ValidationError('give at least one group to merge into the target');
  if (unique.includes(target)) throw new ValidationError(`cannot merge group "${target}" into itself`);
  return unique;
}

/** The error for a group that is not in `groups`: merged already (with where), or unknown. */
export function missingGroupError(id: string, alias: { target_id: string } | undefined, role: string): Error {
  if (!alias) return new NotFoundError(`unknown group "${id}"`);
  return role === 'target'
    ? new ConflictError(`group "${id}" was merged into "${alias.target_id}": merge into "${alias.target_id}"`)
    : new ConflictError(`group "${id}" was already merged into "${alias.target_id}"`);
}

/** The alias a merge writes for source group `row`, merged into `targetId`. */
export function aliasOf(row: GroupRow, targetId: string, mergedAt: number, mergedBy: string): AliasRow {
  return {
    source_id: row.id,
    target_id: targetId,
    fingerprint: row.fingerprint,
    error_name: row.error_name,
    normalized_message: row.normalized_message,
    tier: row.tier,
    count: Number(row.count),
    first_seen: Number(row.first_seen),
    last_seen: Number(row.last_seen),
    merged_at: mergedAt,
    merged_by: mergedBy,
  };
}

/** The merged group's new counts: sums, the latest last_seen, and the earliest group's first_seen and sample. */
export function mergedCounts(
  target: GroupRow,
  sources: GroupRow[],
): { count: number; deadCount: number; firstSeen: number; lastSeen: number; sampleId: string } {
  let earliest = target;
  let count = Number(target.count);
  let deadCount = Number(target.dead_count);
  let lastSeen = Number(target.last_seen);
  for (const row of sources) {
    count += Number(row.count);
    deadCount += Number(row.dead_count);
    lastSeen = Math.max(lastSeen, Number(row.last_seen));
    if (Number(row.first_seen) < Number(earliest.first_seen)) earliest = row;
  }
  return { count, deadCount, firstSeen: Number(earliest.first_seen), lastSeen, sampleId: earliest.sample_id };
}

/** The audit entry of a group rule created or removed. */
export function groupRuleAudit(
  action: 'group_rule.create' | 'group_rule.remove',
  rule: GroupRule,
  at: number,
  actor: string,
): AuditEntryInput {
  return {
    at,
    actor,
    action,
    targetType: 'group_rule',
    targetId: rule.id,
    details: { name: rule.name, queue: rule.queue, match: rule.match, fingerprint: rule.fingerprint },
  };
}
