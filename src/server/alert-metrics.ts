import { Gauge, type Registry } from 'prom-client';
import type { Store } from '../store/store.ts';

/** Firing alerts read per scrape: far more than rules × queues × groups of any deployment. */
const FIRING_LIMIT = 100_000;

/**
 * The alert states for `/metrics`: `deadletter_alerts_firing{rule, queue}`, the alerts firing
 * per rule and queue (a group rule counts one per group; a rule on one queue shows 0 when
 * quiet, a rule on every queue has series only for queues that fire), and
 * `deadletter_alert_rules{kind, enabled}`.
 */
export class AlertMetrics {
  private readonly firing: Gauge<'rule' | 'queue'>;
  private readonly rules: Gauge<'kind' | 'enabled'>;

  constructor(registry: Registry) {
    this.firing = new Gauge({
      name: 'deadletter_alerts_firing',
      help: 'Alerts firing per rule and queue (a group rule counts one per group); rules with none firing are 0',
      labelNames: ['rule', 'queue'],
      registers: [registry],
    });
    this.rules = new Gauge({
      name: 'deadletter_alert_rules',
      help: 'Alert rules by kind and whether they are enabled',
      labelNames: ['kind', 'enabled'],
      registers: [registry],
    });
  }

  /** Reads the store; the gauges are then set synchronously (a scrape never sees half an update). */
  async collect(store: Store): Promise<void> {
    const [rules, firing] = await Promise.all([
      store.alertRuleList(),
      store.alertList({ state: 'firing', limit: FIRING_LIMIT }),
    ]);
    this.firing.reset();
    this.rules.reset();
    for (const rule of rules) {
      this.rules.inc({ kind: rule.kind, enabled: String(rule.enabled) });
      if (rule.queue !== null) this.firing.set({ rule: rule.name, queue: rule.queue }, 0);
    }
    for (const alert of firing) this.firing.inc({ rule: alert.ruleName, queue: alert.queue });
  }
}
