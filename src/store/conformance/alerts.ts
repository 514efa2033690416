import { describe, expect, it } from 'vitest';
import { type Alert, type AlertDelivery, type AlertRule, alertKey } from '../../core/alert.ts';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import { nextId, type StoreContext, T0 } from './fixtures.ts';

function rule(overrides: Partial<AlertRule> = {}): AlertRule {
  return {
    id: nextId('rule'),
    name: 'orders-depth',
    queue: 'orders',
    kind: 'depth',
    threshold: 100,
    windowMs: null,
    cooldownMs: 60_000,
    renotifyMs: null,
    channels: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }, { type: 'log' }],
    enabled: true,
    createdAt: T0,
    createdBy: 'alice',
    ...overrides,
  };
}

function alert(r: AlertRule, overrides: Partial<Alert> = {}): Alert {
  const queue = overrides.queue ?? 'orders';
  const groupId = overrides.groupId ?? null;
  return {
    id: nextId('alert'),
    ruleId: r.id,
    ruleName: r.name,
    queue,
    groupId,
    key: alertKey(r.id, queue, groupId),
    state: 'firing',
    firedAt: T0 + 1000,
    resolvedAt: null,
    lastNotifiedAt: T0 + 1000,
    value: 150,
    details: { note: 'x\u0000y "quoted"' },
    ...overrides,
  };
}

function delivery(alertId: string | null, overrides: Partial<AlertDelivery> = {}): AlertDelivery {
  return {
    id: nextId('delivery'),
    alertId,
    event: 'fired',
    channel: 'webhook',
    url: 'http://127.0.0.1:9/hook',
    payload: { event: 'fired', nested: [1, 'two', null, { ok: true }] },
    attempts: 0,
    status: 'pending',
    createdAt: T0 + 1000,
    nextAttemptAt: T0 + 1000,
    lastError: null,
    deliveredAt: null,
    ...overrides,
  };
}

