import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.ts';
import type { SerialisedFailureMatch } from '../../core/failure-match.ts';
import type {
  Group,
  GroupFilter,
  GroupMergeResult,
  GroupSort,
  GroupStatus,
  MergedGroup,
} from '../../core/group.ts';
import type { GroupRule } from '../../core/group-rule.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { collect, parseGroupStatusOption, parseIntOption, parseTierOption } from '../option-parsers.ts';
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

  const group = program
    .command('group')
    .description('triage one group: ack, resolve, ignore, show or merge; manage grouping rules');
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
      const [found, merged] = await ctx.withApi((api) =>
        Promise.all([api.getGroup(id), api.listMergedGroups(id)]),
      );
      if (ctx.json) return ctx.printJson(found);
      ctx.print(renderGroup(found, ctx.now(), merged));
    });

  group
    .command('merge')
    .description(
      'merge groups into a target: their dead letters move to it, they leave the group list, and later failures of theirs land in it',
    )
    .argument('<target>', 'the group that stays')
    .argument('<sources...>', 'the groups merged into it')
    .option('--dry-run', 'only count what would move')
    .action(async (target: string, sources: string[], flags: { dryRun?: boolean }, command: Command) => {
      const ctx = CliContext.of(command, io);
      const result = await ctx.withApi((api) =>
        api.mergeGroups(target, sources, { actor: ctx.actor, dryRun: flags.dryRun === true }),
      );
      if (ctx.json) return ctx.printJson(result);
      ctx.print(renderMerge(result));
    });

  registerGroupRuleCommands(group, io);
}

interface RuleFlags {
  name?: string;
  queue?: string;
  errorName?: string;
  errorNameMatches?: string;
  messageContains?: string;
  messageMatches?: string;
  code?: string[];
  status?: string;
  fingerprint?: string;
}

/** `dlq group rule add|list|remove`: fingerprint rules kept in the store. */
function registerGroupRuleCommands(group: Command, io: CliIo): void {
  const rule = group
    .command('rule')
    .description('grouping rules kept in the store: failures that match a rule share its group');
  rule
    .command('add')
    .description(
      'add a rule (tried after the rules given in code, oldest first; workers pick it up within seconds)',
    )
    .requiredOption('--name <name>', 'the rule name')
    .requiredOption('--fingerprint <key>', 'the group key: every matching failure gets this fingerprint')
    .option('--queue <name>', 'only failures of this queue (default: every queue)')
    .option('--error-name <name>', 'the error name, exactly (e.g. StripeCardError)')
    .option('--error-name-matches <regex>', 'the error name matches a regex (/re/flags or re)')
    .option('--message-contains <text>', 'the message contains this text (case-sensitive)')
    .option('--message-matches <regex>', 'the message matches a regex (/re/flags or re)')
    .option('--code <code>', 'the error code (repeat for any of several)', collect)
    .option('--status <status>', 'the HTTP status: 404, a list 401,403 or a range 500-599')
    .action(async (flags: RuleFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      const input = {
        name: flags.name as string,
        queue: flags.queue ?? null,
        match: matchFromFlags(flags),
        fingerprint: flags.fingerprint as string,
      };
      const created = await ctx.withApi((api) => api.addGroupRule(input, { actor: ctx.actor }));
      if (ctx.json) return ctx.printJson(created);
      ctx.print(
        `rule ${created.name} (${created.id}) added: ${describeMatch(created.match)} -> ${created.fingerprint}`,
      );
    });
  rule
    .command('list')
    .description('list the stored rules in the order they are tried')
    .action(async (_flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      const rules = await ctx.withApi((api) => api.listGroupRules());
      if (ctx.json) return ctx.printJson(rules);
      ctx.print(rules.length === 0 ? 'no group rules' : renderRules(rules));
    });
  rule
    .command('remove')
    .description('remove a rule (groups it made stay)')
    .argument('<rule>', 'rule id or name')
    .action(async (ref: string, _flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      const removed = await ctx.withApi((api) => api.removeGroupRule(ref, { actor: ctx.actor }));
      if (ctx.json) return ctx.printJson(removed);
      ctx.print(`rule ${removed.name} (${removed.id}) removed`);
    });
}

/** `/re/flags` or a bare `re` as a serialised regex. */
function regexFlag(value: string): { regex: string; flags?: string } {
  const slashed = /^\/(.+)\/([a-z]*)$/s.exec(value);
  if (slashed) {
    return slashed[2] ? { regex: slashed[1] as string, flags: slashed[2] } : { regex: slashed[1] as string };
  }
  return { regex: value };
}

