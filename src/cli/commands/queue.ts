import type { Command } from 'commander';
import { formatDuration } from '../../core/duration.ts';
import { ValidationError } from '../../core/errors.ts';
import {
  formatBackoff,
  QUEUE_DEFAULTS,
  type QueueRecord,
  type QueueSettingsInput,
  resolveQueueSettings,
  validateQueueName,
} from '../../core/queue-settings.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { parseIntOption } from '../option-parsers.ts';
import { formatTable } from '../output.ts';

/** Retention under this many days gets a warning: the product's advice (see PRODUCT.md). */
const SHORT_RETENTION_DAYS = 7;

interface QueueFlags {
  maxReceives?: string;
  visibilityTimeout?: string;
  backoff?: string;
  retention?: string;
  replayLimit?: string;
  doneRetention?: string;
  deadLetter?: boolean;
}

/** `dlq queue create|update <name>` and `dlq queue list`. */
export function registerQueueCommands(program: Command, io: CliIo): void {
  const queue = program.command('queue').description('create, update and list queues');

  const withSettings = (command: Command) =>
    command
      .argument('<name>', 'queue name')
      .option('--max-receives <n>', 'receives before a retryable failure is dead-lettered (1-1000)')
      .option('--visibility-timeout <duration>', 'lease taken by each receive, e.g. 30s (100ms-12h)')
      .option(
        '--backoff <spec>',
        'retry delay: exponential:<base>:<cap> (e.g. exponential:1s:5m) or fixed:<delay>',
      )
      .option('--retention <duration>', 'how long dead letters are kept, e.g. 14d (0 keeps them forever)')
      .option('--replay-limit <n>', 'replays of a message before replays skip it, 0-100 (default 3)')
      .option(
        '--done-retention <duration>',
        'how long messages that succeeded are kept before they are deleted, e.g. 1h (default; 0 deletes each when it is acked, at most 365d)',
      )
      .option('--dead-letter', 'keep failures that will not be retried in the DLQ (the default)')
      .option('--no-dead-letter', 'drop such failures instead (counted as dropped)');

  withSettings(queue.command('create'))
    .description(
      'create a queue (defaults: 5 receives, 30s lease, exponential:1s:5m, DLQ on, 14d, done messages kept 1h)',
    )
    .action(async (name: string, flags: QueueFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      const settings = settingsFrom(name, flags);
      const record = await ctx.withApi((api) => api.createQueue(name, settings, { actor: ctx.actor }), {
        create: true,
      });
      warnAbout(ctx, record, { retention: true, deadLetter: true });
      if (ctx.json) ctx.printJson(record);
      else ctx.print(`created queue ${record.name}: ${describeSettings(record)}`);
    });

  withSettings(queue.command('update'))
    .description('change the given settings of an existing queue')
    .action(async (name: string, flags: QueueFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      const settings = settingsFrom(name, flags);
      if (Object.keys(settings).length === 0) {
        throw new ValidationError(
          'nothing to update: give at least one of --max-receives, --visibility-timeout, --backoff, --retention, --replay-limit, --done-retention, --[no-]dead-letter',
        );
      }
      const record = await ctx.withApi((api) => api.updateQueue(name, settings, { actor: ctx.actor }));
      warnAbout(ctx, record, {
        retention: settings.retention !== undefined,
        deadLetter: settings.deadLetter === false,
      });
      if (ctx.json) ctx.printJson(record);
      else ctx.print(`updated queue ${record.name}: ${describeSettings(record)}`);
    });

  queue
    .command('list')
    .description('list queues and their settings')
    .action(async (_flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      const queues = await ctx.withApi((api) => api.listQueues());
      if (ctx.json) return ctx.printJson(queues);
      if (queues.length === 0) return ctx.print('no queues yet: create one with `dlq queue create <name>`');
      ctx.print(
        formatTable(
          [
            { header: 'QUEUE' },
            { header: 'MAX RECEIVES', align: 'right' },
            { header: 'VISIBILITY', align: 'right' },
            { header: 'BACKOFF' },
            { header: 'DLQ' },
            { header: 'RETENTION', align: 'right' },
            { header: 'REPLAY LIMIT', align: 'right' },
            { header: 'DONE KEPT', align: 'right' },
          ],
          queues.map((record) => [
            record.name,
            String(record.maxReceives),
            formatDuration(record.visibilityTimeoutMs),
            formatBackoff(record.backoff),
            record.deadLetter ? 'on' : 'off',
            formatRetention(record.retentionDays),
            String(record.replayLimit ?? QUEUE_DEFAULTS.replayLimit),
            formatDoneRetention(record),
          ]),
        ),
      );
    });
}

/**
 * Flags to settings, validated here (exit 2) before the store is opened, so that bad input
 * changes nothing; the engine validates them again.
 */
function settingsFrom(name: string, flags: QueueFlags): QueueSettingsInput {
  validateQueueName(name);
  const settings: QueueSettingsInput = {};
  if (flags.maxReceives !== undefined) {
    settings.maxReceives = parseIntOption(flags.maxReceives, '--max-receives', { min: 1, max: 1000 });
  }
  if (flags.visibilityTimeout !== undefined) settings.visibilityTimeout = flags.visibilityTimeout;
  if (flags.backoff !== undefined) settings.backoff = flags.backoff;
  if (flags.retention !== undefined) settings.retention = flags.retention;
  if (flags.replayLimit !== undefined) {
    settings.replayLimit = parseIntOption(flags.replayLimit, '--replay-limit', { min: 0, max: 100 });
  }
  if (flags.doneRetention !== undefined) settings.doneRetention = flags.doneRetention;
  if (flags.deadLetter !== undefined) settings.deadLetter = flags.deadLetter;
  resolveQueueSettings(settings);
  return settings;
}

/** Warnings for risky settings that were just chosen (`check` says which were). */
function warnAbout(
  ctx: CliContext,
  record: QueueRecord,
  check: { retention: boolean; deadLetter: boolean },
): void {
  if (check.retention && record.retentionDays > 0 && record.retentionDays < SHORT_RETENTION_DAYS) {
    ctx.warn(
      `retention of queue ${record.name} is ${formatRetention(record.retentionDays)}: ` +
        `dead letters will leave the DLQ for the archive before most teams look at them (${SHORT_RETENTION_DAYS}d or more is advised)`,
    );
  }
  if (check.deadLetter && !record.deadLetter) {
    ctx.warn(`queue ${record.name} has no DLQ: failures that will not be retried are dropped`);
  }
}

function formatRetention(days: number): string {
  return days === 0 ? 'forever' : formatDuration(days * 86_400_000);
}

/** How long the queue keeps done messages: `1h`, or `0` (deleted at the next sweep). */
function formatDoneRetention(record: QueueRecord): string {
  const ms = record.doneRetentionMs ?? QUEUE_DEFAULTS.doneRetentionMs;
  return ms === 0 ? '0' : formatDuration(ms);
}

function describeSettings(record: QueueRecord): string {
  return [
    `max receives ${record.maxReceives}`,
    `visibility timeout ${formatDuration(record.visibilityTimeoutMs)}`,
    `backoff ${formatBackoff(record.backoff)}`,
    `DLQ ${record.deadLetter ? 'on' : 'off'}`,
    `retention ${formatRetention(record.retentionDays)}`,
    `replay limit ${record.replayLimit ?? QUEUE_DEFAULTS.replayLimit}`,
    `done messages kept ${formatDoneRetention(record)}`,
  ].join(', ');
}
