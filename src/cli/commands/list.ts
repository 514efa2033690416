import type { Command } from 'commander';
import type { DeadLetterSummary } from '../../core/dead-letter.ts';
import type { DeadLetterListParams } from '../../engine/deadletter.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { parseIntOption, parseTierOption, parseTimeOption } from '../option-parsers.ts';
import { formatAgo, formatTable, truncate } from '../output.ts';

interface ListFlags {
  queue?: string;
  tier?: string;
  group?: string;
  since?: string;
  until?: string;
  grep?: string;
  limit?: string;
  cursor?: string;
}

/** `dlq list`: dead letters, newest first, filtered and paged with a cursor. */
export function registerListCommand(program: Command, io: CliIo): void {
  program
    .command('list')
    .description('list dead letters, newest first')
    .option('--queue <name>', 'only this queue')
    .option('--tier <tier>', 'only this tier: transient, timeout, malformed, resource or permanent')
    .option('--group <id>', 'only this group')
    .option('--since <time>', 'died at or after: an ISO time or a duration ago (2h)')
    .option('--until <time>', 'died before: an ISO time or a duration ago')
    .option('--grep <text>', 'error name or message contains this text (case-insensitive)')
    .option('--limit <n>', 'page size, 1-1000 (default 50)')
    .option('--cursor <cursor>', 'continue after a previous page (its nextCursor)')
    .action(async (flags: ListFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      const params = listParamsFrom(flags, ctx.now());
      const page = await ctx.withDeadletter((dl) => dl.listDeadLetters(params));
      if (ctx.json) return ctx.printJson(page);
      if (page.items.length === 0)
        return ctx.print(params.cursor ? 'no more dead letters' : 'no dead letters');
      ctx.print(renderDeadLetters(page.items, ctx.now()));
      if (page.nextCursor) ctx.print(`\nmore: dlq list --cursor ${page.nextCursor} (with the same filters)`);
    });
}

function listParamsFrom(flags: ListFlags, now: number): DeadLetterListParams {
  const params: DeadLetterListParams = {};
  if (flags.queue !== undefined) params.queue = flags.queue;
  if (flags.tier !== undefined) params.tier = parseTierOption(flags.tier);
  if (flags.group !== undefined) params.groupId = flags.group;
  if (flags.since !== undefined) params.since = parseTimeOption(flags.since, '--since', now);
  if (flags.until !== undefined) params.until = parseTimeOption(flags.until, '--until', now);
  if (flags.grep !== undefined) params.grep = flags.grep;
  if (flags.limit !== undefined) params.limit = parseIntOption(flags.limit, '--limit', { min: 1, max: 1000 });
  if (flags.cursor !== undefined) params.cursor = flags.cursor;
  return params;
}

/** A table of dead letters: id, queue, tier, group, died at, attempts and the error. */
export function renderDeadLetters(items: readonly DeadLetterSummary[], now: number): string {
  return formatTable(
    [
      { header: 'ID' },
      { header: 'QUEUE' },
      { header: 'TIER' },
      { header: 'GROUP' },
      { header: 'DIED', align: 'right' },
      { header: 'ATTEMPTS', align: 'right' },
      { header: 'ERROR' },
    ],
    items.map((item) => [
      item.id,
      item.queue,
      item.tier,
      item.groupId,
      formatAgo(item.diedAt, now),
      String(item.attemptCount),
      truncate(`${item.error.name}: ${item.error.message}`, 60),
    ]),
  );
}
