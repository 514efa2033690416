import type { Command } from 'commander';
import { validateDiscardReason } from '../../core/discard.ts';
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import type { DiscardReport } from '../../engine/discard.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { parseIntOption } from '../option-parsers.ts';
import { progressBar } from '../progress.ts';
import { addSelectorOptions, isNarrowed, type SelectorFlags, selectorFrom } from '../selectors.ts';
import { renderDeadLetters } from './list.ts';

/** Discards of more dead letters than this need `--yes`: a typo in a filter should not empty a DLQ. */
export const DISCARD_CONFIRM_ABOVE = 100;

interface DiscardFlags extends SelectorFlags {
  reason?: string;
  dryRun?: boolean;
  yes?: boolean;
  batchSize?: string;
}

/**
 * `dlq discard [selectors] --reason "..." [--dry-run] [--yes]`: deletes the selected dead
 * letters, keeping a tombstone of each and an audit entry per batch. Exit 2, with nothing
 * changed, when the reason or a selector is missing or wrong, an id is not in the DLQ, nothing
 * matches, or more than {@link DISCARD_CONFIRM_ABOVE} would go without `--yes`.
 */
export function registerDiscardCommand(program: Command, io: CliIo): void {
  addSelectorOptions(
    program
      .command('discard')
      .description(
        'discard dead letters for good: a tombstone and an audit entry stay (see --dry-run first)',
      ),
  )
    .option('--reason <text>', 'why they can go (required; kept in every tombstone and the audit log)')
    .option('--dry-run', 'only show what would be discarded: counts per queue, group and tier, and samples')
    .option('--yes', `confirm a discard of more than ${DISCARD_CONFIRM_ABOVE} dead letters`)
    .option('--batch-size <n>', 'dead letters per transaction, 1-5000 (default 500)')
    .action(async (flags: DiscardFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      const filter = selectorFrom(flags, ctx.now());
      if (!isNarrowed(filter)) {
        throw new ValidationError(
          'select the dead letters to discard: --ids, --group, --queue, --tier, --since/--until, --grep or --where',
        );
      }
      const dryRun = flags.dryRun === true;
      const reason = dryRun && flags.reason === undefined ? undefined : validateDiscardReason(flags.reason);
      const batchSize =
        flags.batchSize === undefined
          ? undefined
          : parseIntOption(flags.batchSize, '--batch-size', { min: 1, max: 5000 });

      const report = await ctx.withApi(async (api) => {
        const plan = await api.discard(filter, { dryRun: true, ...(reason !== undefined && { reason }) });
        if (dryRun) return plan;
        if (plan.matched === 0)
          throw new NotFoundError('no dead letter matches the selection: nothing was discarded');
        if (plan.matched > DISCARD_CONFIRM_ABOVE && flags.yes !== true) {
          throw new ValidationError(
            `${plan.matched} dead letters would be discarded: add --yes to confirm (look first with --dry-run)`,
          );
        }
        const bar = progressBar(ctx, 'discarding');
        try {
          return await api.discard(filter, {
            reason: reason as string,
            actor: ctx.actor,
            ...(batchSize !== undefined && { batchSize }),
            onProgress: ({ done, total }) => bar.update(done, total),
          });
        } finally {
          bar.stop();
        }
      });
      if (ctx.json) return ctx.printJson(report);
      ctx.print(renderDiscard(report, ctx.now()));
    });
}

/** The human summary of a discard or its dry run. */
export function renderDiscard(report: DiscardReport, now: number): string {
  if (report.dryRun && report.matched === 0)
    return 'no dead letter matches the selection: nothing would be discarded';
  const n = (count: number) => `${count} dead letter${count === 1 ? '' : 's'}`;
  const lines = [
    report.dryRun
      ? `would discard ${n(report.matched)} (dry run: nothing was changed)`
      : `discarded ${n(report.discarded)}: "${report.reason}"`,
  ];
  if (!report.dryRun && report.skipped > 0) {
    lines.push(`skipped ${n(report.skipped)}: replayed, discarded or archived by someone else meanwhile`);
  }
  lines.push(
    `  by queue: ${report.byQueue.map((q) => `${q.queue} ${q.count}`).join(', ')}`,
    `  by group: ${report.byGroup
      .slice(0, 10)
      .map((g) => `${g.groupId} ${g.count}`)
      .join(', ')}${report.byGroup.length > 10 ? `, and ${report.byGroup.length - 10} more` : ''}`,
    `  by tier:  ${report.byTier.map((t) => `${t.tier} ${t.count}`).join(', ')}`,
  );
  if (report.resolvedGroup !== null) {
    lines.push(
      report.dryRun ? `  resolves group ${report.resolvedGroup}` : `  resolved group ${report.resolvedGroup}`,
    );
  }
  if (report.dryRun) {
    lines.push('', 'samples:', renderDeadLetters(report.samples, now));
    if (report.matched > DISCARD_CONFIRM_ABOVE) {
      lines.push('', `more than ${DISCARD_CONFIRM_ABOVE}: the discard itself needs --yes`);
    }
  } else {
    lines.push(
      'tombstones kept: `dlq show <id>` says who discarded it, when and why; `dlq audit --action discard`',
    );
  }
  return lines.join('\n');
}
