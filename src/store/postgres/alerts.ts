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
import { appendAudit } from './audit.ts';
import { quoteIdent } from './connection.ts';
import type { PgDb, Queryable } from './db.ts';

const RULE_COLUMNS =
  'id, name, queue, kind, threshold, window_ms, cooldown_ms, channels, enabled, created_at, created_by, renotify_ms';
const ALERT_COLUMNS =
  'id, rule_id, rule_name, queue, group_id, key, state, fired_at, resolved_at, last_notified_at, value, details';
const DELIVERY_COLUMNS =
  'id, alert_id, event, channel, url, payload, attempts, status, created_at, next_attempt_at, last_error, delivered_at';

/** A rule's values for `$1`-`$9` of an insert or update (RULE_COLUMNS' order up to `enabled`). */
function ruleValues(rule: AlertRule): unknown[] {
  return [
    rule.id,
    rule.name,
    rule.queue,
    rule.kind,
    rule.threshold,
    rule.windowMs,
    rule.cooldownMs,
    JSON.stringify(rule.channels),
    rule.enabled,
  ];
}

/**
 * The alert tables of the PostgreSQL store. JSON is kept as text (as SQLite does) so what was
 * stored comes back byte for byte. Changes that must commit together run in one transaction.
 */
export class PostgresAlerts {
  private readonly db: PgDb;
  private readonly schema: string;
  private readonly s: string;

  constructor(db: PgDb, schema: string) {
    this.db = db;
    this.schema = schema;
    this.s = quoteIdent(schema);
  }

  async ruleCreate(rule: AlertRule, actor: string): Promise<AlertRule> {
    return this.db.transaction(async (tx) => {
      const inserted = await tx.query(
        'alert_rule_insert',
        `INSERT INTO ${this.s}.alert_rules (${RULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT DO NOTHING`,
        [...ruleValues(rule), rule.createdAt, rule.createdBy, rule.renotifyMs],
      );
      if (inserted.rowCount !== 1) {
        throw new ConflictError(
          `an alert rule named "${rule.name}" exists: remove it first or pick another name`,
        );
      }
      await appendAudit(tx, this.schema, [alertRuleAudit('alert_rule.create', rule, rule.createdAt, actor)]);
      return rule;
    });
  }

  async ruleUpdate(rule: AlertRule, actor: string, now: number): Promise<AlertRule> {
    return this.db.transaction(async (tx) => {
      const found = await tx.query<AlertRuleRow>(
        'alert_rule_lock',
        `SELECT ${RULE_COLUMNS} FROM ${this.s}.alert_rules WHERE id = $1 FOR UPDATE`,
        [rule.id],
      );
      const before = found.rows[0];
      if (!before) throw new NotFoundError(`no alert rule with id "${rule.id}"`);
      const clash = await tx.query<{ id: string }>(
        'alert_rule_by_name',
        `SELECT id FROM ${this.s}.alert_rules WHERE name = $1 AND id <> $2`,
        [rule.name, rule.id],
      );
      if (clash.rows.length > 0) {
        throw new ConflictError(`an alert rule named "${rule.name}" exists: pick another name`);
      }
      const { rows } = await tx.query<AlertRuleRow>(
        'alert_rule_update',
        `UPDATE ${this.s}.alert_rules SET name = $2, queue = $3, kind = $4, threshold = $5, window_ms = $6,
           cooldown_ms = $7, channels = $8, enabled = $9, renotify_ms = $10
         WHERE id = $1 RETURNING ${RULE_COLUMNS}`,
        [...ruleValues(rule), rule.renotifyMs],
      );
      const updated = toAlertRule(rows[0] as AlertRuleRow);
      await appendAudit(tx, this.schema, [
        alertRuleAudit('alert_rule.update', updated, now, actor, {
          before: ruleForAudit(toAlertRule(before)),
        }),
      ]);
      return updated;
    });
  }

