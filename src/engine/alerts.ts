import {
  ALERT_KINDS,
  type Alert,
  type AlertChannel,
  type AlertDelivery,
  type AlertKind,
  type AlertRule,
  type AlertState,
  validateAlertRule,
} from '../core/alert.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import { NotFoundError, ValidationError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Store } from '../store/store.ts';

/** What `dlq alert rule add` and `POST /alert-rules` take. Durations as `10m`, `30m` or ms. */
export interface AlertRuleInput {
  name: string;
  /** The queue watched; absent or null: every queue. */
  queue?: string | null;
  kind: AlertKind;
  /** Dead letters (depth, growth, groups), or for `oldest` a duration (`2h`). Default 0 for group rules. */
  threshold?: number | string;
  window?: Duration | null;
  /** Default 30 minutes. */
  cooldown?: Duration;
  /** Notify a still-firing alert again after this long (at least 1m); absent or null: once. */
  renotify?: Duration | null;
  channels: AlertChannel[];
  /** Default true. */
  enabled?: boolean;
}

/** The default cooldown after a resolve before the same rule, queue and group fires again. */
export const DEFAULT_ALERT_COOLDOWN_MS = 30 * 60_000;

/**
 * Creates an alert rule (validated; audited as `alert_rule.create` by `actor`). A rule on a
 * queue that does not exist is refused (`NotFoundError`): it could never fire.
 */
export async function createAlertRule(
  store: Store,
  params: { input: AlertRuleInput; actor: string; now: number },
): Promise<AlertRule> {
  const { input } = params;
  if (!(ALERT_KINDS as readonly string[]).includes(input.kind)) {
    throw new ValidationError(`unknown alert kind "${input.kind}": use ${ALERT_KINDS.join(', ')}`);
  }
  const queue = input.queue ?? null;
  if (queue !== null && !(await store.queueGet({ name: queue }))) {
    throw new NotFoundError(`queue "${queue}" does not exist`);
  }
  const groupKind = input.kind === 'new_group' || input.kind === 'regressed_group';
  if (input.threshold === undefined && !groupKind) {
    throw new ValidationError(`a ${input.kind} rule needs a threshold`);
  }
  const rule: AlertRule = {
    id: newId(),
    name: input.name,
    queue,
    kind: input.kind,
    threshold: parseThreshold(input.kind, input.threshold ?? 0),
    windowMs:
      input.window === undefined || input.window === null ? null : parseDuration(input.window, 'window'),
    cooldownMs:
      input.cooldown === undefined ? DEFAULT_ALERT_COOLDOWN_MS : parseDuration(input.cooldown, 'cooldown'),
    renotifyMs: parseRenotify(input.renotify),
    channels: input.channels.map((c) =>
      c.url === undefined ? { type: c.type } : { type: c.type, url: c.url },
    ),
    enabled: input.enabled ?? true,
    createdAt: params.now,
    createdBy: params.actor,
  };
  return store.alertRuleCreate({ rule: validateAlertRule(rule), actor: params.actor });
}

/** A re-notification interval: null (or 0) is off. */
function parseRenotify(value: Duration | null | undefined): number | null {
  if (value === undefined || value === null) return null;
  const ms = parseDuration(value, 'renotify');
  return ms === 0 ? null : ms;
}

function parseThreshold(kind: AlertKind, value: number | string): number {
  if (kind === 'oldest') return parseDuration(value, 'threshold');
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ValidationError(`invalid threshold "${value}": a whole number of dead letters >= 0`);
  }
  return n;
}

/** The rule whose id or name is `ref`; throws `NotFoundError`. */
export async function findAlertRule(store: Store, ref: string): Promise<AlertRule> {
  const rule = (await store.alertRuleList()).find((r) => r.id === ref || r.name === ref);
  if (!rule) throw new NotFoundError(`no alert rule "${ref}" (see \`dlq alert rule list\`)`);
  return rule;
}

/** Removes the rule named (or with the id) `ref`; its firing alerts resolve silently. */
export async function removeAlertRule(
  store: Store,
  params: { ref: string; actor: string; now: number },
): Promise<AlertRule> {
  const rule = await findAlertRule(store, params.ref);
  return store.alertRuleRemove({ id: rule.id, actor: params.actor, now: params.now });
}

