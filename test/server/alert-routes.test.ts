import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluateAlerts } from '../../src/engine/alert-evaluator.ts';
import { killOne } from '../../src/store/conformance/fixtures.ts';
import { type ServerFixture, startServer } from './harness.ts';

let server: ServerFixture;

beforeEach(async () => {
  server = await startServer();
  await server.dl.createQueue('orders');
});
afterEach(() => server.close());

describe('alert routes', () => {
  it('creates, lists and removes rules (admin), validated', async () => {
    const created = await server.call('admin', {
      method: 'POST',
      url: '/api/alert-rules',
      payload: {
        name: 'orders-growth',
        queue: 'orders',
        kind: 'growth',
        threshold: 10,
        window: '10m',
        channels: [{ type: 'slack', url: 'https://hooks.example/secret' }],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({
      name: 'orders-growth',
      windowMs: 600_000,
      cooldownMs: 1_800_000,
      createdBy: 'admin',
    });

    const bad = [
      { name: 'x', kind: 'growth', threshold: 1, channels: [{ type: 'log' }] },
      { name: 'x', kind: 'depth', threshold: 1, channels: [] },
      { name: 'x', kind: 'loud', threshold: 1, channels: [{ type: 'log' }] },
      { name: 'x', kind: 'depth', threshold: 1, channels: [{ type: 'webhook', url: 'javascript:alert(1)' }] },
      { name: 'x', kind: 'depth', threshold: 1, channels: [{ type: 'log' }], extra: true },
    ];
    for (const payload of bad) {
      const response = await server.call('admin', { method: 'POST', url: '/api/alert-rules', payload });
      expect([400, 422], JSON.stringify(payload)).toContain(response.statusCode);
    }
    const dup = await server.call('admin', {
      method: 'POST',
      url: '/api/alert-rules',
      payload: { name: 'orders-growth', kind: 'depth', threshold: 1, channels: [{ type: 'log' }] },
    });
    expect(dup.statusCode).toBe(409);
    const unknownQueue = await server.call('admin', {
      method: 'POST',
      url: '/api/alert-rules',
      payload: { name: 'q', queue: 'nope', kind: 'depth', threshold: 1, channels: [{ type: 'log' }] },
    });
    expect(unknownQueue.statusCode).toBe(404);

    const list = await server.call('admin', { method: 'GET', url: '/api/alert-rules' });
    expect(list.json().rules.map((r: { name: string }) => r.name)).toEqual(['orders-growth']);
    expect((await server.call('operator', { method: 'GET', url: '/api/alert-rules' })).statusCode).toBe(403);

    expect(
      (await server.call('admin', { method: 'DELETE', url: '/api/alert-rules/orders-growth' })).statusCode,
    ).toBe(200);
    expect(
      (await server.call('admin', { method: 'DELETE', url: '/api/alert-rules/orders-growth' })).statusCode,
    ).toBe(404);
  });

  it('shows the history to a viewer with delivery status but without webhook URLs', async () => {
    await server.call('admin', {
      method: 'POST',
      url: '/api/alert-rules',
      payload: {
        name: 'orders-depth',
        queue: 'orders',
        kind: 'depth',
        threshold: 0,
        channels: [{ type: 'slack', url: 'https://hooks.example/secret' }, { type: 'log' }],
      },
    });
    await killOne(server.dl.store, { queue: 'orders', diedAt: server.dl.clock.now() - 1000 });
    await evaluateAlerts({ store: server.dl.store, clock: server.dl.clock });

    const response = await server.call('viewer', { method: 'GET', url: '/api/alerts?state=firing' });
    expect(response.statusCode, response.body).toBe(200);
    const { alerts } = response.json();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ ruleName: 'orders-depth', queue: 'orders', state: 'firing', value: 1 });
    expect(
      alerts[0].deliveries.map((d: { channel: string; status: string }) => `${d.channel}:${d.status}`).sort(),
    ).toEqual(['log:pending', 'slack:pending']);
    expect(response.body).not.toContain('hooks.example');
    expect(
      (await server.call('viewer', { method: 'GET', url: '/api/alerts?state=resolved' })).json().alerts,
    ).toEqual([]);
  });

  it('exposes the alert states at /metrics', async () => {
    const rule = (name: string, queue: string | null) => ({
      name,
      queue,
      kind: 'depth',
      threshold: 0,
      channels: [{ type: 'log' }],
    });
    await server.call('admin', {
      method: 'POST',
      url: '/api/alert-rules',
      payload: rule('orders-depth', 'orders'),
    });
    await server.call('admin', { method: 'POST', url: '/api/alert-rules', payload: rule('any-depth', null) });
    await server.dl.createQueue('emails');
    const before = (await server.call('viewer', { method: 'GET', url: '/metrics' })).body;
    expect(before).toContain('deadletter_alerts_firing{rule="orders-depth",queue="orders"} 0');
    expect(before).toContain('deadletter_alert_rules{kind="depth",enabled="true"} 2');

    await killOne(server.dl.store, { queue: 'orders', diedAt: server.dl.clock.now() - 1000 });
    await evaluateAlerts({ store: server.dl.store, clock: server.dl.clock });
    const after = (await server.call('viewer', { method: 'GET', url: '/metrics' })).body;
    expect(after).toContain('deadletter_alerts_firing{rule="orders-depth",queue="orders"} 1');
    expect(after).toContain('deadletter_alerts_firing{rule="any-depth",queue="orders"} 1');
    expect(after).not.toContain('queue="emails"} 1');
  });
  it('updates a rule by name (admin): the settings given, audited as the token; refusals say why', async () => {
    const rule = {
      name: 'orders-depth',
      queue: 'orders',
      kind: 'depth',
      threshold: 10,
      channels: [{ type: 'log' }],
    };
    expect(
      (await server.call('admin', { method: 'POST', url: '/api/alert-rules', payload: rule })).statusCode,
    ).toBe(201);
    await server.call('admin', {
      method: 'POST',
      url: '/api/alert-rules',
      payload: { ...rule, name: 'other' },
    });
    const patch = (
      payload: Record<string, unknown>,
      role: 'operator' | 'admin' = 'admin',
      ref = 'orders-depth',
    ) => server.call(role, { method: 'PATCH', url: `/api/alert-rules/${ref}`, payload });

    const updated = await patch({ threshold: 50, renotify: '1h', enabled: false });
    expect(updated.statusCode, updated.body).toBe(200);
    expect(updated.json()).toMatchObject({
      name: 'orders-depth',
      threshold: 50,
      renotifyMs: 3_600_000,
      enabled: false,
      cooldownMs: 1_800_000,
    });
    const [entry] = (await server.dl.listAudit({ action: 'alert_rule.update', limit: 1 })).items;
    expect(entry).toMatchObject({ actor: 'admin', targetId: 'orders-depth' });
    expect((await patch({ renotify: null, queue: null })).json()).toMatchObject({
      renotifyMs: null,
      queue: null,
    });

    expect((await patch({ threshold: 1 }, 'operator')).statusCode).toBe(403);
    expect((await patch({ threshold: 1 }, 'admin', 'nope')).statusCode).toBe(404);
    expect((await patch({ name: 'other' })).statusCode).toBe(409);
    expect((await patch({ renotify: '10s' })).statusCode).toBe(422);
    expect((await patch({ queue: 'no-such-queue' })).statusCode).toBe(404);
    expect((await patch({})).statusCode).toBe(422);
    expect((await patch({ kind: 'growth' })).statusCode).toBe(400);
    expect((await server.dl.store.alertRuleList()).find((r) => r.name === 'orders-depth')).toMatchObject({
      threshold: 50,
      queue: null,
    });
  });
});
