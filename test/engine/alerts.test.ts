import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertChannel, AlertRule } from '../../src/core/alert.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { newId } from '../../src/core/ids.ts';
import { deliverAlerts } from '../../src/engine/alert-delivery.ts';
import { evaluateAlerts } from '../../src/engine/alert-evaluator.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { killOne } from '../../src/store/conformance/fixtures.ts';
import { openStore } from '../../src/store/open.ts';
import { dropSchemas, storeUrl, tempSchema } from '../store/postgres-schema.ts';
import { tempDir } from '../support/temp-dir.ts';
import { type AlertReceiver, startAlertReceiver } from './fixtures/alert-receiver.ts';

const T = Date.UTC(2026, 2, 1);
const MIN = 60_000;
let tmp: ReturnType<typeof tempDir>;
let clock: ManualClock;
let dl: Deadletter;
let url: string;
const receivers: AlertReceiver[] = [];
const schemas: string[] = [];

async function receiver(failFirst = 0): Promise<AlertReceiver> {
  const r = await startAlertReceiver({ failFirst });
  receivers.push(r);
  return r;
}

/** A new handle on the test's store (a restart opens another one on the same database). */
async function open(): Promise<Deadletter> {
  return Deadletter.open({ store: url, clock, maintenance: false });
}

afterAll(() => dropSchemas(...schemas));

async function addRule(channels: AlertChannel[], overrides: Partial<AlertRule> = {}): Promise<AlertRule> {
  const rule: AlertRule = {
    id: newId(),
    name: 'orders-depth',
    queue: 'orders',
    kind: 'depth',
    threshold: 2,
    windowMs: null,
    cooldownMs: 30 * MIN,
    renotifyMs: null,
    channels,
    enabled: true,
    createdAt: clock.now(),
    createdBy: 'test',
    ...overrides,
  };
  return dl.store.alertRuleCreate({ rule, actor: 'test' });
}

async function kill(count: number, groupId = 'group-a'): Promise<void> {
  for (let k = 0; k < count; k++) {
    clock.advance(10);
    await killOne(dl.store, { queue: 'orders', diedAt: clock.now(), groupId });
  }
}

const deps = () => ({ store: dl.store, clock });
const send = (extra: Partial<Parameters<typeof deliverAlerts>[0]> = {}) =>
  deliverAlerts({ ...deps(), baseDelayMs: 1_000, random: () => 0.5, ...extra });

