import type { Alert, AlertDelivery, AlertRule } from '../core/alert.ts';
import { alertPayloadFor, alertWebhookPayload } from '../core/alert-payloads.ts';
import {
  type AlertGrowth,
  alertsToRenotify,
  diffAlerts,
  evaluateAlertRules,
  growthWindows,
} from '../core/alert-rules.ts';
import type { Clock } from '../core/clock.ts';
import { newId } from '../core/ids.ts';
import type { Store } from '../store/store.ts';
import type { MaintenanceService } from './maintenance.ts';

/** Options of {@link evaluateAlerts} and {@link alertEvaluatorService}. */
export interface AlertEvaluatorOptions {
  store: Store;
  clock: Clock;
  /** How often the service evaluates the rules (injected clock). Default 30s. */
  intervalMs?: number;
  /** The dashboard's public address: payloads then carry a `url` to the queue or group. */
  dashboardUrl?: string;
  /** Most groups of each status (`new`, `regressed`) read per evaluation, most recently seen first. Default 1000. */
  groupLimit?: number;
}

/** What one evaluation changed. */
export interface AlertEvaluationResult {
  fired: Alert[];
  resolved: Alert[];
  /** Conditions that hold but whose key resolved less than its cooldown ago. */
  coolingDown: number;
  /** Alerts firing after the evaluation. */
  firing: number;
  /** Still-firing alerts notified again (their rule's `renotifyMs` had passed). */
  renotified: Alert[];
}

/** Firing alerts read per evaluation: far more than any deployment has rules × queues. */
const FIRING_LIMIT = 100_000;

/**
 * Evaluates every rule once at the clock's `now` and brings the firing alerts in line: a
 * condition that holds and has no firing alert fires (unless its key resolved less than the
 * rule's cooldown ago); a firing alert whose condition cleared (or whose rule was disabled)
 * resolves. Each fire and resolve writes its notifications to the outbox in the same
 * transaction; {@link deliverAlerts} sends them. An alert that is firing stays one alert, with
 * no further notification however many dead letters arrive, unless its rule has `renotifyMs`:
 * then it is notified again (a reminder, `renotify: true`) each time that long has passed
 * since its last notification, while it still fires.
 */
export async function evaluateAlerts(options: AlertEvaluatorOptions): Promise<AlertEvaluationResult> {
  const { store, clock } = options;
  const [rules, firing] = await Promise.all([
    store.alertRuleList(),
    store.alertList({ state: 'firing', limit: FIRING_LIMIT }),
  ]);
  const result: AlertEvaluationResult = {
    fired: [],
    resolved: [],
    coolingDown: 0,
    firing: firing.length,
    renotified: [],
  };
  if (rules.length === 0 && firing.length === 0) return result;

  const now = clock.now();
  const stats = await store.queueStats({ now });
  const growth: AlertGrowth[] = await Promise.all(
    growthWindows(
      rules,
      stats.map((s) => s.queue),
    ).map(async ({ queue, windowMs }) => {
      const died = await store.deadLetterCountDied({ queue, since: now - windowMs, until: now + 1 });
      return { queue, windowMs, count: died.dead + died.replayed + died.discarded };
    }),
  );
  const groupRules = rules.some((r) => r.enabled && (r.kind === 'new_group' || r.kind === 'regressed_group'));
  const limit = options.groupLimit ?? 1000;
  const groups = groupRules
    ? (
        await Promise.all([
          store.groupList({ status: 'new', sort: 'lastSeen', limit }),
          store.groupList({ status: 'regressed', sort: 'lastSeen', limit }),
        ])
      ).flat()
    : [];

  const desired = evaluateAlertRules(rules, {
    now,
    queues: stats.map((s) => ({ queue: s.queue, depth: s.dead, oldestDeadAt: s.oldestDeadAt })),
    growth,
    groups,
  });
  const firingKeys = new Set(firing.map((a) => a.key));
  const resolvedRows = await store.alertListLastResolved({
    keys: desired.filter((d) => !firingKeys.has(d.key)).map((d) => d.key),
  });
  const diff = diffAlerts({
    desired,
    firing,
    lastResolvedAt: new Map(resolvedRows.map((r) => [r.key, r.resolvedAt])),
    now,
  });
  result.coolingDown = diff.coolingDown.length;

  for (const d of diff.fire) {
    const alert: Alert = {
      id: newId(),
      ruleId: d.rule.id,
      ruleName: d.rule.name,
      queue: d.queue,
      groupId: d.groupId,
      key: d.key,
      state: 'firing',
      firedAt: now,
      resolvedAt: null,
      lastNotifiedAt: now,
      value: d.value,
      details: d.details,
    };
    const deliveries = alertDeliveries(d.rule, alert, 'fired', now, options.dashboardUrl);
    if (await store.alertFire({ alert, deliveries })) {
      result.fired.push(alert);
      result.firing++;
    }
  }
  for (const { alert, desired: d } of alertsToRenotify({ desired, firing, now })) {
    // The reminder carries the value measured now; the alert keeps the one it fired with.
    const deliveries = alertDeliveries(
      d.rule,
      { ...alert, value: d.value },
      'fired',
      now,
      options.dashboardUrl,
      true,
    );
    if (await store.alertRenotify({ id: alert.id, now, deliveries })) {
      result.renotified.push({ ...alert, lastNotifiedAt: now });
    }
  }
  const rulesById = new Map(rules.map((r) => [r.id, r]));
  for (const alert of diff.resolve) {
    const rule = rulesById.get(alert.ruleId);
    const resolved: Alert = { ...alert, state: 'resolved', resolvedAt: now };
    // A rule removed since the read resolved its alerts itself, silently.
    const deliveries = rule ? alertDeliveries(rule, resolved, 'resolved', now, options.dashboardUrl) : [];
    if (await store.alertResolve({ id: alert.id, now, deliveries })) {
      result.resolved.push(resolved);
      result.firing--;
    }
  }
  return result;
}

/** One pending delivery per channel of the rule, with its payload rendered now. */
function alertDeliveries(
  rule: AlertRule,
  alert: Alert,
  event: 'fired' | 'resolved',
  now: number,
  dashboardUrl: string | undefined,
  renotify = false,
): AlertDelivery[] {
  const generic = alertWebhookPayload({
    event,
    rule,
    alert,
    ...(dashboardUrl !== undefined && { dashboardUrl }),
    ...(renotify && { renotify }),
  });
  return rule.channels.map((channel) => ({
    id: newId(),
    alertId: alert.id,
    event,
    channel: channel.type,
    url: channel.url ?? null,
    payload: alertPayloadFor(channel.type, generic),
    attempts: 0,
    status: 'pending',
    createdAt: now,
    nextAttemptAt: now,
    lastError: null,
    deliveredAt: null,
  }));
}

/** The evaluator as a maintenance service (leader-only: one process evaluates for all). */
export function alertEvaluatorService(options: AlertEvaluatorOptions): MaintenanceService {
  return {
    name: 'alert evaluator',
    intervalMs: options.intervalMs ?? 30_000,
    run: () => evaluateAlerts(options),
  };
}
