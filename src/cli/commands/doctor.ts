import type { Command } from 'commander';
import type { DoctorReport } from '../../core/doctor.ts';
import { CliContext, type CliIo } from '../cli-context.ts';

/**
 * `dlq doctor`: checks the deployment against the common DLQ failure patterns and says what to
 * fix. Exits 1 when it finds a problem; warnings alone exit 0. The report is printed in both
 * cases (`--json`: the {@link DoctorReport}).
 */
export function registerDoctorCommand(program: Command, io: CliIo): void {
  program
    .command('doctor')
    .description(
      'check the deployment for DLQ failure patterns (no DLQ, no owner or runbook, short retention, ' +
        'untriaged groups, a DLQ used as a dump, messages that keep coming back); exit 1 on problems',
    )
    .action(async (_flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      const report = await ctx.withApi((api) => api.doctor());
      if (ctx.json) ctx.printJson(report);
      else ctx.print(renderDoctor(report));
      // A plain Error: exit 1 ("failed"), with `dlq: doctor found N problems` on stderr.
      if (report.problems > 0) {
        throw new Error(
          `doctor found ${report.problems} problem${report.problems === 1 ? '' : 's'}: fix them and run it again`,
        );
      }
    });
}

/** The human report: one block per finding, problems first, then the notes and a verdict. */
export function renderDoctor(report: DoctorReport): string {
  const lines: string[] = [];
  for (const finding of report.findings) {
    lines.push(
      `${finding.severity === 'problem' ? 'PROBLEM' : 'warning'}  ${finding.queue}: ${finding.message}`,
      `         fix: ${finding.fix}`,
    );
    if (finding.ids && finding.ids.length > 0) lines.push(`         ids: ${finding.ids.join(', ')}`);
  }
  if (report.findings.length > 0) lines.push('');
  for (const note of report.notes) lines.push(`note: ${note}`);
  const verdict =
    report.problems > 0
      ? `${report.problems} problem${report.problems === 1 ? '' : 's'}, ${report.warnings} warning${report.warnings === 1 ? '' : 's'} in ${report.queues} queue${report.queues === 1 ? '' : 's'}`
      : report.warnings > 0
        ? `no problems, ${report.warnings} warning${report.warnings === 1 ? '' : 's'} in ${report.queues} queue${report.queues === 1 ? '' : 's'}`
        : `all ${report.queues} queue${report.queues === 1 ? '' : 's'} look healthy`;
  lines.push(verdict);
  return lines.join('\n');
}
