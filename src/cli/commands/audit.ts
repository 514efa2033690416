import type { Command } from 'commander';
import { AUDIT_ACTIONS, type AuditAction, type AuditEntry } from '../../core/audit.ts';
import { ValidationError } from '../../core/errors.ts';
import type { AuditListParams } from '../../engine/audit-listing.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { parseIntOption, parseTimeOption } from '../option-parsers.ts';
import { formatTable, formatTime, truncate } from '../output.ts';

interface AuditFlags {
  action?: string;
  actor?: string;
  target?: string;
  since?: string;
  until?: string;
  limit?: string;
  cursor?: string;
}

/** `dlq audit`: the append-only log of every change, newest first, filtered and paged. */
export function registerAuditCommand(program: Command, io: CliIo): void {
  program
    .command('audit')
    .description(
      'list the audit log: every change, who made it, when, on what (newest first); ' +
        '--actor <name> lists only the changes of that actor',
    )
    .option('--action <action>', `only this action: ${AUDIT_ACTIONS.join(', ')}`)
    .option('--target <id>', 'only changes of this target (a queue, group, dead letter or replay job id)')
    .option('--since <time>', 'at or after: an ISO time or a duration ago (7d)')
    .option('--until <time>', 'before: an ISO time or a duration ago')
    .option('--limit <n>', 'page size, 1-1000 (default 50)')
    .option('--cursor <cursor>', 'continue after a previous page (its nextCursor)')
    .action(async (_flags: AuditFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      // `--actor` is the global option naming who makes changes; this command changes nothing,
      // so an explicit `--actor` (not $DEADLETTER_ACTOR or the OS user) filters by actor.
      const params = auditParamsFrom(command.optsWithGlobals<AuditFlags>(), ctx.now());
      const page = await ctx.withApi((api) => api.listAudit(params));
      if (ctx.json) return ctx.printJson(page);
      if (page.items.length === 0)
        return ctx.print(params.cursor ? 'no more audit entries' : 'no audit entries');
      ctx.print(renderAudit(page.items));
      if (page.nextCursor) ctx.print(`\nmore: dlq audit --cursor ${page.nextCursor} (with the same filters)`);
    });
}

function auditParamsFrom(flags: AuditFlags, now: number): AuditListParams {
  const params: AuditListParams = {};
  if (flags.action !== undefined) {
    if (!(AUDIT_ACTIONS as readonly string[]).includes(flags.action)) {
      throw new ValidationError(`unknown --action "${flags.action}": use one of ${AUDIT_ACTIONS.join(', ')}`);
    }
    params.action = flags.action as AuditAction;
  }
  if (flags.actor !== undefined) params.actor = flags.actor;
  if (flags.target !== undefined) params.targetId = flags.target;
  if (flags.since !== undefined) params.since = parseTimeOption(flags.since, '--since', now);
  if (flags.until !== undefined) params.until = parseTimeOption(flags.until, '--until', now);
  if (flags.limit !== undefined) params.limit = parseIntOption(flags.limit, '--limit', { min: 1, max: 1000 });
  if (flags.cursor !== undefined) params.cursor = flags.cursor;
  return params;
}

/** A table of audit entries: time, actor, action, target and a one-line summary of the details. */
export function renderAudit(entries: readonly AuditEntry[]): string {
  return formatTable(
    [
      { header: 'AT' },
      { header: 'ACTOR' },
      { header: 'ACTION' },
      { header: 'TARGET' },
      { header: 'DETAILS' },
    ],
    entries.map((entry) => [
      formatTime(entry.at),
      truncate(entry.actor, 24),
      entry.action,
      truncate(`${entry.targetType} ${entry.targetId}`, 48),
      truncate(summarize(entry), 80),
    ]),
  );
}

/** The details that say the most, in a few words, per action; the full details are in `--json`. */
function summarize(entry: AuditEntry): string {
  const d = entry.details;
  switch (entry.action) {
    case 'discard':
      return `${d.count} discarded: "${d.reason}"`;
    case 'queue.create': {
      const settings = (d.settings ?? {}) as Record<string, unknown>;
      return Object.entries(settings)
        .map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
        .join(' ');
    }
    case 'group.status':
      return `${d.from} → ${d.to}`;
    case 'queue.update':
    case 'queue.docs': {
      const to = (d.to ?? {}) as Record<string, unknown>;
      return Object.keys(to).length === 0 ? 'no change' : `changed ${Object.keys(to).join(', ')}`;
    }
    case 'dead_letter.edit':
      return `edit ${d.edit}: ${d.changed} change(s)${Array.isArray(d.paths) && d.paths.length ? ` at ${d.paths.join(', ')}` : ''}`;
    default: {
      const { ids: _ids, ...rest } = d;
      return JSON.stringify(rest);
    }
  }
}
