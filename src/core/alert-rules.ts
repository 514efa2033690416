import { type Alert, type AlertRule, alertKey } from './alert.ts';
import type { Group } from './group.ts';
import type { Json } from './message.ts';

/** One queue's DLQ as the evaluator sees it. */
export interface AlertQueueState {
  queue: string;
  /** Dead letters in the DLQ. */
  depth: number;
  /** `diedAt` of the oldest dead letter in the DLQ, or null when empty. */
  oldestDeadAt: number | null;
}

/** Dead letters that died in a queue within the last `windowMs` (replayed and discarded ones included). */
export interface AlertGrowth {
  queue: string;
  windowMs: number;
  count: number;
}

/** The group fields the group rules read. */
export type AlertGroupState = Pick<
  Group,
  'id' | 'status' | 'firstSeen' | 'deadCount' | 'queues' | 'errorName' | 'normalizedMessage'
>;

/** Everything the rules are evaluated against, read at one time `now`. */
export interface AlertSnapshot {
  now: number;
  queues: AlertQueueState[];
  /** The growth of each (queue, window) that {@link growthWindows} asked for. */
  growth: AlertGrowth[];
  /** Groups with status `new` or `regressed` (others never fire). */
  groups: AlertGroupState[];
}

/** An alert that should be firing now: one per rule, queue and group. */
export interface DesiredAlert {
  rule: AlertRule;
  queue: string;
  groupId: string | null;
  key: string;
  value: number;
  details: { [key: string]: Json };
}

function watches(rule: AlertRule, queue: string): boolean {
  return rule.queue === null || rule.queue === queue;
}

/**
 * The (queue, window) pairs whose growth the enabled growth rules need, without duplicates:
 * the engine reads them from the store before {@link evaluateAlertRules}.
 */
export function growthWindows(rules: AlertRule[], queues: string[]): { queue: string; windowMs: number }[] {
  const seen = new Map<string, { queue: string; windowMs: number }>();
  for (const rule of rules) {
    if (!rule.enabled || rule.kind !== 'growth' || rule.windowMs === null) continue;
    for (const queue of queues) {
      if (!watches(rule, queue)) continue;
      seen.set(`${queue}\u001f${rule.windowMs}`, { queue, windowMs: rule.windowMs });
    }
  }
  return [...seen.values()];
}

/**
 * The alerts that should be firing: for each enabled rule and each queue it watches (and, for
 * group rules, each matching group of that queue), one {@link DesiredAlert} when the condition
 * holds. Alerts are on patterns: however many dead letters a group holds, it is one alert.
 * A rule on a queue that does not exist fires nothing.
 */
export function evaluateAlertRules(rules: AlertRule[], snapshot: AlertSnapshot): DesiredAlert[] {
  const desired: DesiredAlert[] = [];
  const growth = new Map(snapshot.growth.map((g) => [`${g.queue}\u001f${g.windowMs}`, g.count]));
  const add = (
    rule: AlertRule,
    queue: string,
    groupId: string | null,
    value: number,
    details: DesiredAlert['details'],
  ) => desired.push({ rule, queue, groupId, key: alertKey(rule.id, queue, groupId), value, details });

  for (const rule of rules) {
    if (!rule.enabled) continue;
    for (const q of snapshot.queues) {
      if (!watches(rule, q.queue)) continue;
      switch (rule.kind) {
        case 'depth':
          if (q.depth > rule.threshold) add(rule, q.queue, null, q.depth, {});
          break;
        case 'growth': {
          const count = growth.get(`${q.queue}\u001f${rule.windowMs}`) ?? 0;
          if (count > rule.threshold) add(rule, q.queue, null, count, { windowMs: rule.windowMs });
          break;
        }
        case 'oldest': {
          if (q.oldestDeadAt === null) break;
          const age = snapshot.now - q.oldestDeadAt;
          if (age > rule.threshold) add(rule, q.queue, null, age, { oldestDeadAt: q.oldestDeadAt });
          break;
        }
        case 'new_group':
        case 'regressed_group':
          for (const group of snapshot.groups) {
            if (!groupMatches(rule, group, q.queue, snapshot.now)) continue;
            add(rule, q.queue, group.id, group.deadCount, {
              errorName: group.errorName,
              message: group.normalizedMessage,
              firstSeen: group.firstSeen,
              status: group.status,
            });
          }
          break;
      }
    }
  }
  return desired;
}

function groupMatches(rule: AlertRule, group: AlertGroupState, queue: string, now: number): boolean {
  if (!group.queues.includes(queue)) return false;
  if (group.deadCount < Math.max(1, rule.threshold)) return false;
  if (rule.kind === 'regressed_group') return group.status === 'regressed';
  if (group.status !== 'new') return false;
  // Groups older than the rule are not news: adding a rule does not page for last month's bugs.
  if (group.firstSeen < rule.createdAt) return false;
  return rule.windowMs === null || group.firstSeen >= now - rule.windowMs;
}

/** What the engine must change so that the firing alerts match the desired ones. */
export interface AlertDiff {
  /** Desired alerts with no firing alert of their key and out of their cooldown. */
  fire: DesiredAlert[];
  /** Firing alerts no longer desired (the condition cleared, or the rule was disabled or removed). */
  resolve: Alert[];
  /** Desired alerts held back because their key resolved less than the cooldown ago. */
  coolingDown: DesiredAlert[];
}

/**
 * The firing alerts due for a reminder: their condition still holds (so they are in `desired`,
 * whose rule is the current one), the rule has `renotifyMs`, and that long has passed since
 * the alert was last notified. Each comes with its desired alert (the value measured now).
 */
export function alertsToRenotify(params: {
  desired: DesiredAlert[];
  firing: Alert[];
  now: number;
}): { alert: Alert; desired: DesiredAlert }[] {
  const byKey = new Map(params.desired.map((d) => [d.key, d]));
  const due: { alert: Alert; desired: DesiredAlert }[] = [];
  for (const alert of params.firing) {
    const desired = byKey.get(alert.key);
    const every = desired?.rule.renotifyMs ?? null;
    if (!desired || every === null) continue;
    if (params.now - (alert.lastNotifiedAt ?? alert.firedAt) >= every) due.push({ alert, desired });
  }
  return due;
}

/**
 * Diffs the desired alerts with the firing ones by key. `lastResolvedAt` gives, per key, when
 * that key's last alert resolved (absent: never): a key fires again only once its rule's
 * cooldown has passed since then.
 */
export function diffAlerts(params: {
  desired: DesiredAlert[];
  firing: Alert[];
  lastResolvedAt: ReadonlyMap<string, number>;
  now: number;
}): AlertDiff {
  const firingKeys = new Set(params.firing.map((a) => a.key));
  const desiredKeys = new Set(params.desired.map((d) => d.key));
  const diff: AlertDiff = { fire: [], resolve: [], coolingDown: [] };
  for (const alert of params.firing) if (!desiredKeys.has(alert.key)) diff.resolve.push(alert);
  for (const d of params.desired) {
    if (firingKeys.has(d.key)) continue;
    const resolvedAt = params.lastResolvedAt.get(d.key);
    if (resolvedAt !== undefined && params.now - resolvedAt < d.rule.cooldownMs) diff.coolingDown.push(d);
    else diff.fire.push(d);
  }
  return diff;
}
