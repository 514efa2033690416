import type { Command } from 'commander';
import { DEMO_MAINTENANCE, runDemo } from '../../engine/demo.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { parseIntOption } from '../option-parsers.ts';
import { renderGroups } from './groups.ts';
import { renderStats } from './stats.ts';

interface DemoFlags {
  messages?: string;
  seed?: string;
}

/**
 * `dlq demo`: runs the demo workload (`engine/demo.ts`) on the configured store, then prints
 * the per-queue stats and the groups it found. Its dead letters stay, so `dlq list` and
 * `dlq groups` show them afterwards.
 */
export function registerDemoCommand(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('run a realistic mixed workload on demo.* queues, then show the stats and the groups found')
    .option('--messages <n>', 'messages to send across the demo queues (default 300)')
    .option('--seed <n>', 'seed of the workload mix (default 7)')
    .action(async (flags: DemoFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      const messages =
        flags.messages === undefined
          ? undefined
          : parseIntOption(flags.messages, '--messages', { min: 1, max: 100_000 });
      const seed =
        flags.seed === undefined
          ? undefined
          : parseIntOption(flags.seed, '--seed', { min: 0, max: 2 ** 32 - 1 });
      const report = await ctx.withDeadletter(
        async (dl) => {
          const stop = new AbortController();
          const unsubscribe = io.onShutdown?.(() => {
            ctx.progress('stopping the demo workers...');
            stop.abort();
          });
          try {
            return await runDemo({
              dl,
              log: (line) => ctx.progress(line),
              signal: stop.signal,
              ...(messages === undefined ? {} : { messages }),
              ...(seed === undefined ? {} : { seed }),
            });
          } finally {
            unsubscribe?.();
          }
        },
        { create: true, maintenance: DEMO_MAINTENANCE },
      );
      if (ctx.json) return ctx.printJson({ store: ctx.storeUrl, ...report });
      const now = ctx.now();
      ctx.print();
      ctx.print('per-queue stats');
      ctx.print(renderStats(report.stats, now));
      ctx.print();
      ctx.print(`groups found (${report.groups.length})`);
      ctx.print(report.groups.length === 0 ? 'none' : renderGroups(report.groups, now));
      const sample = report.groups[0];
      ctx.print();
      ctx.print('next steps:');
      ctx.print('  dlq groups --tier permanent        the bugs');
      ctx.print('  dlq list --queue demo.payments     dead letters of one queue');
      if (sample) {
        ctx.print(`  dlq list --group ${sample.id}`);
        ctx.print(`  dlq show ${sample.sampleId}`);
        ctx.print(`  dlq group ack ${sample.id}`);
      }
    });
}