  async prune(before: number, limit: number): Promise<{ alerts: number; deliveries: number }> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string }>(
        'alert_prunable',
        `SELECT id FROM ${this.s}.alerts WHERE state = 'resolved' AND resolved_at < $1
         ORDER BY resolved_at, id LIMIT $2 FOR UPDATE`,
        [before, limit],
      );
      const ids = rows.map((row) => row.id);
      let deliveries = 0;
      let alerts = 0;
      if (ids.length > 0) {
        deliveries +=
          (
            await tx.query(
              'alert_prune_deliveries',
              `DELETE FROM ${this.s}.alert_deliveries WHERE alert_id = ANY($1::text[])`,
              [ids],
            )
          ).rowCount ?? 0;
        alerts +=
          (await tx.query('alert_prune', `DELETE FROM ${this.s}.alerts WHERE id = ANY($1::text[])`, [ids]))
            .rowCount ?? 0;
      }
      // Review reports belong to no alert: finished ones go by their age.
      deliveries +=
        (
          await tx.query(
            'alert_prune_reviews',
            `DELETE FROM ${this.s}.alert_deliveries WHERE id IN (
               SELECT id FROM ${this.s}.alert_deliveries
               WHERE alert_id IS NULL AND status <> 'pending' AND created_at < $1
               ORDER BY created_at LIMIT $2)`,
            [before, limit],
          )
        ).rowCount ?? 0;
      return { alerts, deliveries };
    });
  }

  async ruleList(): Promise<AlertRule[]> {
    const { rows } = await this.db.query<AlertRuleRow>(
      'alert_rule_list',
      `SELECT ${RULE_COLUMNS} FROM ${this.s}.alert_rules ORDER BY name`,
    );
    return rows.map(toAlertRule);
  }

  async ruleRemove(id: string, actor: string, now: number): Promise<AlertRule> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<AlertRuleRow>(
        'alert_rule_delete',
        `DELETE FROM ${this.s}.alert_rules WHERE id = $1 RETURNING ${RULE_COLUMNS}`,
        [id],
      );
      const row = rows[0];
      if (!row) throw new NotFoundError(`no alert rule with id "${id}"`);
      const rule = toAlertRule(row);
      // Spliced as text (details is a compact JSON object this store wrote): a round trip
      // through jsonb would refuse a "\u0000" in a string.
      const resolved = await tx.query(
        'alert_resolve_by_rule',
        `UPDATE ${this.s}.alerts SET state = 'resolved', resolved_at = $1,
           details = CASE WHEN details = '{}' THEN '{"resolvedBy":"rule removed"}'
             ELSE left(details, -1) || ',"resolvedBy":"rule removed"}' END
         WHERE rule_id = $2 AND state = 'firing'`,
        [now, id],
      );
      await appendAudit(tx, this.schema, [
        alertRuleAudit('alert_rule.remove', rule, now, actor, { resolvedAlerts: resolved.rowCount ?? 0 }),
      ]);
      return rule;
    });
  }

  async list(params: { state?: AlertState; limit: number }): Promise<Alert[]> {
    const { rows } = await this.db.query<AlertRow>(
      'alert_list',
      `SELECT ${ALERT_COLUMNS} FROM ${this.s}.alerts WHERE ($1::text IS NULL OR state = $1)
       ORDER BY fired_at DESC, id DESC LIMIT $2`,
      [params.state ?? null, params.limit],
    );
    return rows.map(toAlert);
  }

  async listLastResolved(keys: string[]): Promise<{ key: string; resolvedAt: number }[]> {
    if (keys.length === 0) return [];
    const { rows } = await this.db.query<{ key: string; resolved_at: number }>(
      'alert_last_resolved',
      `SELECT key, max(resolved_at) AS resolved_at FROM ${this.s}.alerts
       WHERE key = ANY($1::text[]) AND state = 'resolved' GROUP BY key ORDER BY key`,
      [[...new Set(keys)]],
    );
    return rows.map((row) => ({ key: row.key, resolvedAt: Number(row.resolved_at) }));
  }

  async fire(alert: Alert, deliveries: AlertDelivery[]): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // The partial unique index alerts_firing_key decides a race between two evaluators.
      const inserted = await tx.query(
        'alert_insert',
        `INSERT INTO ${this.s}.alerts (${ALERT_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, 'firing', $7, NULL, $8, $9, $10)
         ON CONFLICT (key) WHERE state = 'firing' DO NOTHING`,
        [
          alert.id,
          alert.ruleId,
          alert.ruleName,
          alert.queue,
          alert.groupId,
          alert.key,
          alert.firedAt,
          alert.lastNotifiedAt,
          alert.value,
          JSON.stringify(alert.details),
        ],
      );
      if (inserted.rowCount !== 1) return false;
      await this.insertDeliveries(tx, deliveries);
      return true;
    });
  }

  async renotify(id: string, now: number, deliveries: AlertDelivery[]): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const updated = await tx.query(
        'alert_renotify',
        `UPDATE ${this.s}.alerts SET last_notified_at = $1 WHERE id = $2 AND state = 'firing'`,
        [now, id],
      );
      if (updated.rowCount !== 1) return false;
      await this.insertDeliveries(tx, deliveries);
      return true;
    });
  }

  async resolve(id: string, now: number, deliveries: AlertDelivery[]): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const updated = await tx.query(
        'alert_resolve',
        `UPDATE ${this.s}.alerts SET state = 'resolved', resolved_at = $1 WHERE id = $2 AND state = 'firing'`,
        [now, id],
      );
      if (updated.rowCount !== 1) return false;
      await this.insertDeliveries(tx, deliveries);
      return true;
    });
  }

  async deliveryInsertAll(deliveries: AlertDelivery[]): Promise<void> {
    await this.insertDeliveries(this.db, deliveries);
  }

  private async insertDeliveries(tx: Queryable, deliveries: AlertDelivery[]): Promise<void> {
    for (const d of deliveries) {
      await tx.query(
        'alert_delivery_insert',
        `INSERT INTO ${this.s}.alert_deliveries (${DELIVERY_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          d.id,
          d.alertId,
          d.event,
          d.channel,
          d.url,
          JSON.stringify(d.payload),
          d.attempts,
          d.status,
          d.createdAt,
          d.nextAttemptAt,
          d.lastError,
          d.deliveredAt,
        ],
      );
    }
  }

  async deliveryListDue(now: number, limit: number): Promise<AlertDelivery[]> {
    const { rows } = await this.db.query<AlertDeliveryRow>(
      'alert_delivery_due',
      `SELECT ${DELIVERY_COLUMNS} FROM ${this.s}.alert_deliveries
       WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2`,
      [now, limit],
    );
    return rows.map(toAlertDelivery);
  }

  async deliveryUpdateOne(params: {
    id: string;
    attempts: number;
    status: AlertDeliveryStatus;
    nextAttemptAt: number;
    lastError: string | null;
    deliveredAt: number | null;
  }): Promise<void> {
    const result = await this.db.query(
      'alert_delivery_update',
      `UPDATE ${this.s}.alert_deliveries SET attempts = $1, status = $2, next_attempt_at = $3,
         last_error = $4, delivered_at = $5 WHERE id = $6`,
      [params.attempts, params.status, params.nextAttemptAt, params.lastError, params.deliveredAt, params.id],
    );
    if (result.rowCount !== 1) throw new NotFoundError(`no alert delivery with id "${params.id}"`);
  }

  async deliveryList(params: {
    alertIds?: string[];
    event?: AlertDeliveryEvent;
    limit: number;
  }): Promise<AlertDelivery[]> {
    if (params.alertIds !== undefined && params.alertIds.length === 0) return [];
    const { rows } = await this.db.query<AlertDeliveryRow>(
      'alert_delivery_list',
      `SELECT ${DELIVERY_COLUMNS} FROM ${this.s}.alert_deliveries
       WHERE ($1::text[] IS NULL OR alert_id = ANY($1::text[])) AND ($2::text IS NULL OR event = $2)
       ORDER BY created_at DESC, id DESC LIMIT $3`,
      [params.alertIds ?? null, params.event ?? null, params.limit],
    );
    return rows.map(toAlertDelivery);
  }
}
