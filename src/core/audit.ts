import type { Json } from './message.ts';

/**
 * The actions the audit log records. Every change to what Deadletter keeps is one entry,
 * appended in the same transaction as the change.
 */
export const AUDIT_ACTIONS = [
  'queue.create',
  'queue.update',
  'queue.docs',
  'group.status',
  /** Groups merged into a target: sources, dead letters moved, aliases re-pointed. */
  'group.merge',
  'group_rule.create',
  'group_rule.remove',
  'dead_letter.edit',
  'discard',
  'replay.create',
  'replay.pause',
  'replay.resume',
  'replay.cancel',
  'replay.finish',
  /** Dead letters a replay batch did not replay (replay limit, duplicate key, gone), with why. */
  'replay.skip',
  'retention.archive',
  'archive.import',
  'token.create',
  'token.revoke',
  'alert_rule.create',
  'alert_rule.update',
  'alert_rule.remove',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One entry of the append-only audit log. */
export interface AuditEntry {
  /** Increasing: newer entries have larger ids. */
  id: number;
  at: number;
  /** Who: the CLI's `--actor` or OS user, the server's token name, `system` for maintenance services. */
  actor: string;
  action: AuditAction;
  /** What kind of thing changed: `queue`, `group`, `dead_letter`, `replay_job`, `archive`. */
  targetType: string;
  targetId: string;
  /** Action-specific: a discard's reason, count and ids; a setting's old and new values... */
  details: { [key: string]: Json };
}

export type AuditEntryInput = Omit<AuditEntry, 'id'>;

/** Filters of `dlq audit`; all given must match. */
export interface AuditFilter {
  action?: AuditAction;
  actor?: string;
  targetId?: string;
  since?: number;
  until?: number;
}
