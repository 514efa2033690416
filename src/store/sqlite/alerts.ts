import type Database from 'better-sqlite3';
import {
  type Alert,
  type AlertDelivery,
  type AlertDeliveryEvent,
  type AlertDeliveryStatus,
  type AlertRule,
  type AlertState,
  ruleForAudit,
} from '../../core/alert.ts';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import {
  type AlertDeliveryRow,
  type AlertRow,
  type AlertRuleRow,
  alertRuleAudit,
  toAlert,
  toAlertDelivery,
  toAlertRule,
} from '../alert-rows.ts';
import type { SqliteAuditLog } from './audit.ts';

/** The row of an insert or update of `rule` (JSON as text, `enabled` as 0/1). */
function toRuleRow(rule: AlertRule, createdAt: number, createdBy: string): AlertRuleRow {
  return {
    id: rule.id,
    name: rule.name,
    queue: rule.queue,
    kind: rule.kind,
    threshold: rule.threshold,
    window_ms: rule.windowMs,
    cooldown_ms: rule.cooldownMs,
    renotify_ms: rule.renotifyMs,
    channels: JSON.stringify(rule.channels),
    enabled: rule.enabled ? 1 : 0,
    created_at: createdAt,
    created_by: createdBy,
  };
}

/** The alert tables' statements of one connection, prepared once; audited changes append in their transaction. */
export class SqliteAlerts {
  private readonly db: Database.Database;
  private readonly audit: SqliteAuditLog;
  private readonly ruleInsert: Database.Statement<[AlertRuleRow]>;
  private readonly ruleByNameOrId: Database.Statement<[string, string], AlertRuleRow>;
  private readonly ruleAll: Database.Statement<[], AlertRuleRow>;
  private readonly ruleDelete: Database.Statement<[string], AlertRuleRow>;
  private readonly ruleUpdateById: Database.Statement<[AlertRuleRow]>;
  private readonly prunableAlerts: Database.Statement<[number, number], { id: string }>;
  private readonly resolveByRule: Database.Statement<[number, string]>;
  private readonly alertInsert: Database.Statement<[AlertRow]>;
  private readonly alertFiringByKey: Database.Statement<[string], { id: string }>;
  private readonly alertResolveById: Database.Statement<[number, string]>;
  private readonly alertRenotifyById: Database.Statement<[number, string]>;
  private readonly lastResolved: Database.Statement<[string], { resolved_at: number | null }>;
  private readonly deliveryInsert: Database.Statement<[AlertDeliveryRow]>;
  private readonly deliveryDue: Database.Statement<[number, number], AlertDeliveryRow>;
  private readonly deliveryUpdate: Database.Statement<
    [number, string, number, string | null, number | null, string]
  >;

  constructor(db: Database.Database, audit: SqliteAuditLog) {
    this.db = db;
    this.audit = audit;
    this.ruleInsert = db.prepare(
      `INSERT INTO alert_rules (id, name, queue, kind, threshold, window_ms, cooldown_ms, renotify_ms, channels, enabled, created_at, created_by)
       VALUES (@id, @name, @queue, @kind, @threshold, @window_ms, @cooldown_ms, @renotify_ms, @channels, @enabled, @created_at, @created_by)`,
    );
    this.ruleByNameOrId = db.prepare('SELECT * FROM alert_rules WHERE name = ? OR id = ?');
    this.ruleAll = db.prepare('SELECT * FROM alert_rules ORDER BY name');
    this.ruleDelete = db.prepare('DELETE FROM alert_rules WHERE id = ? RETURNING *');
    this.ruleUpdateById = db.prepare(
      `UPDATE alert_rules SET name = @name, queue = @queue, kind = @kind, threshold = @threshold,
         window_ms = @window_ms, cooldown_ms = @cooldown_ms, renotify_ms = @renotify_ms, channels = @channels,
         enabled = @enabled
       WHERE id = @id AND created_at = @created_at AND created_by = @created_by`,
    );
    this.prunableAlerts = db.prepare(
      `SELECT id FROM alerts WHERE state = 'resolved' AND resolved_at < ? ORDER BY resolved_at, id LIMIT ?`,
    );
    this.resolveByRule = db.prepare(
      `UPDATE alerts SET state = 'resolved', resolved_at = ?,
         details = json_set(details, '$.resolvedBy', 'rule removed')
       WHERE rule_id = ? AND state = 'firing'`,
    );
    this.alertInsert = db.prepare(
      `INSERT INTO alerts (id, rule_id, rule_name, queue, group_id, key, state, fired_at, resolved_at, last_notified_at, value, details)
       VALUES (@id, @rule_id, @rule_name, @queue, @group_id, @key, @state, @fired_at, @resolved_at, @last_notified_at, @value, @details)`,
    );
    this.alertFiringByKey = db.prepare("SELECT id FROM alerts WHERE key = ? AND state = 'firing'");
    this.alertResolveById = db.prepare(
      "UPDATE alerts SET state = 'resolved', resolved_at = ? WHERE id = ? AND state = 'firing'",
    );
    this.alertRenotifyById = db.prepare(
      "UPDATE alerts SET last_notified_at = ? WHERE id = ? AND state = 'firing'",
    );
    this.lastResolved = db.prepare(
      "SELECT max(resolved_at) AS resolved_at FROM alerts WHERE key = ? AND state = 'resolved'",
    );
    this.deliveryInsert = db.prepare(
      `INSERT INTO alert_deliveries (id, alert_id, event, channel, url, payload, attempts, status, created_at, next_attempt_at, last_error, delivered_at)
       VALUES (@id, @alert_id, @event, @channel, @url, @payload, @attempts, @status, @created_at, @next_attempt_at, @last_error, @delivered_at)`,
    );
    this.deliveryDue = db.prepare(
      `SELECT * FROM alert_deliveries WHERE status = 'pending' AND next_attempt_at <= ?
       ORDER BY next_attempt_at, id LIMIT ?`,
    );
    this.deliveryUpdate = db.prepare(
      `UPDATE alert_deliveries SET attempts = ?, status = ?, next_attempt_at = ?, last_error = ?, delivered_at = ?
       WHERE id = ?`,
    );
  }

