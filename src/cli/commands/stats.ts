import type { Command } from 'commander';
import type { QueueStatsReport } from '../../engine/deadletter.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { formatAge, formatAgo, formatTable } from '../output.ts';

/**
 * `dlq stats`: per queue waiting, delayed, leased, done, dead, dropped, replayed, discarded,
 * archived, the oldest dead letter's age and when the next dead letters expire.
 */
export function registerStatsCommand(program: Command, io: CliIo): void {
  program
    .command('stats')
    .description(
      'per queue: waiting, delayed, leased, done, dead, dropped, replayed, discarded, archived, ' +
        'age of the oldest dead letter and when the next ones expire',
    )
    .action(async (_flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      const stats = await ctx.withApi((api) => api.stats());
      if (ctx.json) return ctx.printJson(stats);
      ctx.print(stats.length === 0 ? 'no queues yet' : renderStats(stats, ctx.now()));
    });
}

/** A table of {@link QueueStatsReport}, one row per queue. `NEXT EXPIRY` is `-` when nothing will expire. */
export function renderStats(stats: readonly QueueStatsReport[], now: number): string {
  return formatTable(
    [
      { header: 'QUEUE' },
      { header: 'WAITING', align: 'right' },
      { header: 'DELAYED', align: 'right' },
      { header: 'LEASED', align: 'right' },
      { header: 'DONE', align: 'right' },
      { header: 'DEAD', align: 'right' },
      { header: 'DROPPED', align: 'right' },
      { header: 'REPLAYED', align: 'right' },
      { header: 'DISCARDED', align: 'right' },
      { header: 'ARCHIVED', align: 'right' },
      { header: 'OLDEST DEAD', align: 'right' },
      { header: 'NEXT EXPIRY', align: 'right' },
    ],
    stats.map((row) => [
      row.queue,
      String(row.waiting),
      String(row.delayed),
      String(row.leased),
      String(row.done),
      String(row.dead),
      String(row.dropped),
      String(row.replayed),
      String(row.discarded),
      String(row.archived),
      formatAge(row.oldestDeadAt, now),
      row.nextExpiryAt === null ? '-' : formatAgo(row.nextExpiryAt, now),
    ]),
  );
}
