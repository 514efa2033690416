import type { Command } from 'commander';
import {
  ALERT_KINDS,
  type AlertChannel,
  type AlertKind,
  type AlertRule,
  type AlertState,
} from '../../core/alert.ts';
import { formatDuration } from '../../core/duration.ts';
import { ValidationError } from '../../core/errors.ts';
import type { AlertHistoryEntry, AlertRuleChanges } from '../../engine/alerts.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { parseIntOption } from '../option-parsers.ts';
import { formatAgo, formatTable } from '../output.ts';

/** The flags of a rule's settings, the same in `dlq alert rule add` and `update`. */
interface RuleFlags {
  queue?: string;
  threshold?: string;
  window?: string;
  cooldown?: string;
  renotify?: string;
  webhook: string[];
  slack: string[];
  log?: boolean;
}

interface AddFlags extends RuleFlags {
  name: string;
  kind: string;
  disabled?: boolean;
}

interface UpdateFlags extends RuleFlags {
  name?: string;
  enable?: boolean;
  disable?: boolean;
}

/** The channels of --webhook, --slack and --log, in that order (none when no flag is given). */
function channelsFrom(flags: RuleFlags): AlertChannel[] {
  return [
    ...flags.webhook.map((url) => ({ type: 'webhook' as const, url })),
    ...flags.slack.map((url) => ({ type: 'slack' as const, url })),
    ...(flags.log ? [{ type: 'log' as const }] : []),
  ];
}

/** The changes of `dlq alert rule update`'s flags (exit 2 when none, or both --enable and --disable). */
function ruleChangesFrom(flags: UpdateFlags): AlertRuleChanges {
  if (flags.enable && flags.disable) throw new ValidationError('give --enable or --disable, not both');
  const changes: AlertRuleChanges = {};
  if (flags.name !== undefined) changes.name = flags.name;
  if (flags.queue !== undefined) changes.queue = flags.queue === 'all' ? null : flags.queue;
  if (flags.threshold !== undefined) changes.threshold = flags.threshold;
  if (flags.window !== undefined) changes.window = flags.window === 'none' ? null : flags.window;
  if (flags.cooldown !== undefined) changes.cooldown = flags.cooldown;
  if (flags.renotify !== undefined) changes.renotify = flags.renotify === 'none' ? null : flags.renotify;
  const channels = channelsFrom(flags);
  if (channels.length > 0) changes.channels = channels;
  if (flags.enable) changes.enabled = true;
  if (flags.disable) changes.enabled = false;
  if (Object.keys(changes).length === 0) {
    throw new ValidationError(
      'nothing to change: give --name, --queue, --threshold, --window, --cooldown, --renotify, channels, --enable or --disable',
    );
  }
  return changes;
}