  ruleCreate(rule: AlertRule, actor: string): AlertRule {
    return this.db
      .transaction(() => {
        if (this.ruleByNameOrId.get(rule.name, rule.id)) {
          throw new ConflictError(
            `an alert rule named "${rule.name}" exists: remove it first or pick another name`,
          );
        }
        this.ruleInsert.run(toRuleRow(rule, rule.createdAt, rule.createdBy));
        this.audit.append(alertRuleAudit('alert_rule.create', rule, rule.createdAt, actor));
        return rule;
      })
      .immediate();
  }

  ruleUpdate(rule: AlertRule, actor: string, now: number): AlertRule {
    return this.db
      .transaction(() => {
        const before = this.ruleByNameOrId.get(rule.id, rule.id);
        if (!before || before.id !== rule.id) throw new NotFoundError(`no alert rule with id "${rule.id}"`);
        const clash = this.ruleByNameOrId.get(rule.name, rule.name);
        if (clash && clash.id !== rule.id) {
          throw new ConflictError(`an alert rule named "${rule.name}" exists: pick another name`);
        }
        this.ruleUpdateById.run(toRuleRow(rule, before.created_at, before.created_by));
        const updated = toAlertRule(this.ruleByNameOrId.get(rule.id, rule.id) as AlertRuleRow);
        this.audit.append(
          alertRuleAudit('alert_rule.update', updated, now, actor, {
            before: ruleForAudit(toAlertRule(before)),
          }),
        );
        return updated;
      })
      .immediate();
  }

  prune(before: number, limit: number): { alerts: number; deliveries: number } {
    return this.db
      .transaction(() => {
        const ids = this.prunableAlerts.all(before, limit).map((row) => row.id);
        let deliveries = 0;
        let alerts = 0;
        if (ids.length > 0) {
          const list = JSON.stringify(ids);
          deliveries += this.db
            .prepare('DELETE FROM alert_deliveries WHERE alert_id IN (SELECT value FROM json_each(?))')
            .run(list).changes;
          alerts = this.db
            .prepare('DELETE FROM alerts WHERE id IN (SELECT value FROM json_each(?))')
            .run(list).changes;
        }
        // Review reports belong to no alert: finished ones go by their age.
        deliveries += this.db
          .prepare(
            `DELETE FROM alert_deliveries WHERE id IN (
               SELECT id FROM alert_deliveries WHERE alert_id IS NULL AND status <> 'pending' AND created_at < ?
               ORDER BY created_at LIMIT ?)`,
          )
          .run(before, limit).changes;
        return { alerts, deliveries };
      })
      .immediate();
  }

  ruleList(): AlertRule[] {
    return this.ruleAll.all().map(toAlertRule);
  }

