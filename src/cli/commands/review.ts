import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.ts';
import { renderReviewMarkdown } from '../../core/review.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { parseTimeOption } from '../option-parsers.ts';

interface ReviewFlags {
  since?: string;
  until?: string;
  format?: string;
}

/**
 * `dlq review [--since 7d] [--until <time>] [--format md|json]`: per DLQ depth, inflow, new and
 * top groups, the oldest dead letter, what was replayed or discarded and by whom, and what is
 * still untriaged. Markdown by default; `--json` is `--format json`.
 */
export function registerReviewCommand(program: Command, io: CliIo): void {
  program
    .command('review')
    .description(
      'a review report of every DLQ over a window: depth, inflow, new and top groups, replays, discards, untriaged',
    )
    .option('--since <time>', 'start of the window: a duration ago (7d, the default) or an ISO time')
    .option('--until <time>', 'end of the window (default now)')
    .option('--format <format>', 'md (Markdown, the default) or json')
    .action(async (flags: ReviewFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      const format = flags.format ?? (ctx.json ? 'json' : 'md');
      if (format !== 'md' && format !== 'json') {
        throw new ValidationError(`invalid --format "${flags.format}": use md or json`);
      }
      if (ctx.json && format !== 'json')
        throw new ValidationError('--json prints JSON: leave out --format md');
      const now = ctx.now();
      const until = flags.until === undefined ? now : parseTimeOption(flags.until, '--until', now);
      const since = parseTimeOption(flags.since ?? '7d', '--since', now);
      const report = await ctx.withApi((api) => api.review({ since, until }));
      if (format === 'json') ctx.printJson(report);
      else io.stdout.write(`${renderReviewMarkdown(report).trimEnd()}\n`);
    });
}
