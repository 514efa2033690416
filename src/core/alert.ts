import { ValidationError } from './errors.ts';
import type { Json } from './message.ts';

/**
 * What an alert rule watches:
 * - `depth`: the DLQ holds more than `threshold` dead letters;
 * - `growth`: more than `threshold` dead letters arrived within the last `windowMs`;
 * - `oldest`: the oldest dead letter is older than `threshold` ms;
 * - `new_group`: a group (one bug) with status `new` holds at least `threshold` (min 1) dead
 *   letters, first seen after the rule was created (and within `windowMs` when set);
 * - `regressed_group`: a group with status `regressed` holds at least `threshold` (min 1).
 */
export const ALERT_KINDS = ['depth', 'growth', 'oldest', 'new_group', 'regressed_group'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** Where a notification goes: a generic JSON webhook, a Slack-compatible webhook, or the log. */
export const ALERT_CHANNEL_TYPES = ['webhook', 'slack', 'log'] as const;
export type AlertChannelType = (typeof ALERT_CHANNEL_TYPES)[number];

/** One channel of a rule; `url` is required for `webhook` and `slack`, absent for `log`. */
export interface AlertChannel {
  type: AlertChannelType;
  url?: string;
}

/** A stored alert rule. */
export interface AlertRule {
  id: string;
  /** Unique among rules; the CLI and the API accept it in place of the id. */
  name: string;
  /** The queue watched; null watches every queue (one alert per queue). */
  queue: string | null;
  kind: AlertKind;
  /** A count of dead letters, or for `oldest` a duration in ms. */
  threshold: number;
  /** The `growth` window (required) or, for `new_group`, how recent a group must be; else null. */
  windowMs: number | null;
  /** After an alert resolves, the same rule, queue and group does not fire again for this long. */
  cooldownMs: number;
  /**
   * While an alert keeps firing, it is notified again once this long has passed since its last
   * notification (a reminder: `renotify: true` in the payload); null: notified once.
   */
  renotifyMs: number | null;
  channels: AlertChannel[];
  /** A disabled rule fires nothing and resolves what it had firing. */
  enabled: boolean;
  createdAt: number;
  createdBy: string;
}

export type AlertState = 'firing' | 'resolved';

/** One firing of a rule on a queue (and group), from fire to resolve. */
export interface Alert {
  id: string;
  ruleId: string;
  ruleName: string;
  queue: string;
  /** The group for `new_group` and `regressed_group` rules, else null. */
  groupId: string | null;
  /** `ruleId`, queue and group: at most one firing alert per key. */
  key: string;
  state: AlertState;
  firedAt: number;
  resolvedAt: number | null;
  lastNotifiedAt: number | null;
  /** The measured value when it fired (depth, growth, age in ms, the group's dead letters). */
  value: number;
  details: { [key: string]: Json };
}

export type AlertDeliveryEvent = 'fired' | 'resolved' | 'review';
export type AlertDeliveryStatus = 'pending' | 'delivered' | 'failed';

/**
 * A notification in the outbox: written with the change that caused it, sent (and retried) by
 * the delivery service. `payload` is the exact body sent.
 */
export interface AlertDelivery {
  id: string;
  /** null for a review report. */
  alertId: string | null;
  event: AlertDeliveryEvent;
  channel: AlertChannelType;
  url: string | null;
  payload: Json;
  attempts: number;
  status: AlertDeliveryStatus;
  createdAt: number;
  nextAttemptAt: number;
  lastError: string | null;
  deliveredAt: number | null;
}

/** The key of an alert: at most one fires per rule, queue and group. */
export function alertKey(ruleId: string, queue: string, groupId: string | null): string {
  return `${ruleId}\u001f${queue}\u001f${groupId ?? ''}`;
}

const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

/**
 * Checks a rule before it is stored: a name of letters, digits and `._:-`; a known kind; a
 * non-negative threshold; a window for `growth`; at least one channel, with an http(s) URL for
 * webhooks. Throws {@link ValidationError}.
 */
export function validateAlertRule(rule: AlertRule): AlertRule {
  if (!RULE_NAME.test(rule.name)) {
    throw new ValidationError(
      `invalid rule name "${rule.name}": 1-100 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`,
    );
  }
  if (!(ALERT_KINDS as readonly string[]).includes(rule.kind)) {
    throw new ValidationError(`unknown alert kind "${rule.kind}": use ${ALERT_KINDS.join(', ')}`);
  }
  if (!Number.isSafeInteger(rule.threshold) || rule.threshold < 0) {
    throw new ValidationError(`invalid threshold ${rule.threshold}: a whole number >= 0`);
  }
  if (rule.kind === 'growth' && (rule.windowMs === null || rule.windowMs <= 0)) {
    throw new ValidationError('a growth rule needs a window (e.g. --window 10m)');
  }
  if (rule.windowMs !== null && (!Number.isSafeInteger(rule.windowMs) || rule.windowMs <= 0)) {
    throw new ValidationError(`invalid window ${rule.windowMs}: a positive duration`);
  }
  if (!Number.isSafeInteger(rule.cooldownMs) || rule.cooldownMs < 0) {
    throw new ValidationError(`invalid cooldown ${rule.cooldownMs}: a duration >= 0`);
  }
  if (rule.renotifyMs !== null && (!Number.isSafeInteger(rule.renotifyMs) || rule.renotifyMs < 60_000)) {
    throw new ValidationError(`invalid renotify ${rule.renotifyMs}: at least 1m, or none`);
  }
  if (rule.channels.length === 0) {
    throw new ValidationError('an alert rule needs at least one channel (webhook, slack or log)');
  }
  for (const channel of rule.channels) validateAlertChannel(channel);
  return rule;
}

/** Checks one channel: a known type, and an http(s) URL for `webhook` and `slack`. */
export function validateAlertChannel(channel: AlertChannel): AlertChannel {
  if (!(ALERT_CHANNEL_TYPES as readonly string[]).includes(channel.type)) {
    throw new ValidationError(`unknown channel "${channel.type}": use ${ALERT_CHANNEL_TYPES.join(', ')}`);
  }
  if (channel.type === 'log') return channel;
  if (channel.url === undefined) throw new ValidationError(`a ${channel.type} channel needs a url`);
  validateWebhookUrl(channel.url);
  return channel;
}

/** Throws {@link ValidationError} unless `url` is an absolute http or https URL. */
export function validateWebhookUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError(`invalid webhook url "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ValidationError(`invalid webhook url "${url}": http or https only`);
  }
  return url;
}

/** A rule's settings as its audit entries record them: channel types only, as webhook URLs often carry a secret (Slack's do). */
export function ruleForAudit(rule: AlertRule): { [key: string]: Json } {
  return {
    id: rule.id,
    queue: rule.queue,
    kind: rule.kind,
    threshold: rule.threshold,
    windowMs: rule.windowMs,
    cooldownMs: rule.cooldownMs,
    renotifyMs: rule.renotifyMs,
    channels: rule.channels.map((c) => c.type),
  };
}
