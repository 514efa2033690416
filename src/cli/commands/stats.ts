import type { Command } from 'commander';
import type { QueueStats } from '../../store/store.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { formatAge, formatTable } from '../output.ts';

/** `dlq stats`: per queue waiting, delayed, leased, done, dead, dropped and the oldest dead letter's age. */
export function registerStatsCommand(program: Command, io: CliIo): void {
  program
    .command('stats')
    .description('per queue: waiting, delayed, leased, done, dead, dropped, age of the oldest dead letter')
    .action(async (_flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      const stats = await ctx.withDeadletter((dl) => dl.stats());
      if (ctx.json) return ctx.printJson(stats);
      ctx.print(stats.length === 0 ? 'no queues yet' : renderStats(stats, ctx.now()));
    });
}

/** A table of {@link QueueStats}, one row per queue. */
export function renderStats(stats: readonly QueueStats[], now: number): string {
  return formatTable(
    [
      { header: 'QUEUE' },
      { header: 'WAITING', align: 'right' },
      { header: 'DELAYED', align: 'right' },
      { header: 'LEASED', align: 'right' },
      { header: 'DONE', align: 'right' },
      { header: 'DEAD', align: 'right' },
      { header: 'DROPPED', align: 'right' },
      { header: 'OLDEST DEAD', align: 'right' },
    ],
    stats.map((row) => [
      row.queue,
      String(row.waiting),
      String(row.delayed),
      String(row.leased),
      String(row.done),
      String(row.dead),
      String(row.dropped),
      formatAge(row.oldestDeadAt, now),
    ]),
  );
}
