import type { Command } from 'commander';
import { type DeadLetterFilter, parseWhere } from '../core/dead-letter.ts';
import { ValidationError } from '../core/errors.ts';
import { parseTierOption, parseTimeOption } from './option-parsers.ts';

/** The dead-letter selector flags shared by `list`, `replay` and `discard`. */
export interface SelectorFlags {
  ids?: string;
  queue?: string;
  tier?: string;
  group?: string;
  since?: string;
  until?: string;
  grep?: string;
  where?: string[];
}

/** Adds `--ids --queue --tier --group --since --until --grep --where` to a command. */
export function addSelectorOptions(command: Command): Command {
  return command
    .option('--ids <a,b,...>', 'only these dead letters (comma-separated ids, at most 1000)')
    .option('--queue <name>', 'only this queue')
    .option('--tier <tier>', 'only this tier: transient, timeout, malformed, resource or permanent')
    .option('--group <id>', 'only this group')
    .option('--since <time>', 'died at or after: an ISO time or a duration ago (2h)')
    .option('--until <time>', 'died before: an ISO time or a duration ago')
    .option('--grep <text>', 'error name or message contains this text (case-insensitive)')
    .option(
      '--where <body.path=value>',
      'a field of the JSON body equals a value, e.g. body.customer.country=DE (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    );
}

/** The filter the selector flags describe; throws ValidationError (exit 2) on a bad value. */
export function selectorFrom(flags: SelectorFlags, now: number): DeadLetterFilter {
  const filter: DeadLetterFilter = {};
  if (flags.ids !== undefined) {
    const ids = flags.ids
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean);
    if (ids.length === 0 || ids.length > 1000) {
      throw new ValidationError('invalid --ids: give 1 to 1000 comma-separated dead-letter ids');
    }
    filter.ids = [...new Set(ids)];
  }
  if (flags.queue !== undefined) filter.queue = flags.queue;
  if (flags.tier !== undefined) filter.tier = parseTierOption(flags.tier);
  if (flags.group !== undefined) filter.groupId = flags.group;
  if (flags.since !== undefined) filter.since = parseTimeOption(flags.since, '--since', now);
  if (flags.until !== undefined) filter.until = parseTimeOption(flags.until, '--until', now);
  if (flags.grep !== undefined) filter.grep = flags.grep;
  if (flags.where !== undefined && flags.where.length > 0) filter.where = flags.where.map(parseWhere);
  return filter;
}

/** Whether a filter selects anything narrower than "every dead letter". */
export function isNarrowed(filter: DeadLetterFilter): boolean {
  return Object.values(filter).some((value) => value !== undefined);
}
