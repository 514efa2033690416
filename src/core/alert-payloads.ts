import type { Alert, AlertChannelType, AlertRule } from './alert.ts';
import { formatDuration } from './duration.ts';
import type { Json } from './message.ts';
import { type ReviewReport, renderReviewMarkdown } from './review.ts';

/**
 * The body of a generic JSON webhook for an alert event. `value` is what was measured when it
 * fired (a count, or for `oldest` an age in ms); `url` links to the dashboard when the server
 * knows its public address.
 */
export interface AlertWebhookPayload {
  event: 'fired' | 'resolved';
  rule: string;
  ruleId: string;
  kind: AlertRule['kind'];
  queue: string;
  group: string | null;
  value: number;
  threshold: number;
  firedAt: number;
  resolvedAt: number | null;
  summary: string;
  /** True on a reminder that the alert is still firing (the rule's `renotifyMs`); `value` is then measured now. */
  renotify?: boolean;
  url?: string;
}

/** A one-line description of an alert for people: `orders: depth 250 > 100 (rule orders-depth)`. */
export function alertSummary(
  rule: Pick<AlertRule, 'name' | 'kind' | 'threshold' | 'windowMs'>,
  alert: Pick<Alert, 'queue' | 'groupId' | 'value' | 'details'>,
): string {
  const where = alert.groupId === null ? alert.queue : `${alert.queue} group ${alert.groupId}`;
  let what: string;
  switch (rule.kind) {
    case 'depth':
      what = `${alert.value} dead letters in the DLQ (threshold ${rule.threshold})`;
      break;
    case 'growth':
      what = `${alert.value} new dead letters within ${formatDuration(rule.windowMs ?? 0)} (threshold ${rule.threshold})`;
      break;
    case 'oldest':
      what = `oldest dead letter is ${formatDuration(alert.value)} old (threshold ${formatDuration(rule.threshold)})`;
      break;
    case 'new_group':
      what = `new failure ${String(alert.details.errorName ?? '')}: ${String(alert.details.message ?? '')} (${alert.value} dead letters)`;
      break;
    case 'regressed_group':
      what = `regressed failure ${String(alert.details.errorName ?? '')}: ${String(alert.details.message ?? '')} (${alert.value} dead letters)`;
      break;
  }
  return `${where}: ${what} [rule ${rule.name}]`;
}

/** The generic JSON body of an alert event. */
export function alertWebhookPayload(params: {
  event: 'fired' | 'resolved';
  rule: AlertRule;
  alert: Alert;
  dashboardUrl?: string;
  /** A reminder of a still-firing alert (see {@link AlertWebhookPayload.renotify}). */
  renotify?: boolean;
}): AlertWebhookPayload {
  const { rule, alert } = params;
  const payload: AlertWebhookPayload = {
    event: params.event,
    rule: rule.name,
    ruleId: rule.id,
    kind: rule.kind,
    queue: alert.queue,
    group: alert.groupId,
    value: alert.value,
    threshold: rule.threshold,
    firedAt: alert.firedAt,
    resolvedAt: alert.resolvedAt,
    summary: alertSummary(rule, alert),
  };
  if (params.renotify === true) {
    payload.renotify = true;
    payload.summary = `still firing since ${new Date(alert.firedAt).toISOString()}: ${payload.summary}`;
  }
  if (params.dashboardUrl !== undefined) {
    const base = params.dashboardUrl.replace(/\/+$/, '');
    payload.url =
      alert.groupId === null
        ? `${base}/queues/${encodeURIComponent(alert.queue)}`
        : `${base}/groups/${encodeURIComponent(alert.groupId)}`;
  }
  return payload;
}

/** Slack's incoming-webhook body: `text` (the fallback and notification line) and `blocks`. */
export interface SlackPayload {
  text: string;
  blocks: { [key: string]: Json }[];
}

/** Escapes Slack's control characters in mrkdwn text. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The Slack-compatible body of an alert event. */
export function alertSlackPayload(payload: AlertWebhookPayload): SlackPayload {
  const head =
    payload.event === 'resolved'
      ? ':white_check_mark: Alert resolved'
      : payload.renotify === true
        ? ':rotating_light: Alert still firing'
        : ':rotating_light: Alert firing';
  const text = `${head}: ${payload.summary}`;
  const fields = [
    `*Queue:* ${slackEscape(payload.queue)}`,
    `*Rule:* ${slackEscape(payload.rule)} (${payload.kind})`,
    `*Fired:* ${new Date(payload.firedAt).toISOString()}`,
  ];
  if (payload.resolvedAt !== null) fields.push(`*Resolved:* ${new Date(payload.resolvedAt).toISOString()}`);
  if (payload.group !== null) fields.push(`*Group:* ${slackEscape(payload.group)}`);
  const blocks: SlackPayload['blocks'] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${head}*\n${slackEscape(payload.summary)}` } },
    { type: 'section', fields: fields.map((f) => ({ type: 'mrkdwn', text: f })) },
  ];
  if (payload.url !== undefined) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `<${payload.url}|Open in Deadletter>` }],
    });
  }
  return { text: slackEscape(text), blocks };
}

/** The body of a notification for a channel: the generic JSON, or Slack's; the log gets the generic JSON. */
export function alertPayloadFor(channel: AlertChannelType, payload: AlertWebhookPayload): Json {
  return (channel === 'slack' ? alertSlackPayload(payload) : payload) as unknown as Json;
}

/** The body of a scheduled review report: the JSON report and its Markdown, or Slack's text. */
export function reviewPayloadFor(channel: AlertChannelType, report: ReviewReport): Json {
  const markdown = renderReviewMarkdown(report);
  if (channel === 'slack') {
    // Slack's section text is limited to 3000 characters.
    const text = markdown.length > 2900 ? `${markdown.slice(0, 2900)}\n…` : markdown;
    return {
      text: 'Deadletter review',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: slackEscape(text) } }],
    };
  }
  return { event: 'review', report, markdown } as unknown as Json;
}