  ruleRemove(id: string, actor: string, now: number): AlertRule {
    return this.db
      .transaction(() => {
        const row = this.ruleDelete.get(id);
        if (!row) throw new NotFoundError(`no alert rule with id "${id}"`);
        const rule = toAlertRule(row);
        const resolved = this.resolveByRule.run(now, id).changes;
        this.audit.append(
          alertRuleAudit('alert_rule.remove', rule, now, actor, { resolvedAlerts: resolved }),
        );
        return rule;
      })
      .immediate();
  }

  list(params: { state?: AlertState; limit: number }): Alert[] {
    const where = params.state === undefined ? '' : 'WHERE state = ?';
    const args: (string | number)[] = params.state === undefined ? [] : [params.state];
    return this.db
      .prepare<(string | number)[], AlertRow>(
        `SELECT * FROM alerts ${where} ORDER BY fired_at DESC, id DESC LIMIT ?`,
      )
      .all(...args, params.limit)
      .map(toAlert);
  }

  listLastResolved(keys: string[]): { key: string; resolvedAt: number }[] {
    const result: { key: string; resolvedAt: number }[] = [];
    for (const key of new Set(keys)) {
      const at = this.lastResolved.get(key)?.resolved_at;
      if (at !== null && at !== undefined) result.push({ key, resolvedAt: at });
    }
    return result;
  }

  fire(alert: Alert, deliveries: AlertDelivery[]): boolean {
    return this.db
      .transaction(() => {
        if (this.alertFiringByKey.get(alert.key)) return false;
        this.alertInsert.run({
          id: alert.id,
          rule_id: alert.ruleId,
          rule_name: alert.ruleName,
          queue: alert.queue,
          group_id: alert.groupId,
          key: alert.key,
          state: 'firing',
          fired_at: alert.firedAt,
          resolved_at: null,
          last_notified_at: alert.lastNotifiedAt,
          value: alert.value,
          details: JSON.stringify(alert.details),
        });
        this.insertDeliveries(deliveries);
        return true;
      })
      .immediate();
  }

  renotify(id: string, now: number, deliveries: AlertDelivery[]): boolean {
    return this.db
      .transaction(() => {
        if (this.alertRenotifyById.run(now, id).changes === 0) return false;
        this.insertDeliveries(deliveries);
        return true;
      })
      .immediate();
  }

  resolve(id: string, now: number, deliveries: AlertDelivery[]): boolean {
    return this.db
      .transaction(() => {
        if (this.alertResolveById.run(now, id).changes === 0) return false;
        this.insertDeliveries(deliveries);
        return true;
      })
      .immediate();
  }

  deliveryInsertAll(deliveries: AlertDelivery[]): void {
    this.db.transaction(() => this.insertDeliveries(deliveries)).immediate();
  }

  private insertDeliveries(deliveries: AlertDelivery[]): void {
    for (const d of deliveries) {
      this.deliveryInsert.run({
        id: d.id,
        alert_id: d.alertId,
        event: d.event,
        channel: d.channel,
        url: d.url,
        payload: JSON.stringify(d.payload),
        attempts: d.attempts,
        status: d.status,
        created_at: d.createdAt,
        next_attempt_at: d.nextAttemptAt,
        last_error: d.lastError,
        delivered_at: d.deliveredAt,
      });
    }
  }

  deliveryListDue(now: number, limit: number): AlertDelivery[] {
    return this.deliveryDue.all(now, limit).map(toAlertDelivery);
  }

  deliveryUpdateOne(params: {
    id: string;
    attempts: number;
    status: AlertDeliveryStatus;
    nextAttemptAt: number;
    lastError: string | null;
    deliveredAt: number | null;
  }): void {
    const changes = this.db
      .transaction(
        () =>
          this.deliveryUpdate.run(
            params.attempts,
            params.status,
            params.nextAttemptAt,
            params.lastError,
            params.deliveredAt,
            params.id,
          ).changes,
      )
      .immediate();
    if (changes === 0) throw new NotFoundError(`no alert delivery with id "${params.id}"`);
  }

  deliveryList(params: { alertIds?: string[]; event?: AlertDeliveryEvent; limit: number }): AlertDelivery[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (params.alertIds !== undefined) {
      if (params.alertIds.length === 0) return [];
      // json_each keeps the statement text the same whatever the number of ids.
      where.push('alert_id IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(params.alertIds));
    }
    if (params.event !== undefined) {
      where.push('event = ?');
      args.push(params.event);
    }
    const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    return this.db
      .prepare<(string | number)[], AlertDeliveryRow>(
        `SELECT * FROM alert_deliveries ${clause} ORDER BY created_at DESC, id DESC LIMIT ?`,
      )
      .all(...args, params.limit)
      .map(toAlertDelivery);
  }
}
