import { relative } from 'node:path';
import type { Command } from 'commander';
import { formatDuration } from '../../core/duration.ts';
import type { RetentionSweepResult } from '../../engine/retention-sweeper.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { formatTable, formatTime } from '../output.ts';
import { progressBar } from '../progress.ts';

/**
 * `dlq retention run [--dry-run] [--queue q]`: one retention sweep now, the one the maintenance
 * service runs every hour in a server or worker. Exit 1 when a queue's sweep failed (its dead
 * letters stay in the store); exit 2 when another sweep is running.
 */
export function registerRetentionCommands(program: Command, io: CliIo): void {
  const retention = program
    .command('retention')
    .description('archive expired dead letters (per queue retention) to the archive directory');

  retention
    .command('run')
    .description('run one retention sweep now: archive, then delete, what is past its queue retention')
    .option('--dry-run', 'only count what would be archived; change nothing')
    .option('--queue <name>', 'only this queue')
    .action(async (flags: { dryRun?: boolean; queue?: string }, command: Command) => {
      const ctx = CliContext.of(command, io);
      // Through a server the sweep runs there, into its archive directory.
      const result = await ctx.withApi(async (api) => {
        const bar = progressBar(ctx, 'archiving');
        try {
          return await api.sweepRetention({
            actor: ctx.actor,
            ...(flags.dryRun && { dryRun: true }),
            ...(flags.queue !== undefined && { queue: flags.queue }),
            onProgress: (done, total) => bar.update(done, total),
          });
        } finally {
          bar.stop();
        }
      });
      if (ctx.json) ctx.printJson(result);
      else ctx.print(renderSweep(result));
      const failed = result.queues.filter((queue) => queue.error !== undefined);
      if (failed.length > 0) {
        throw new Error(
          `the sweep of ${failed.map((queue) => queue.queue).join(', ')} failed (their dead letters stay in the store): ${failed[0]?.error}`,
        );
      }
    });
}

/** A sweep's result for people: one line per queue, then the files written. */
export function renderSweep(result: RetentionSweepResult): string {
  const verb = result.dryRun ? 'would archive' : 'archived';
  const table = formatTable(
    [
      { header: 'QUEUE' },
      { header: 'RETENTION', align: 'right' },
      { header: 'EXPIRED BEFORE' },
      { header: 'DEAD', align: 'right' },
      { header: 'REPLAYED', align: 'right' },
      { header: 'FILES', align: 'right' },
    ],
    result.queues.map((queue) => [
      queue.queue,
      queue.retentionDays === 0 ? 'forever' : formatDuration(queue.retentionDays * 86_400_000),
      queue.before === null ? '-' : formatTime(queue.before),
      String(queue.dead),
      String(queue.replayed),
      result.dryRun ? '-' : String(queue.files.length),
    ]),
  );
  const lines = [
    result.queues.length === 0 ? 'no queues yet' : table,
    '',
    `${verb} ${result.dead} dead letters and ${result.replayed} replayed ones to ${result.archiveDir}`,
  ];
  for (const queue of result.queues) {
    for (const file of queue.files) {
      lines.push(
        `  ${relative(result.archiveDir, file.file)}: +${file.dead + file.replayed}` +
          (file.kept > 0 ? ` (${file.kept} already there)` : '') +
          (file.stale > 0 ? ` (${file.stale} changed meanwhile, left in the store)` : ''),
      );
    }
    if (queue.error !== undefined) lines.push(`  ${queue.queue}: FAILED: ${queue.error}`);
  }
  if (result.dryRun) lines.push('dry run: nothing was changed');
  return lines.join('\n');
}