describe.each(['sqlite', 'postgres'] as const)('alerts end to end on %s (real HTTP receiver)', (kind) => {
  beforeEach(async () => {
    tmp = tempDir();
    clock = new ManualClock(T);
    if (kind === 'sqlite') {
      url = `sqlite:${join(tmp.dir, 'dl.db')}`;
    } else {
      const schema = tempSchema('dlalerts');
      schemas.push(schema);
      url = storeUrl(schema);
    }
    // Migrated once, as `dlq migrate` would; the handles then open it as it is.
    await (await openStore(url, { migrate: true })).close();
    dl = await open();
    await dl.createQueue('orders');
  });

  afterEach(async () => {
    await dl.close();
    await Promise.all(receivers.splice(0).map((r) => r.close()));
    tmp.remove();
  });

  it('fires once, stays quiet while firing, resolves, then respects the cooldown', async () => {
    const hook = await receiver();
    await addRule([{ type: 'webhook', url: hook.url }]);
    await kill(3);

    const first = await evaluateAlerts(deps());
    expect(first.fired).toHaveLength(1);
    expect(await send()).toEqual({ delivered: 1, retried: 0, failed: 0 });
    expect(hook.requests).toHaveLength(1);
    expect(hook.requests[0]?.headers['content-type']).toBe('application/json');
    expect(hook.requests[0]?.body).toMatchObject({
      event: 'fired',
      rule: 'orders-depth',
      queue: 'orders',
      group: null,
      value: 3,
      threshold: 2,
      firedAt: clock.now(),
      resolvedAt: null,
    });

    // More dead letters, more evaluations: still the one alert, nothing new sent.
    await kill(5);
    clock.advance(MIN);
    expect((await evaluateAlerts(deps())).fired).toEqual([]);
    await send();
    expect(hook.requests).toHaveLength(1);

    // The DLQ drains: a resolve notification.
    const ids = (await dl.store.deadLetterList({ queue: 'orders', limit: 100 })).map((d) => d.id);
    await dl.store.deadLetterDiscard({ ids, reason: 'test', actor: 'test', now: clock.now() });
    clock.advance(MIN);
    const resolvedAt = clock.now();
    expect((await evaluateAlerts(deps())).resolved).toHaveLength(1);
    await send();
    expect(hook.requests.map((r) => (r.body as { event: string }).event)).toEqual(['fired', 'resolved']);
    expect(hook.requests[1]?.body).toMatchObject({ event: 'resolved', resolvedAt, value: 3 });

    // It grows again within the 30 min cooldown: held back; after it, a new alert.
    await kill(3);
    clock.advance(10 * MIN);
    const held = await evaluateAlerts(deps());
    expect(held.fired).toEqual([]);
    expect(held.coolingDown).toBe(1);
    clock.advance(20 * MIN);
    expect((await evaluateAlerts(deps())).fired).toHaveLength(1);
    await send();
    expect(hook.requests).toHaveLength(3);
    const history = await dl.store.alertList({ limit: 10 });
    expect(history.map((a) => a.state)).toEqual(['firing', 'resolved']);
  });

  it('a burst of one new bug is one alert, in Slack format', async () => {
    const slack = await receiver();
    await addRule([{ type: 'slack', url: slack.url }], {
      name: 'new-bugs',
      queue: null,
      kind: 'new_group',
      threshold: 1,
    });
    clock.advance(MIN);
    await kill(200, 'bug-1');
    await evaluateAlerts(deps());
    await kill(50, 'bug-1');
    clock.advance(MIN);
    await evaluateAlerts(deps());
    await send();
    expect(slack.requests).toHaveLength(1);
    const body = slack.requests[0]?.body as { text: string; blocks: unknown[] };
    if (!body) throw new Error('nothing arrived');
    expect(body.text).toMatch(/^:rotating_light: Alert firing: orders group bug-1: new failure/);
    expect(body.text).toContain('(200 dead letters)');
    expect(body.blocks.length).toBeGreaterThanOrEqual(2);
    // Acknowledging the group resolves the alert.
    await dl.store.groupStatusSet({ id: 'bug-1', status: 'acknowledged', now: clock.now() });
    clock.advance(MIN);
    await evaluateAlerts(deps());
    await send();
    expect((slack.requests[1]?.body as { text?: string } | undefined)?.text).toMatch(
      /^:white_check_mark: Alert resolved/,
    );
  });

  it('retries a receiver that fails the first two deliveries, with backoff, and records the attempts', async () => {
    const flaky = await receiver(2);
    await addRule([{ type: 'webhook', url: flaky.url }]);
    await kill(3);
    await evaluateAlerts(deps());

    expect(await send()).toEqual({ delivered: 0, retried: 1, failed: 0 });
    // Not due again before its backoff (1s base with the jitter at its middle: 750ms).
    expect(await send()).toEqual({ delivered: 0, retried: 0, failed: 0 });
    clock.advance(750);
    expect(await send()).toEqual({ delivered: 0, retried: 1, failed: 0 });
    clock.advance(1_499);
    expect(await send()).toEqual({ delivered: 0, retried: 0, failed: 0 });
    clock.advance(1);
    expect(await send()).toEqual({ delivered: 1, retried: 0, failed: 0 });

    expect(flaky.requests).toHaveLength(3);
    expect(flaky.accepted()).toHaveLength(1);
    const [delivery] = await dl.store.alertDeliveryList({ limit: 10 });
    expect(delivery).toMatchObject({
      status: 'delivered',
      attempts: 3,
      lastError: null,
      deliveredAt: clock.now(),
    });
  });

  it('gives up on a receiver that always fails after the maximum attempts', async () => {
    const down = await receiver(Number.POSITIVE_INFINITY);
    await addRule([{ type: 'webhook', url: down.url }]);
    await kill(3);
    await evaluateAlerts(deps());
    for (let k = 0; k < 4; k++) {
      await send({ maxAttempts: 4 });
      clock.advance(60 * MIN);
    }
    expect(down.requests).toHaveLength(4);
    const [delivery] = await dl.store.alertDeliveryList({ limit: 10 });
    expect(delivery).toMatchObject({ status: 'failed', attempts: 4, deliveredAt: null });
    expect(delivery?.lastError).toMatch(/^HTTP 500: receiver down/);
    await send({ maxAttempts: 4 });
    expect(down.requests).toHaveLength(4);
  });

  it('keeps the outbox across a restart: a new handle sends what the old one did not', async () => {
    const hook = await receiver();
    const lines: unknown[] = [];
    await addRule([{ type: 'webhook', url: hook.url }, { type: 'log' }]);
    await kill(3);
    await evaluateAlerts(deps());
    await dl.close();

    dl = await open();
    const result = await send({ logger: { info: (details) => lines.push(details) } });
    expect(result).toEqual({ delivered: 2, retried: 0, failed: 0 });
    expect(hook.requests).toHaveLength(1);
    expect(lines).toEqual([
      expect.objectContaining({ event: 'fired', alert: expect.objectContaining({ rule: 'orders-depth' }) }),
    ]);
    expect(await dl.store.alertDeliveryListDue({ now: clock.now() + 86_400_000, limit: 10 })).toEqual([]);
  });

  it('resolves a growth alert when its window slides past the burst; a removed rule fires nothing', async () => {
    const hook = await receiver();
    const rule = await addRule([{ type: 'webhook', url: hook.url }], {
      kind: 'growth',
      threshold: 1,
      windowMs: 5 * MIN,
    });
    await kill(2);
    expect((await evaluateAlerts(deps())).fired).toHaveLength(1);
    // The window slides past the burst: resolved.
    clock.advance(6 * MIN);
    expect((await evaluateAlerts(deps())).resolved).toHaveLength(1);
    await dl.store.alertRuleRemove({ id: rule.id, actor: 'test', now: clock.now() });
    await kill(5);
    expect((await evaluateAlerts(deps())).fired).toEqual([]);
  });
});
