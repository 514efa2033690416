import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Alert, type AlertRule, alertKey, validateAlertRule } from '../../src/core/alert.ts';
import { alertSlackPayload, alertWebhookPayload } from '../../src/core/alert-payloads.ts';
import {
  type AlertGroupState,
  type AlertSnapshot,
  alertsToRenotify,
  diffAlerts,
  evaluateAlertRules,
  growthWindows,
} from '../../src/core/alert-rules.ts';
import { ValidationError } from '../../src/core/errors.ts';

const T = Date.UTC(2026, 0, 1);
const MIN = 60_000;

function rule(overrides: Partial<AlertRule> = {}): AlertRule {
  return {
    id: 'r1',
    name: 'r1',
    queue: null,
    kind: 'depth',
    threshold: 10,
    windowMs: null,
    cooldownMs: 30 * MIN,
    renotifyMs: null,
    channels: [{ type: 'log' }],
    enabled: true,
    createdAt: T,
    createdBy: 'test',
    ...overrides,
  };
}

function group(overrides: Partial<AlertGroupState> = {}): AlertGroupState {
  return {
    id: 'g1',
    status: 'new',
    firstSeen: T + MIN,
    deadCount: 1,
    queues: ['orders'],
    errorName: 'TypeError',
    normalizedMessage: 'x is undefined',
    ...overrides,
  };
}

function snapshot(overrides: Partial<AlertSnapshot> = {}): AlertSnapshot {
  return {
    now: T + 10 * MIN,
    queues: [
      { queue: 'orders', depth: 0, oldestDeadAt: null },
      { queue: 'emails', depth: 0, oldestDeadAt: null },
    ],
    growth: [],
    groups: [],
    ...overrides,
  };
}

describe('evaluateAlertRules', () => {
  it('fires a depth rule above (not at) its threshold, per queue it watches', () => {
    const s = snapshot({
      queues: [
        { queue: 'orders', depth: 11, oldestDeadAt: T },
        { queue: 'emails', depth: 10, oldestDeadAt: T },
      ],
    });
    expect(evaluateAlertRules([rule()], s).map((d) => [d.queue, d.value])).toEqual([['orders', 11]]);
    expect(evaluateAlertRules([rule({ queue: 'emails' })], s)).toEqual([]);
    expect(evaluateAlertRules([rule({ enabled: false })], s)).toEqual([]);
    expect(evaluateAlertRules([rule({ queue: 'missing' })], s)).toEqual([]);
  });

  it('fires growth from the window asked for, and oldest by age', () => {
    const growth = rule({ id: 'g', kind: 'growth', threshold: 5, windowMs: 10 * MIN });
    const oldest = rule({ id: 'o', kind: 'oldest', threshold: 60 * MIN, queue: 'orders' });
    expect(growthWindows([growth, oldest, growth], ['orders', 'emails'])).toEqual([
      { queue: 'orders', windowMs: 10 * MIN },
      { queue: 'emails', windowMs: 10 * MIN },
    ]);
    const s = snapshot({
      now: T + 120 * MIN,
      queues: [
        { queue: 'orders', depth: 1, oldestDeadAt: T },
        { queue: 'emails', depth: 1, oldestDeadAt: T + 100 * MIN },
      ],
      growth: [
        { queue: 'orders', windowMs: 10 * MIN, count: 5 },
        { queue: 'emails', windowMs: 10 * MIN, count: 6 },
      ],
    });
    expect(evaluateAlertRules([growth, oldest], s).map((d) => [d.rule.id, d.queue, d.value])).toEqual([
      ['g', 'emails', 6],
      ['o', 'orders', 120 * MIN],
    ]);
  });

  it('fires group rules per group: new ones first seen after the rule (and in the window), regressed ones', () => {
    const fresh = rule({ kind: 'new_group', threshold: 0 });
    const windowed = rule({ id: 'w', kind: 'new_group', threshold: 0, windowMs: 5 * MIN });
    const regressed = rule({ id: 'reg', kind: 'regressed_group', threshold: 2 });
    const s = snapshot({
      groups: [
        group({ id: 'recent', firstSeen: T + 8 * MIN }),
        group({ id: 'older', firstSeen: T + MIN }),
        group({ id: 'before-rule', firstSeen: T - 1 }),
        group({ id: 'empty', deadCount: 0 }),
        group({ id: 'acked', status: 'acknowledged' }),
        group({ id: 'back', status: 'regressed', deadCount: 2, queues: ['emails', 'orders'] }),
        group({ id: 'back-small', status: 'regressed', deadCount: 1 }),
      ],
    });
    const keys = (r: AlertRule) => evaluateAlertRules([r], s).map((d) => `${d.queue}/${d.groupId}`);
    expect(keys(fresh)).toEqual(['orders/recent', 'orders/older']);
    expect(keys(windowed)).toEqual(['orders/recent']);
    expect(keys(regressed)).toEqual(['orders/back', 'emails/back']);
  });

  it('a burst of dead letters of one new group is one alert, whatever its size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 5 }), (burst, others) => {
        const groups = [
          group({ id: 'bug', deadCount: burst }),
          ...Array.from({ length: others }, (_, k) =>
            group({ id: `old-${k}`, status: 'acknowledged', deadCount: 3 }),
          ),
        ];
        const desired = evaluateAlertRules([rule({ kind: 'new_group', threshold: 1 })], snapshot({ groups }));
        expect(desired.map((d) => [d.groupId, d.value])).toEqual([['bug', burst]]);
        // And once it fires, the next evaluations change nothing while the burst goes on.
        const firing: Alert[] = desired.map((d) => firingAlert(d.key, d.rule.id));
        const next = evaluateAlertRules(
          [rule({ kind: 'new_group', threshold: 1 })],
          snapshot({ groups: [group({ id: 'bug', deadCount: burst + 1 })] }),
        );
        const diff = diffAlerts({ desired: next, firing, lastResolvedAt: new Map(), now: T + 11 * MIN });
        expect(diff.fire).toEqual([]);
        expect(diff.resolve).toEqual([]);
      }),
    );
  });
});

