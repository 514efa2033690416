import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.ts';
import type { Group, GroupFilter, GroupSort, GroupStatus } from '../../core/group.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { parseGroupStatusOption, parseIntOption, parseTierOption } from '../option-parsers.ts';
import { formatAgo, formatTable, formatTimeAndAgo, truncate } from '../output.ts';

interface GroupsFlags {
  queue?: string;
  status?: string;
  tier?: string;
  sort?: string;
  limit?: string;
}

const SORTS: Record<string, GroupSort> = { count: 'count', 'last-seen': 'lastSeen' };

/** The triage verbs of `dlq group <verb> <id>` and the status each one sets. */
const TRIAGE: readonly { verb: string; status: GroupStatus; description: string }[] = [
  { verb: 'ack', status: 'acknowledged', description: 'acknowledge a group: someone is on it' },
  {
    verb: 'resolve',
    status: 'resolved',
    description: 'mark a group resolved (a new dead letter reopens it as regressed)',
  },
  {
    verb: 'ignore',
    status: 'ignored',
    description: 'ignore a group: it keeps counting but leaves the untriaged list',
  },
];

/** `dlq groups` (list) and `dlq group ack|resolve|ignore|show <id>`. */
export function registerGroupCommands(program: Command, io: CliIo): void {
  program
    .command('groups')
    .description('list groups of dead letters (one bug, one group)')
    .option('--queue <name>', 'only groups with dead letters from this queue')
    .option('--status <status>', 'only this status: new, acknowledged, resolved, ignored or regressed')
    .option('--tier <tier>', 'only this tier: transient, timeout, malformed, resource or permanent')
    .option('--sort <order>', 'count (default) or last-seen')
    .option('--limit <n>', 'most groups shown, 1-1000 (default 100)')
    .action(async (flags: GroupsFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      const params = groupParamsFrom(flags);
      const groups = await ctx.withApi((api) => api.listGroups(params));
      if (ctx.json) return ctx.printJson(groups);
      ctx.print(groups.length === 0 ? 'no groups' : renderGroups(groups, ctx.now()));
    });

  const group = program.command('group').description('triage one group: ack, resolve, ignore or show');
  for (const { verb, status, description } of TRIAGE) {
    group
      .command(verb)
      .description(description)
      .argument('<id>', 'group id (see `dlq groups`)')
      .action(async (id: string, _flags: unknown, command: Command) => {
        const ctx = CliContext.of(command, io);
        const updated = await ctx.withApi((api) => api.setGroupStatus(id, status, { actor: ctx.actor }));
        if (ctx.json) return ctx.printJson(updated);
        ctx.print(`group ${updated.id} is now ${updated.status}`);
      });
  }
  group
    .command('show')
    .description('show one group')
    .argument('<id>', 'group id')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      const found = await ctx.withApi((api) => api.getGroup(id));
      if (ctx.json) return ctx.printJson(found);
      ctx.print(renderGroup(found, ctx.now()));
    });
}

function groupParamsFrom(flags: GroupsFlags): GroupFilter & { sort?: GroupSort; limit?: number } {
  const params: GroupFilter & { sort?: GroupSort; limit?: number } = {};
  if (flags.queue !== undefined) params.queue = flags.queue;
  if (flags.status !== undefined) params.status = parseGroupStatusOption(flags.status);
  if (flags.tier !== undefined) params.tier = parseTierOption(flags.tier);
  if (flags.sort !== undefined) {
    const sort = SORTS[flags.sort];
    if (sort === undefined)
      throw new ValidationError(`unknown --sort "${flags.sort}": use count or last-seen`);
    params.sort = sort;
  }
  if (flags.limit !== undefined) params.limit = parseIntOption(flags.limit, '--limit', { min: 1, max: 1000 });
  return params;
}

/** A table of groups: id, status, tier, counts, last seen, queues and the normalised error. */
export function renderGroups(groups: readonly Group[], now: number): string {
  return formatTable(
    [
      { header: 'GROUP' },
      { header: 'STATUS' },
      { header: 'TIER' },
      { header: 'COUNT', align: 'right' },
      { header: 'IN DLQ', align: 'right' },
      { header: 'LAST SEEN', align: 'right' },
      { header: 'QUEUES' },
      { header: 'ERROR' },
    ],
    groups.map((group) => [
      group.id,
      group.status,
      group.tier,
      String(group.count),
      String(group.deadCount),
      formatAgo(group.lastSeen, now),
      group.queues.join(','),
      truncate(`${group.errorName}: ${group.normalizedMessage}`, 70),
    ]),
  );
}

function renderGroup(group: Group, now: number): string {
  const fields: [string, string][] = [
    ['status', `${group.status} (since ${formatTimeAndAgo(group.statusChangedAt, now)})`],
    ['tier', group.tier],
    ['error', `${group.errorName}: ${group.normalizedMessage}`],
    ['count', `${group.count} ever, ${group.deadCount} in the DLQ now`],
    ['queues', group.queues.join(', ')],
    ['first seen', formatTimeAndAgo(group.firstSeen, now)],
    ['last seen', formatTimeAndAgo(group.lastSeen, now)],
    ['sample', `${group.sampleId} (dlq show ${group.sampleId})`],
    ['fingerprint', group.fingerprint],
  ];
  const width = Math.max(...fields.map(([key]) => key.length));
  return [`group ${group.id}`, ...fields.map(([key, value]) => `  ${key.padEnd(width)}  ${value}`)].join(
    '\n',
  );
}
