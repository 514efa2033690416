import type { Command } from 'commander';
import type { DeadLetterSummary } from '../../core/dead-letter.ts';
import type { DeadLetterListParams } from '../../engine/deadletter.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { parseIntOption } from '../option-parsers.ts';
import { errorLine, formatAgo, formatTable } from '../output.ts';
import { addSelectorOptions, type SelectorFlags, selectorFrom } from '../selectors.ts';

interface ListFlags extends SelectorFlags {
  limit?: string;
  cursor?: string;
}

/** `dlq list`: dead letters, newest first, filtered and paged with a cursor. */
export function registerListCommand(program: Command, io: CliIo): void {
  addSelectorOptions(program.command('list').description('list dead letters, newest first'))
    .option('--limit <n>', 'page size, 1-1000 (default 50)')
    .option('--cursor <cursor>', 'continue after a previous page (its nextCursor)')
    .action(async (flags: ListFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      const params = listParamsFrom(flags, ctx.now());
      const page = await ctx.withApi((api) => api.listDeadLetters(params));
      if (ctx.json) return ctx.printJson(page);
      if (page.items.length === 0)
        return ctx.print(params.cursor ? 'no more dead letters' : 'no dead letters');
      ctx.print(renderDeadLetters(page.items, ctx.now()));
      if (page.nextCursor) ctx.print(`\nmore: dlq list --cursor ${page.nextCursor} (with the same filters)`);
    });
}

function listParamsFrom(flags: ListFlags, now: number): DeadLetterListParams {
  const params: DeadLetterListParams = selectorFrom(flags, now);
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
      errorLine(item.error, 60),
    ]),
  );
}