function firingAlert(key: string, ruleId = 'r1'): Alert {
  return {
    id: `a-${key}`,
    ruleId,
    ruleName: ruleId,
    queue: 'orders',
    groupId: null,
    key,
    state: 'firing',
    firedAt: T,
    resolvedAt: null,
    lastNotifiedAt: T,
    value: 1,
    details: {},
  };
}

describe('diffAlerts', () => {
  it('fires new keys, resolves cleared ones, and holds back keys inside their cooldown', () => {
    const r = rule({ cooldownMs: 10 * MIN });
    const now = T + 60 * MIN;
    const d = (queue: string) => ({
      rule: r,
      queue,
      groupId: null,
      key: alertKey(r.id, queue, null),
      value: 20,
      details: {},
    });
    const diff = diffAlerts({
      desired: [d('orders'), d('emails'), d('cool'), d('warm')],
      firing: [firingAlert(alertKey(r.id, 'orders', null)), firingAlert(alertKey(r.id, 'gone', null))],
      lastResolvedAt: new Map([
        [alertKey(r.id, 'cool', null), now - 10 * MIN + 1],
        [alertKey(r.id, 'warm', null), now - 10 * MIN],
      ]),
      now,
    });
    expect(diff.fire.map((x) => x.queue)).toEqual(['emails', 'warm']);
    expect(diff.coolingDown.map((x) => x.queue)).toEqual(['cool']);
    expect(diff.resolve.map((x) => x.key)).toEqual([alertKey(r.id, 'gone', null)]);
  });
});