/** The status option: `404`, `401,403` or `500-599`. */
function statusFlag(value: string): number | number[] | { min: number; max: number } {
  const range = /^(\d{3})-(\d{3})$/.exec(value.trim());
  if (range) return { min: Number(range[1]), max: Number(range[2]) };
  if (!/^\d{3}(,\d{3})*$/.test(value.trim())) {
    throw new ValidationError(`invalid --status "${value}": use 404, 401,403 or 500-599`);
  }
  const list = value.trim().split(',').map(Number);
  return list.length === 1 ? (list[0] as number) : list;
}

function matchFromFlags(flags: RuleFlags): SerialisedFailureMatch {
  if (flags.errorName !== undefined && flags.errorNameMatches !== undefined) {
    throw new ValidationError('give --error-name or --error-name-matches, not both');
  }
  if (flags.messageContains !== undefined && flags.messageMatches !== undefined) {
    throw new ValidationError('give --message-contains or --message-matches, not both');
  }
  const match: Record<string, unknown> = {};
  if (flags.errorName !== undefined) match.name = flags.errorName;
  if (flags.errorNameMatches !== undefined) match.name = regexFlag(flags.errorNameMatches);
  if (flags.messageContains !== undefined) match.message = flags.messageContains;
  if (flags.messageMatches !== undefined) match.message = regexFlag(flags.messageMatches);
  if (flags.code !== undefined) match.code = flags.code.length === 1 ? flags.code[0] : flags.code;
  if (flags.status !== undefined) match.status = statusFlag(flags.status);
  if (Object.keys(match).length === 0) {
    throw new ValidationError(
      'a rule needs a condition: --error-name, --error-name-matches, --message-contains, --message-matches, --code or --status',
    );
  }
  return match as SerialisedFailureMatch;
}

function describePattern(
  pattern: string | { regex: string; flags?: string | undefined },
  exact: boolean,
): string {
  if (typeof pattern === 'string')
    return exact ? `= ${JSON.stringify(pattern)}` : `contains ${JSON.stringify(pattern)}`;
  return `~ /${pattern.regex}/${pattern.flags ?? ''}`;
}

/** `name = "X", message ~ /re/i, code ETIMEDOUT|ECONNRESET, status 500-599`. */
export function describeMatch(match: SerialisedFailureMatch): string {
  const parts: string[] = [];
  if (match.name !== undefined) parts.push(`name ${describePattern(match.name, true)}`);
  if (match.message !== undefined) parts.push(`message ${describePattern(match.message, false)}`);
  if (match.code !== undefined)
    parts.push(`code ${typeof match.code === 'string' ? match.code : match.code.join('|')}`);
  if (match.status !== undefined) {
    const s = match.status;
    parts.push(`status ${typeof s === 'number' ? s : Array.isArray(s) ? s.join('|') : `${s.min}-${s.max}`}`);
  }
  return parts.join(', ');
}

function renderRules(rules: readonly GroupRule[]): string {
  return formatTable(
    [
      { header: 'NAME' },
      { header: 'QUEUE' },
      { header: 'MATCH' },
      { header: 'FINGERPRINT' },
      { header: 'ID' },
    ],
    rules.map((r) => [r.name, r.queue ?? '(all)', truncate(describeMatch(r.match), 60), r.fingerprint, r.id]),
  );
}

function renderMerge(result: GroupMergeResult): string {
  const verb = result.dryRun ? 'would merge' : 'merged';
  const lines = [
    `${verb} ${result.merged.length} group${result.merged.length === 1 ? '' : 's'} into ${result.target.id}: ` +
      `${result.moved} dead letter${result.moved === 1 ? '' : 's'} ${result.dryRun ? 'would move' : 'moved'}` +
      (result.repointed > 0
        ? `, ${result.repointed} earlier merge${result.repointed === 1 ? '' : 's'} follow`
        : ''),
    ...result.merged.map(
      (m) => `  ${m.id}  ${m.count} ever  ${truncate(`${m.errorName}: ${m.normalizedMessage}`, 70)}`,
    ),
    `${result.target.id} ${result.dryRun ? 'would count' : 'now counts'} ${result.target.count} ever, ${result.target.deadCount} in the DLQ`,
  ];
  if (result.dryRun) lines.push('dry run: nothing changed');
  return lines.join('\n');
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

function renderGroup(group: Group, now: number, merged: readonly MergedGroup[] = []): string {
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
    ...merged.map((m): [string, string] => [
      'merged in',
      `${m.id} (${m.count} ever, ${formatTimeAndAgo(m.mergedAt, now)} by ${m.mergedBy}): ${truncate(`${m.errorName}: ${m.normalizedMessage}`, 60)}`,
    ]),
  ];
  const width = Math.max(...fields.map(([key]) => key.length));
  return [`group ${group.id}`, ...fields.map(([key, value]) => `  ${key.padEnd(width)}  ${value}`)].join(
    '\n',
  );
}