interface ListFlags {
  state?: string;
  limit: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * `dlq alert rule add|list|update|remove` and `dlq alert list`: alert rules and the alert history.
 * Rules are evaluated by `dlq serve` (the alert evaluator and delivery services).
 */
export function registerAlertCommands(program: Command, io: CliIo): void {
  const alert = program
    .command('alert')
    .description('alert rules and the alert history (evaluated by `dlq serve`)');
  const rule = alert.command('rule').description('alert rules: add, list, update, remove');

  rule
    .command('add')
    .description('add an alert rule: one alert per rule, queue and group while it fires')
    .requiredOption('--name <name>', 'unique rule name')
    .option('--queue <queue>', 'the queue watched (default: every queue, one alert each)')
    .requiredOption('--kind <kind>', `what to watch: ${ALERT_KINDS.join(', ')}`)
    .option(
      '--threshold <n>',
      'dead letters (depth, growth, groups: default 1), or a duration for oldest (2h)',
    )
    .option('--window <duration>', 'growth: the window (10m); new_group: how recent a group must be')
    .option('--cooldown <duration>', 'after a resolve, no new alert of the same key for this long', '30m')
    .option('--renotify <duration>', 'notify a still-firing alert again after this long (default: once)')
    .option('--webhook <url>', 'POST generic JSON to this URL (repeatable)', collect, [])
    .option('--slack <url>', 'POST to this Slack-compatible incoming webhook (repeatable)', collect, [])
    .option('--log', 'write a line to the server log')
    .option('--disabled', 'create the rule disabled')
    .action(async (flags: AddFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      if (!(ALERT_KINDS as readonly string[]).includes(flags.kind)) {
        throw new ValidationError(`unknown --kind "${flags.kind}": use ${ALERT_KINDS.join(', ')}`);
      }
      const channels = channelsFrom(flags);
      if (channels.length === 0)
        throw new ValidationError('give at least one of --webhook URL, --slack URL, --log');
      const created = await ctx.withAdmin((admin) =>
        admin.addAlertRule({
          name: flags.name,
          queue: flags.queue ?? null,
          kind: flags.kind as AlertKind,
          ...(flags.threshold !== undefined && { threshold: flags.threshold }),
          window: flags.window ?? null,
          ...(flags.cooldown !== undefined && { cooldown: flags.cooldown }),
          ...(flags.renotify !== undefined && { renotify: flags.renotify }),
          channels,
          enabled: flags.disabled !== true,
        }),
      );
      if (ctx.json) return ctx.printJson(created);
      ctx.print(`added alert rule "${created.name}": ${describeRule(created)}`);
    });

  rule
    .command('list')
    .description('list the alert rules')
    .action(async (_flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      const rules = await ctx.withAdmin((admin) => admin.listAlertRules());
      if (ctx.json) return ctx.printJson(rules);
      if (rules.length === 0) return ctx.print('no alert rules yet: add one with `dlq alert rule add`');
      ctx.print(
        formatTable(
          [
            { header: 'NAME' },
            { header: 'QUEUE' },
            { header: 'CONDITION' },
            { header: 'CHANNELS' },
            { header: 'STATE' },
          ],
          rules.map((r) => [
            r.name,
            r.queue ?? '(all)',
            describeRule(r),
            r.channels.map((c) => c.type).join(', '),
            r.enabled ? 'enabled' : 'disabled',
          ]),
        ),
      );
    });

  rule
    .command('update')
    .description('change an alert rule: the settings given, the others kept (its kind stays)')
    .argument('<rule>', 'rule id or name')
    .option('--name <name>', 'a new name')
    .option('--queue <queue>', "the queue watched, or 'all' for every queue")
    .option('--threshold <n>', 'dead letters, or a duration for oldest (2h)')
    .option('--window <duration>', "the window; 'none' clears it (not for growth)")
    .option('--cooldown <duration>', 'after a resolve, no new alert of the same key for this long')
    .option('--renotify <duration>', "notify a still-firing alert again after this long; 'none': once")
    .option('--webhook <url>', 'replace the channels: POST generic JSON here (repeatable)', collect, [])
    .option('--slack <url>', 'replace the channels: a Slack-compatible webhook (repeatable)', collect, [])
    .option('--log', 'replace the channels: a line in the server log')
    .option('--enable', 'enable the rule')
    .option('--disable', 'disable the rule: it fires nothing and its firing alerts resolve')
    .action(async (ref: string, flags: UpdateFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      const changes = ruleChangesFrom(flags);
      const updated = await ctx.withAdmin((admin) => admin.updateAlertRule(ref, changes));
      if (ctx.json) return ctx.printJson(updated);
      ctx.print(
        `updated alert rule "${updated.name}": ${describeRule(updated)}, ${updated.enabled ? 'enabled' : 'disabled'}`,
      );
    });

  rule
    .command('remove')
    .description('remove an alert rule (its firing alerts resolve without a notification)')
    .argument('<rule>', 'rule id or name')
    .action(async (ref: string, _flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      const removed = await ctx.withAdmin((admin) => admin.removeAlertRule(ref));
      if (ctx.json) return ctx.printJson(removed);
      ctx.print(`removed alert rule "${removed.name}"`);
    });

  alert
    .command('list')
    .description('the alert history, newest first, with the status of each notification')
    .option('--state <state>', 'firing or resolved')
    .option('--limit <n>', 'most alerts listed', '50')
    .action(async (flags: ListFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      if (flags.state !== undefined && flags.state !== 'firing' && flags.state !== 'resolved') {
        throw new ValidationError(`invalid --state "${flags.state}": use firing or resolved`);
      }
      const limit = parseIntOption(flags.limit, '--limit', { min: 1, max: 10_000 });
      const state = flags.state as AlertState | undefined;
      const history = await ctx.withAdmin((admin) =>
        admin.listAlertHistory({ limit, ...(state !== undefined && { state }) }),
      );
      if (ctx.json) return ctx.printJson(history);
      if (history.length === 0) return ctx.print('no alerts');
      const now = ctx.now();
      ctx.print(
        formatTable(
          [
            { header: 'RULE' },
            { header: 'QUEUE' },
            { header: 'GROUP' },
            { header: 'STATE' },
            { header: 'FIRED' },
            { header: 'VALUE' },
            { header: 'DELIVERIES' },
          ],
          history.map((a) => [
            a.ruleName,
            a.queue,
            a.groupId ?? '',
            a.state === 'firing' ? 'firing' : `resolved ${formatAgo(a.resolvedAt ?? now, now)}`,
            formatAgo(a.firedAt, now),
            String(a.value),
            describeDeliveries(a),
          ]),
        ),
      );
    });
}

/** `depth > 100`, `growth > 50 in 10m`, `oldest > 2h`, `new group`..., then `, again every 1h` when it re-notifies. */
function describeRule(rule: AlertRule): string {
  const again = rule.renotifyMs === null ? '' : `, again every ${formatDuration(rule.renotifyMs)}`;
  return describeCondition(rule) + again;
}

function describeCondition(rule: AlertRule): string {
  switch (rule.kind) {
    case 'depth':
      return `depth > ${rule.threshold}`;
    case 'growth':
      return `growth > ${rule.threshold} in ${formatDuration(rule.windowMs ?? 0)}`;
    case 'oldest':
      return `oldest > ${formatDuration(rule.threshold)}`;
    case 'new_group':
      return `new group${rule.windowMs === null ? '' : ` (first seen within ${formatDuration(rule.windowMs)})`}`;
    case 'regressed_group':
      return 'regressed group';
  }
}

/** `fired webhook delivered (1), resolved slack pending (2)`. */
function describeDeliveries(alert: AlertHistoryEntry): string {
  return [...alert.deliveries]
    .reverse()
    .map((d) => `${d.event} ${d.channel} ${d.status} (${d.attempts})`)
    .join(', ');
}