/** What `dlq alert rule update` and `PATCH /alert-rules/:rule` change; absent fields keep their value. */
export type AlertRuleChanges = Partial<Omit<AlertRuleInput, 'kind'>>;

/**
 * Changes the settings of the rule named (or with the id) `ref`, validated as on create and
 * audited as `alert_rule.update`. Its kind stays (remove it and add another). A disabled rule
 * resolves what it had firing at the next evaluation; a rule enabled again fires anew.
 */
export async function updateAlertRule(
  store: Store,
  params: { ref: string; changes: AlertRuleChanges; actor: string; now: number },
): Promise<AlertRule> {
  const current = await findAlertRule(store, params.ref);
  const { changes } = params;
  if (Object.values(changes).every((value) => value === undefined)) {
    throw new ValidationError('nothing to change: give at least one setting');
  }
  const queue = changes.queue === undefined ? current.queue : changes.queue;
  if (queue !== null && queue !== current.queue && !(await store.queueGet({ name: queue }))) {
    throw new NotFoundError(`queue "${queue}" does not exist`);
  }
  const rule: AlertRule = {
    ...current,
    name: changes.name ?? current.name,
    queue,
    threshold:
      changes.threshold === undefined ? current.threshold : parseThreshold(current.kind, changes.threshold),
    windowMs:
      changes.window === undefined
        ? current.windowMs
        : changes.window === null
          ? null
          : parseDuration(changes.window, 'window'),
    cooldownMs:
      changes.cooldown === undefined ? current.cooldownMs : parseDuration(changes.cooldown, 'cooldown'),
    renotifyMs: changes.renotify === undefined ? current.renotifyMs : parseRenotify(changes.renotify),
    channels:
      changes.channels === undefined
        ? current.channels
        : changes.channels.map((c) =>
            c.url === undefined ? { type: c.type } : { type: c.type, url: c.url },
          ),
    enabled: changes.enabled ?? current.enabled,
  };
  return store.alertRuleUpdate({ rule: validateAlertRule(rule), actor: params.actor, now: params.now });
}

/** How long resolved alerts and their notifications are kept by default. */
export const DEFAULT_ALERT_HISTORY_MS = 30 * 86_400_000;

/** Alerts (and deliveries) pruned per transaction. */
const PRUNE_BATCH = 1_000;

/**
 * Deletes the alert history older than `keepMs` (default 30 days): alerts resolved before
 * `now - keepMs` with their notifications, and sent or failed review reports created before
 * it. Firing alerts and pending notifications stay whatever their age. Runs in batches of 1,000.
 */
export async function pruneAlertHistory(
  store: Store,
  params: { now: number; keepMs?: number },
): Promise<{ alerts: number; deliveries: number; before: number }> {
  const before = params.now - (params.keepMs ?? DEFAULT_ALERT_HISTORY_MS);
  const total = { alerts: 0, deliveries: 0, before };
  for (;;) {
    const pruned = await store.alertPrune({ before, limit: PRUNE_BATCH });
    total.alerts += pruned.alerts;
    total.deliveries += pruned.deliveries;
    if (pruned.alerts < PRUNE_BATCH && pruned.deliveries < PRUNE_BATCH) return total;
  }
}

/** An alert of the history with its notifications (newest first). */
export interface AlertHistoryEntry extends Alert {
  deliveries: Omit<AlertDelivery, 'payload'>[];
}

/** The alert history, newest first, each alert with its deliveries' status. */
export async function listAlertHistory(
  store: Store,
  params: { state?: AlertState; limit?: number },
): Promise<AlertHistoryEntry[]> {
  const alerts = await store.alertList({
    limit: params.limit ?? 50,
    ...(params.state !== undefined && { state: params.state }),
  });
  const deliveries = await store.alertDeliveryList({
    alertIds: alerts.map((a) => a.id),
    limit: alerts.length * 20,
  });
  return alerts.map((alert) => ({
    ...alert,
    deliveries: deliveries
      .filter((d) => d.alertId === alert.id)
      .map(({ payload: _payload, ...rest }) => rest),
  }));
}
