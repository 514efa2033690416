import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { deliverAlerts } from '../../src/engine/alert-delivery.ts';
import { evaluateAlerts } from '../../src/engine/alert-evaluator.ts';
import { alertHistoryPruneService, alertServices } from '../../src/engine/alert-services.ts';
import { createAlertRule, updateAlertRule } from '../../src/engine/alerts.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { killOne } from '../../src/store/conformance/fixtures.ts';
import { openStore } from '../../src/store/open.ts';
import { dropSchemas, storeUrl, tempSchema } from '../store/postgres-schema.ts';
import { tempDir } from '../support/temp-dir.ts';
import { type AlertReceiver, startAlertReceiver } from './fixtures/alert-receiver.ts';

/** Re-notification of still-firing alerts, rule updates and the pruning of the alert history. */

const T = Date.UTC(2026, 2, 1);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
let tmp: ReturnType<typeof tempDir>;
let clock: ManualClock;
let dl: Deadletter;
let hook: AlertReceiver;
const schemas: string[] = [];

afterAll(() => dropSchemas(...schemas));

const deps = () => ({ store: dl.store, clock });
const send = () => deliverAlerts({ ...deps(), baseDelayMs: 1_000, random: () => 0.5 });
const events = () =>
  hook.requests.map((r) => {
    const body = r.body as { event: string; renotify?: boolean; value: number };
    return `${body.event}${body.renotify ? ' again' : ''} ${body.value}`;
  });

async function kill(count: number): Promise<void> {
  for (let k = 0; k < count; k++) {
    clock.advance(10);
    await killOne(dl.store, { queue: 'orders', diedAt: clock.now(), groupId: 'group-a' });
  }
}

async function drain(): Promise<void> {
  const ids = (await dl.store.deadLetterList({ queue: 'orders', limit: 100 })).map((d) => d.id);
  await dl.store.deadLetterDiscard({ ids, reason: 'test', actor: 'test', now: clock.now() });
}

async function addRule(extra: { renotify?: string } = {}) {
  return createAlertRule(dl.store, {
    input: {
      name: 'orders-depth',
      queue: 'orders',
      kind: 'depth',
      threshold: 2,
      cooldown: '1m',
      channels: [{ type: 'webhook', url: hook.url }],
      ...extra,
    },
    actor: 'test',
    now: clock.now(),
  });
}