describe('alertsToRenotify', () => {
  it('reminds of firing alerts whose rule re-notifies, once its interval has passed since the last notification', () => {
    const every = rule({ id: 'every', renotifyMs: 60 * MIN });
    const once = rule({ id: 'once' });
    const d = (r: AlertRule, queue: string, value = 20) => ({
      rule: r,
      queue,
      groupId: null,
      key: alertKey(r.id, queue, null),
      value,
      details: {},
    });
    const now = T + 120 * MIN;
    const due = alertsToRenotify({
      desired: [d(every, 'due', 42), d(every, 'early'), d(every, 'never-notified'), d(once, 'due')],
      firing: [
        { ...firingAlert(alertKey('every', 'due', null)), lastNotifiedAt: now - 60 * MIN },
        { ...firingAlert(alertKey('every', 'early', null)), lastNotifiedAt: now - 60 * MIN + 1 },
        // Counted from when it fired.
        { ...firingAlert(alertKey('every', 'never-notified', null)), lastNotifiedAt: null },
        { ...firingAlert(alertKey('once', 'due', null)), lastNotifiedAt: now - 600 * MIN },
        // Firing but no longer desired: it resolves, no reminder.
        { ...firingAlert(alertKey('every', 'cleared', null)), lastNotifiedAt: now - 600 * MIN },
      ],
      now,
    });
    expect(due.map((x) => [x.alert.key, x.desired.value])).toEqual([
      [alertKey('every', 'due', null), 42],
      [alertKey('every', 'never-notified', null), 20],
    ]);
  });

  it('says "still firing" in a reminder, in the JSON and the Slack body', () => {
    const payload = alertWebhookPayload({
      event: 'fired',
      rule: rule({ name: 'orders-depth', renotifyMs: 60 * MIN }),
      alert: { ...firingAlert('k'), value: 300, queue: 'orders' },
      renotify: true,
    });
    expect(payload).toMatchObject({ event: 'fired', renotify: true, value: 300 });
    expect(payload.summary).toBe(
      `still firing since ${new Date(T).toISOString()}: orders: 300 dead letters in the DLQ (threshold 10) [rule orders-depth]`,
    );
    expect(alertSlackPayload(payload).text).toMatch(
      /^:rotating_light: Alert still firing: still firing since/,
    );
    expect(alertWebhookPayload({ event: 'fired', rule: rule(), alert: firingAlert('k') })).not.toHaveProperty(
      'renotify',
    );
  });

  it('validates the interval: at least a minute, or none', () => {
    expect(() => validateAlertRule(rule({ renotifyMs: 60 * MIN }))).not.toThrow();
    expect(() => validateAlertRule(rule({ renotifyMs: 59_999 }))).toThrow(/invalid renotify 59999/);
  });
});

describe('alert rules and payloads', () => {
  it('validates rules', () => {
    expect(() => validateAlertRule(rule())).not.toThrow();
    expect(() => validateAlertRule(rule({ name: 'bad name' }))).toThrow(ValidationError);
    expect(() => validateAlertRule(rule({ kind: 'growth' }))).toThrow(/needs a window/);
    expect(() => validateAlertRule(rule({ channels: [] }))).toThrow(/at least one channel/);
    expect(() => validateAlertRule(rule({ channels: [{ type: 'webhook' }] }))).toThrow(/needs a url/);
    expect(() => validateAlertRule(rule({ channels: [{ type: 'slack', url: 'ftp://x' }] }))).toThrow(/http/);
    expect(() => validateAlertRule(rule({ threshold: -1 }))).toThrow(/threshold/);
  });

  it('renders the generic JSON and the Slack body', () => {
    const r = rule({ name: 'orders-depth', threshold: 10 });
    const alert = { ...firingAlert('k'), value: 250, queue: 'orders<&>' };
    const payload = alertWebhookPayload({
      event: 'fired',
      rule: r,
      alert,
      dashboardUrl: 'https://dlq.example/',
    });
    expect(payload).toMatchObject({
      event: 'fired',
      rule: 'orders-depth',
      queue: 'orders<&>',
      group: null,
      value: 250,
      threshold: 10,
      firedAt: T,
      resolvedAt: null,
      url: 'https://dlq.example/queues/orders%3C%26%3E',
    });
    expect(payload.summary).toContain('250 dead letters');
    const slack = alertSlackPayload(payload);
    expect(slack.text).toMatch(/^:rotating_light: Alert firing: orders&lt;&amp;&gt;: 250 dead letters/);
    expect(JSON.stringify(slack.blocks)).not.toContain('orders<&>');
  });
});
