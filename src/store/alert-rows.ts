import {
  type Alert,
  type AlertChannel,
  type AlertDelivery,
  type AlertDeliveryEvent,
  type AlertDeliveryStatus,
  type AlertKind,
  type AlertRule,
  type AlertState,
  ruleForAudit,
} from '../core/alert.ts';
import type { AuditEntryInput } from '../core/audit.ts';
import type { Json } from '../core/message.ts';

// The alert tables have the same columns in every store, JSON kept as text in both. Only a
// rule's `enabled` differs: an INTEGER 0/1 on SQLite, a BOOLEAN on PostgreSQL.

/** A row of `alert_rules`. */
export interface AlertRuleRow {
  id: string;
  name: string;
  queue: string | null;
  kind: string;
  threshold: number;
  window_ms: number | null;
  cooldown_ms: number;
  renotify_ms: number | null;
  channels: string;
  enabled: number | boolean;
  created_at: number;
  created_by: string;
}

/** A row of `alerts`. */
export interface AlertRow {
  id: string;
  rule_id: string;
  rule_name: string;
  queue: string;
  group_id: string | null;
  key: string;
  state: string;
  fired_at: number;
  resolved_at: number | null;
  last_notified_at: number | null;
  value: number;
  details: string;
}

/** A row of `alert_deliveries`. */
export interface AlertDeliveryRow {
  id: string;
  alert_id: string | null;
  event: string;
  channel: string;
  url: string | null;
  payload: string;
  attempts: number;
  status: string;
  created_at: number;
  next_attempt_at: number;
  last_error: string | null;
  delivered_at: number | null;
}

export function toAlertRule(row: AlertRuleRow): AlertRule {
  return {
    id: row.id,
    name: row.name,
    queue: row.queue,
    kind: row.kind as AlertKind,
    threshold: row.threshold,
    windowMs: row.window_ms,
    cooldownMs: row.cooldown_ms,
    renotifyMs: row.renotify_ms === null ? null : Number(row.renotify_ms),
    channels: JSON.parse(row.channels) as AlertChannel[],
    enabled: row.enabled === true || row.enabled === 1,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

export function toAlert(row: AlertRow): Alert {
  return {
    id: row.id,
    ruleId: row.rule_id,
    ruleName: row.rule_name,
    queue: row.queue,
    groupId: row.group_id,
    key: row.key,
    state: row.state as AlertState,
    firedAt: row.fired_at,
    resolvedAt: row.resolved_at,
    lastNotifiedAt: row.last_notified_at,
    value: row.value,
    details: JSON.parse(row.details) as Alert['details'],
  };
}

export function toAlertDelivery(row: AlertDeliveryRow): AlertDelivery {
  return {
    id: row.id,
    alertId: row.alert_id,
    event: row.event as AlertDeliveryEvent,
    channel: row.channel as AlertDelivery['channel'],
    url: row.url,
    payload: JSON.parse(row.payload) as Json,
    attempts: row.attempts,
    status: row.status as AlertDeliveryStatus,
    createdAt: row.created_at,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
  };
}

/** The audit entry of an alert rule created, updated or removed: its settings, plus `extra`. */
export function alertRuleAudit(
  action: 'alert_rule.create' | 'alert_rule.update' | 'alert_rule.remove',
  rule: AlertRule,
  at: number,
  actor: string,
  extra: { [key: string]: Json } = {},
): AuditEntryInput {
  return {
    at,
    actor,
    action,
    targetType: 'alert_rule',
    targetId: rule.name,
    details: { ...ruleForAudit(rule), ...extra },
  };
}