describe.each(['sqlite', 'postgres'] as const)('alert reminders and history on %s', (kind) => {
  beforeEach(async () => {
    tmp = tempDir();
    clock = new ManualClock(T);
    let url: string;
    if (kind === 'sqlite') {
      url = `sqlite:${join(tmp.dir, 'dl.db')}`;
    } else {
      const schema = tempSchema('dlrenotify');
      schemas.push(schema);
      url = storeUrl(schema);
    }
    await (await openStore(url, { migrate: true })).close();
    dl = await Deadletter.open({ store: url, clock, maintenance: false });
    await dl.createQueue('orders');
    hook = await startAlertReceiver({ failFirst: 0 });
  });

  afterEach(async () => {
    await dl.close();
    await hook.close();
    tmp.remove();
  });

  it('notifies a still-firing alert again every renotify interval, with the value measured now', async () => {
    const rule = await addRule({ renotify: '1h' });
    expect(rule.renotifyMs).toBe(HOUR);
    await kill(3);
    expect((await evaluateAlerts(deps())).fired).toHaveLength(1);
    await send();

    // Evaluated every minute: nothing more until an hour has passed since the notification.
    for (let m = 0; m < 59; m++) {
      clock.advance(MIN);
      expect((await evaluateAlerts(deps())).renotified).toEqual([]);
    }
    await kill(2);
    clock.advance(MIN);
    const reminder = await evaluateAlerts(deps());
    expect(reminder.renotified).toHaveLength(1);
    expect(reminder.fired).toEqual([]);
    await send();
    expect(events()).toEqual(['fired 3', 'fired again 5']);
    const body = hook.requests[1]?.body as { summary: string; firedAt: number };
    expect(body.firedAt).toBe(T + 30);
    expect(body.summary).toMatch(/^still firing since 2026-03-01T00:00:00\.030Z: orders: 5 dead letters/);

    // The next reminder counts from this one; one alert all along.
    clock.advance(30 * MIN);
    expect((await evaluateAlerts(deps())).renotified).toEqual([]);
    clock.advance(30 * MIN);
    expect((await evaluateAlerts(deps())).renotified).toHaveLength(1);
    const alerts = await dl.store.alertList({ limit: 10 });
    expect(alerts.map((a) => [a.state, a.lastNotifiedAt])).toEqual([['firing', clock.now()]]);

    // Once it clears: the resolve, and no reminder after it.
    await drain();
    clock.advance(MIN);
    expect((await evaluateAlerts(deps())).resolved).toHaveLength(1);
    clock.advance(2 * HOUR);
    expect((await evaluateAlerts(deps())).renotified).toEqual([]);
    await send();
    expect(events()).toEqual(['fired 3', 'fired again 5', 'fired again 5', 'resolved 3']);
  });

  it('does not re-notify by default, and an update turns it on, off, and disables the rule', async () => {
    await addRule();
    await kill(3);
    await evaluateAlerts(deps());
    clock.advance(DAY);
    expect((await evaluateAlerts(deps())).renotified).toEqual([]);

    const updated = await updateAlertRule(dl.store, {
      ref: 'orders-depth',
      changes: { renotify: '2h' },
      actor: 'ops',
      now: clock.now(),
    });
    expect(updated.renotifyMs).toBe(2 * HOUR);
    // A day has passed since the notification: due at once.
    expect((await evaluateAlerts(deps())).renotified).toHaveLength(1);
    await updateAlertRule(dl.store, {
      ref: 'orders-depth',
      changes: { renotify: null },
      actor: 'ops',
      now: 0,
    });
    clock.advance(DAY);
    expect((await evaluateAlerts(deps())).renotified).toEqual([]);

    // Disabled: what it had firing resolves at the next evaluation; enabled again, it fires anew.
    await updateAlertRule(dl.store, {
      ref: 'orders-depth',
      changes: { enabled: false },
      actor: 'ops',
      now: 0,
    });
    expect((await evaluateAlerts(deps())).resolved).toHaveLength(1);
    await updateAlertRule(dl.store, {
      ref: 'orders-depth',
      changes: { enabled: true },
      actor: 'ops',
      now: 0,
    });
    clock.advance(2 * MIN);
    expect((await evaluateAlerts(deps())).fired).toHaveLength(1);
    await send();
    expect(events()).toEqual(['fired 3', 'fired again 3', 'resolved 3', 'fired 3']);
    const audit = await dl.listAudit({ action: 'alert_rule.update', limit: 10 });
    expect(audit.items.map((e) => e.actor)).toEqual(['ops', 'ops', 'ops', 'ops']);

    await expect(
      updateAlertRule(dl.store, { ref: 'orders-depth', changes: { renotify: '10s' }, actor: 'ops', now: 0 }),
    ).rejects.toThrow(/invalid renotify 10000: at least 1m/);
  });

  it('prunes resolved alerts after the configured history, by the maintenance service', async () => {
    await addRule();
    await kill(3);
    await evaluateAlerts(deps());
    await send();
    await drain();
    clock.advance(MIN);
    await evaluateAlerts(deps());
    await send();
    // A second alert that keeps firing, however old.
    await kill(3);
    clock.advance(2 * MIN);
    await evaluateAlerts(deps());
    expect((await dl.store.alertList({ limit: 10 })).map((a) => a.state)).toEqual(['firing', 'resolved']);

    // The default keeps 30 days: the resolved alert is 29 days old, then 31.
    const services = alertServices({ store: dl.store, clock });
    const prune = services.find((s) => s.name === 'alert history pruning');
    expect(prune?.intervalMs).toBe(HOUR);
    clock.advance(29 * DAY);
    expect(await prune?.run()).toMatchObject({ alerts: 0, deliveries: 0 });
    clock.advance(2 * DAY);
    expect(await prune?.run()).toMatchObject({ alerts: 1, deliveries: 2 });
    expect((await dl.store.alertList({ limit: 10 })).map((a) => a.state)).toEqual(['firing']);
    expect(await dl.store.alertDeliveryList({ limit: 10 })).toHaveLength(1);

    // A shorter history prunes sooner; 0 keeps everything (no service).
    expect(alertServices({ store: dl.store, clock, historyMs: 0 }).map((s) => s.name)).not.toContain(
      'alert history pruning',
    );
    const short = alertHistoryPruneService({ store: dl.store, clock, historyMs: HOUR });
    expect(await short.run()).toMatchObject({ alerts: 0, before: clock.now() - HOUR });
  });
});