/** Alert rules, alerts (one firing per key) and the outbox of their notifications. */
export function describeAlerts(ctx: StoreContext): void {
  describe('alerts', () => {
    it('creates, lists and removes rules, audited; a duplicate name conflicts', async () => {
      const depth = rule();
      const growth = rule({
        name: 'all-growth',
        queue: null,
        kind: 'growth',
        windowMs: 600_000,
        enabled: false,
      });
      expect(await ctx.store.alertRuleCreate({ rule: depth, actor: 'alice' })).toEqual(depth);
      await ctx.store.alertRuleCreate({ rule: growth, actor: 'bob' });
      await expect(
        ctx.store.alertRuleCreate({ rule: rule({ id: nextId('rule') }), actor: 'alice' }),
      ).rejects.toBeInstanceOf(ConflictError);
      expect(await ctx.store.alertRuleList()).toEqual([growth, depth]);

      expect(await ctx.store.alertRuleRemove({ id: depth.id, actor: 'carol', now: T0 + 5 })).toEqual(depth);
      expect(await ctx.store.alertRuleList()).toEqual([growth]);
      await expect(
        ctx.store.alertRuleRemove({ id: depth.id, actor: 'carol', now: T0 + 6 }),
      ).rejects.toBeInstanceOf(NotFoundError);
      const audit = await ctx.store.auditList({ limit: 10 });
      expect(audit.map((e) => [e.action, e.actor, e.targetId])).toEqual([
        ['alert_rule.remove', 'carol', 'orders-depth'],
        ['alert_rule.create', 'bob', 'all-growth'],
        ['alert_rule.create', 'alice', 'orders-depth'],
      ]);
      // Webhook URLs may carry secrets: the audit log names the channel types only.
      expect(audit[2]?.details.channels).toEqual(['webhook', 'log']);
    });

    it('fires one alert per key, with its deliveries in the same change', async () => {
      const r = rule();
      await ctx.store.alertRuleCreate({ rule: r, actor: 'alice' });
      const first = alert(r);
      const d = delivery(first.id);
      expect(await ctx.store.alertFire({ alert: first, deliveries: [d] })).toBe(true);
      // A second evaluator racing on the same key writes nothing, not even its deliveries.
      const second = alert(r);
      expect(await ctx.store.alertFire({ alert: second, deliveries: [delivery(second.id)] })).toBe(false);
      // Another group of the same rule and queue is another key.
      const grouped = alert(r, { groupId: 'g1', firedAt: T0 + 2000 });
      expect(await ctx.store.alertFire({ alert: grouped, deliveries: [] })).toBe(true);

      expect(await ctx.store.alertList({ limit: 10 })).toEqual([grouped, first]);
      expect(await ctx.store.alertList({ state: 'resolved', limit: 10 })).toEqual([]);
      expect(await ctx.store.alertDeliveryList({ alertIds: [first.id, second.id], limit: 10 })).toEqual([d]);
    });

    it('resolves a firing alert once and remembers when, per key, for the cooldown', async () => {
      const r = rule();
      await ctx.store.alertRuleCreate({ rule: r, actor: 'alice' });
      const a = alert(r);
      await ctx.store.alertFire({ alert: a, deliveries: [] });
      const resolved = delivery(a.id, { event: 'resolved', createdAt: T0 + 9000, nextAttemptAt: T0 + 9000 });
      expect(await ctx.store.alertResolve({ id: a.id, now: T0 + 9000, deliveries: [resolved] })).toBe(true);
      expect(await ctx.store.alertResolve({ id: a.id, now: T0 + 9500, deliveries: [delivery(a.id)] })).toBe(
        false,
      );
      expect(await ctx.store.alertResolve({ id: 'missing', now: T0 + 9500, deliveries: [] })).toBe(false);
      expect(await ctx.store.alertList({ state: 'resolved', limit: 10 })).toEqual([
        { ...a, state: 'resolved', resolvedAt: T0 + 9000 },
      ]);
      expect(await ctx.store.alertDeliveryList({ alertIds: [a.id], limit: 10 })).toEqual([resolved]);

      // The key may fire again; the latest resolve counts.
      const again = alert(r, { firedAt: T0 + 20_000 });
      expect(await ctx.store.alertFire({ alert: again, deliveries: [] })).toBe(true);
      await ctx.store.alertResolve({ id: again.id, now: T0 + 30_000, deliveries: [] });
      expect(
        await ctx.store.alertListLastResolved({ keys: [a.key, alertKey(r.id, 'other', null), a.key] }),
      ).toEqual([{ key: a.key, resolvedAt: T0 + 30_000 }]);
      expect(await ctx.store.alertListLastResolved({ keys: [] })).toEqual([]);
    });

    it('removing a rule resolves its firing alerts without a notification', async () => {
      const r = rule();
      const other = rule({ name: 'other' });
      await ctx.store.alertRuleCreate({ rule: r, actor: 'alice' });
      await ctx.store.alertRuleCreate({ rule: other, actor: 'alice' });
      const a = alert(r);
      const b = alert(other);
      await ctx.store.alertFire({ alert: a, deliveries: [] });
      await ctx.store.alertFire({ alert: b, deliveries: [] });
      await ctx.store.alertRuleRemove({ id: r.id, actor: 'alice', now: T0 + 7000 });
      const [afterB, afterA] = await ctx.store.alertList({ limit: 10 });
      expect(afterA).toEqual({
        ...a,
        state: 'resolved',
        resolvedAt: T0 + 7000,
        details: { ...a.details, resolvedBy: 'rule removed' },
      });
      expect(afterB).toEqual(b);
      expect(await ctx.store.alertDeliveryList({ limit: 10 })).toEqual([]);
      expect((await ctx.store.auditList({ limit: 1 }))[0]?.details.resolvedAlerts).toBe(1);
    });

    it('lists due pending deliveries oldest first and records attempts', async () => {
      const late = delivery(null, { event: 'review', nextAttemptAt: T0 + 5000, createdAt: T0 + 1 });
      const early = delivery(null, {
        event: 'review',
        channel: 'slack',
        nextAttemptAt: T0 + 1000,
        createdAt: T0 + 2,
      });
      const done = delivery(null, {
        status: 'delivered',
        deliveredAt: T0,
        nextAttemptAt: T0,
        createdAt: T0 + 3,
      });
      await ctx.store.alertDeliveryInsert({ deliveries: [late, early, done] });
      await ctx.store.alertDeliveryInsert({ deliveries: [] });
      expect(await ctx.store.alertDeliveryListDue({ now: T0 + 999, limit: 10 })).toEqual([]);
      expect(await ctx.store.alertDeliveryListDue({ now: T0 + 5000, limit: 10 })).toEqual([early, late]);
      expect(await ctx.store.alertDeliveryListDue({ now: T0 + 5000, limit: 1 })).toEqual([early]);

      await ctx.store.alertDeliveryUpdate({
        id: early.id,
        attempts: 1,
        status: 'pending',
        nextAttemptAt: T0 + 8000,
        lastError: 'HTTP 500',
        deliveredAt: null,
      });
      await ctx.store.alertDeliveryUpdate({
        id: late.id,
        attempts: 1,
        status: 'delivered',
        nextAttemptAt: T0 + 5000,
        lastError: null,
        deliveredAt: T0 + 5001,
      });
      expect(await ctx.store.alertDeliveryListDue({ now: T0 + 7999, limit: 10 })).toEqual([]);
      expect(await ctx.store.alertDeliveryListDue({ now: T0 + 8000, limit: 10 })).toEqual([
        { ...early, attempts: 1, nextAttemptAt: T0 + 8000, lastError: 'HTTP 500' },
      ]);
      await expect(
        ctx.store.alertDeliveryUpdate({
          id: 'missing',
          attempts: 1,
          status: 'failed',
          nextAttemptAt: T0,
          lastError: null,
          deliveredAt: null,
        }),
      ).rejects.toBeInstanceOf(NotFoundError);
      const reviews = await ctx.store.alertDeliveryList({ event: 'review', limit: 10 });
      expect(reviews.map((d) => d.id)).toEqual([early.id, late.id]);
      expect(reviews[1]).toEqual({ ...late, attempts: 1, status: 'delivered', deliveredAt: T0 + 5001 });
      expect((await ctx.store.alertDeliveryList({ limit: 10 })).map((d) => d.id)).toEqual([
        done.id,
        early.id,
        late.id,
      ]);
    });
    it('updates a rule in place, audited with what it was; a taken name conflicts', async () => {
      const r = rule();
      const other = rule({ name: 'other' });
      await ctx.store.alertRuleCreate({ rule: r, actor: 'alice' });
      await ctx.store.alertRuleCreate({ rule: other, actor: 'alice' });
      const changed: AlertRule = {
        ...r,
        name: 'orders-deep',
        threshold: 500,
        cooldownMs: 5_000,
        renotifyMs: 7_200_000,
        channels: [{ type: 'log' }],
        enabled: false,
        // What was created, by whom and when, is not for an update to change.
        createdAt: T0 + 99,
        createdBy: 'mallory',
      };
      const updated = await ctx.store.alertRuleUpdate({ rule: changed, actor: 'bob', now: T0 + 50 });
      expect(updated).toEqual({ ...changed, createdAt: r.createdAt, createdBy: r.createdBy });
      expect(await ctx.store.alertRuleList()).toEqual([updated, other]);
      const [entry] = await ctx.store.auditList({ limit: 1 });
      expect([entry?.action, entry?.actor, entry?.targetId, entry?.at]).toEqual([
        'alert_rule.update',
        'bob',
        'orders-deep',
        T0 + 50,
      ]);
      expect(entry?.details.threshold).toBe(500);
      expect((entry?.details.before as { threshold?: number } | undefined)?.threshold).toBe(100);

      await expect(
        ctx.store.alertRuleUpdate({ rule: { ...updated, name: 'other' }, actor: 'bob', now: T0 + 51 }),
      ).rejects.toBeInstanceOf(ConflictError);
      await expect(
        ctx.store.alertRuleUpdate({ rule: { ...updated, id: 'missing' }, actor: 'bob', now: T0 + 51 }),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect(await ctx.store.alertRuleList()).toEqual([updated, other]);
    });

    it('re-notifies a firing alert (lastNotifiedAt and its deliveries together), never a resolved one', async () => {
      const r = rule({ renotifyMs: 3_600_000 });
      await ctx.store.alertRuleCreate({ rule: r, actor: 'alice' });
      expect(await ctx.store.alertRuleList()).toEqual([r]);
      const a = alert(r);
      await ctx.store.alertFire({ alert: a, deliveries: [] });
      const again = delivery(a.id, { createdAt: T0 + 5000, nextAttemptAt: T0 + 5000 });
      expect(await ctx.store.alertRenotify({ id: a.id, now: T0 + 5000, deliveries: [again] })).toBe(true);
      expect(await ctx.store.alertList({ limit: 10 })).toEqual([{ ...a, lastNotifiedAt: T0 + 5000 }]);
      expect(await ctx.store.alertDeliveryList({ alertIds: [a.id], limit: 10 })).toEqual([again]);

      await ctx.store.alertResolve({ id: a.id, now: T0 + 6000, deliveries: [] });
      expect(await ctx.store.alertRenotify({ id: a.id, now: T0 + 7000, deliveries: [delivery(a.id)] })).toBe(
        false,
      );
      expect(await ctx.store.alertRenotify({ id: 'missing', now: T0 + 7000, deliveries: [] })).toBe(false);
      expect(await ctx.store.alertDeliveryList({ alertIds: [a.id], limit: 10 })).toEqual([again]);
      expect((await ctx.store.alertList({ limit: 10 }))[0]?.lastNotifiedAt).toBe(T0 + 5000);
    });

    it('prunes resolved alerts before a time with their deliveries, never firing ones or pending reports', async () => {
      const r = rule();
      await ctx.store.alertRuleCreate({ rule: r, actor: 'alice' });
      const old = alert(r, { firedAt: T0 });
      await ctx.store.alertFire({ alert: old, deliveries: [delivery(old.id)] });
      await ctx.store.alertResolve({ id: old.id, now: T0 + 100, deliveries: [delivery(old.id)] });
      const recent = alert(r, { firedAt: T0 + 200 });
      await ctx.store.alertFire({ alert: recent, deliveries: [] });
      await ctx.store.alertResolve({ id: recent.id, now: T0 + 1000, deliveries: [delivery(recent.id)] });
      const firing = alert(r, { firedAt: T0 + 300, groupId: 'g' });
      await ctx.store.alertFire({ alert: firing, deliveries: [delivery(firing.id)] });
      const oldReport = delivery(null, { event: 'review', status: 'delivered', createdAt: T0 + 10 });
      const pendingReport = delivery(null, { event: 'review', createdAt: T0 + 10 });
      const newReport = delivery(null, { event: 'review', status: 'failed', createdAt: T0 + 900 });
      await ctx.store.alertDeliveryInsert({ deliveries: [oldReport, pendingReport, newReport] });

      expect(await ctx.store.alertPrune({ before: T0 + 500, limit: 100 })).toEqual({
        alerts: 1,
        deliveries: 3,
      });
      expect((await ctx.store.alertList({ limit: 10 })).map((a) => a.id)).toEqual([firing.id, recent.id]);
      expect(await ctx.store.alertDeliveryList({ alertIds: [old.id], limit: 10 })).toEqual([]);
      expect(
        (await ctx.store.alertDeliveryList({ event: 'review', limit: 10 })).map((d) => d.id).sort(),
      ).toEqual([pendingReport.id, newReport.id].sort());
      // Nothing more is that old; the resolve of `old` still counts for nothing (it is gone).
      expect(await ctx.store.alertPrune({ before: T0 + 500, limit: 100 })).toEqual({
        alerts: 0,
        deliveries: 0,
      });
      // A limit prunes the oldest first.
      expect(await ctx.store.alertPrune({ before: T0 + 5000, limit: 1 })).toEqual({
        alerts: 1,
        deliveries: 2,
      });
      expect((await ctx.store.alertList({ limit: 10 })).map((a) => a.id)).toEqual([firing.id]);
    });
  });
}
