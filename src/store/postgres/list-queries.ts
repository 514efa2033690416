import type { DeadLetterCursor, DeadLetterFilter } from '../../core/dead-letter.ts';
import type { GroupFilter, GroupSort } from '../../core/group.ts';
import { quoteIdent } from './connection.ts';
import { DEAD_LETTER_SUMMARY_COLUMNS, GROUP_COLUMNS, queuesOf } from './statements.ts';

/**
 * A list query built for one combination of filters. `key` names the combination (the same
 * key always has the same SQL for a schema), so it can be a named prepared statement.
 */
export interface ListQuery {
  key: string;
  sql: string;
  params: (string | number | string[])[];
}

/** Collects WHERE terms with numbered placeholders. */
export class Terms {
  readonly where: string[] = [];
  readonly params: (string | number | string[])[] = [];
  key: string;

  constructor(key: string) {
    this.key = key;
  }

  /** The next placeholder for `value`. */
  param(value: string | number | string[]): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(keyPart: string, term: string): void {
    this.where.push(term);
    this.key += `:${keyPart}`;
  }

  sql(): string {
    return this.where.length > 0 ? ` WHERE ${this.where.join(' AND ')}` : '';
  }
}

/**
 * The WHERE terms of a dead-letter filter (list, dry-run counts, replay selections), added to
 * `t`. Each equality filter (queue, tier, group) has an index ending in `(died_at, id)`. The
 * first term keeps to the DLQ (replayed rows stay in the table as history) and matches the
 * predicate of those partial indexes.
 */
export function deadLetterFilterTerms(params: DeadLetterFilter, t: Terms = new Terms('dl')): Terms {
  t.where.push('NOT replayed');
  if (params.queue !== undefined) t.add('queue', `queue = ${t.param(params.queue)}`);
  if (params.tier !== undefined) t.add('tier', `tier = ${t.param(params.tier)}`);
  if (params.groupId !== undefined) t.add('group', `group_id = ${t.param(params.groupId)}`);
  if (params.since !== undefined) t.add('since', `died_at >= ${t.param(params.since)}`);
  if (params.until !== undefined) t.add('until', `died_at < ${t.param(params.until)}`);
  if (params.grep !== undefined) {
    // A substring match cannot use these indexes: it filters the rows of whichever index the
    // other filters chose. The columns are COLLATE "C", so lower() folds ASCII letters only,
    // exactly as SQLite does.
    const needle = t.param(params.grep.toLowerCase());
    t.add(
      'grep',
      `(strpos(lower(error_name), ${needle}) > 0 OR strpos(lower(error_message), ${needle}) > 0)`,
    );
  }
  if (params.ids !== undefined) {
    // A primary-key probe per id; the few rows found are then sorted (at most 1000).
    t.add('ids', `id = ANY(${t.param(params.ids)}::text[])`);
  }
  for (const match of params.where ?? []) {
    // `json` has no equality; the field (found by `#>`, array indexes as numeric keys) and the
    // value are compared as jsonb: typed, so "42" and 42 differ. No index: it filters the walk.
    const path = t.param(match.path);
    t.add('where', `(body #> ${path}::text[])::jsonb = ${t.param(JSON.stringify(match.value))}::jsonb`);
  }
  return t;
}

/**
 * The `deadLetterList` query (`keysOnly`: of `deadLetterListKeys`, whose columns the index
 * covers): newest first by `(died_at, id)`, keyset-paged. Each equality
 * filter has an index ending in `(died_at, id)`, and so does the unfiltered order; PostgreSQL
 * reads it backwards, so the rows come out sorted and the `LIMIT` stops the walk early. The
 * cursor is a row comparison, which a btree serves as a range on the same index.
 */
export function deadLetterListQuery(
  schema: string,
  params: DeadLetterFilter & { limit: number; cursor?: DeadLetterCursor | undefined },
  keysOnly = false,
): ListQuery {
  const t = deadLetterFilterTerms(params, new Terms(keysOnly ? 'dlkeys' : 'dl'));
  if (params.cursor !== undefined) {
    const diedAt = t.param(params.cursor.diedAt);
    t.add('cursor', `(died_at, id) < (${diedAt}, ${t.param(params.cursor.id)})`);
  }
  const limit = t.param(params.limit);
  const sql =
    `SELECT ${keysOnly ? 'id, died_at' : DEAD_LETTER_SUMMARY_COLUMNS} FROM ${quoteIdent(schema)}.dead_letters${t.sql()} ` +
    `ORDER BY died_at DESC, id DESC LIMIT ${limit}`;
  return { key: t.key, sql, params: t.params };
}

/**
 * The `groupList` query, with each group's queues gathered in the same statement. It walks one
 * `groups` index backwards in sort order (by status or tier first when filtered) and checks the
 * other filters per row; the queue filter is a primary-key probe into `group_queues` per group.
 * Groups are few next to dead letters (one per bug), so this beats sorting a queue's groups.
 */
export function groupListQuery(
  schema: string,
  params: GroupFilter & { sort: GroupSort; limit: number; offset?: number | undefined },
): ListQuery {
  const s = quoteIdent(schema);
  const t = new Terms(`groups:${params.sort}`);
  if (params.status !== undefined) t.add('status', `g.status = ${t.param(params.status)}`);
  if (params.tier !== undefined) t.add('tier', `g.tier = ${t.param(params.tier)}`);
  if (params.queue !== undefined) {
    t.add(
      'queue',
      `EXISTS (SELECT 1 FROM ${s}.group_queues q WHERE q.group_id = g.id AND q.queue = ${t.param(params.queue)})`,
    );
  }
  const limit = t.param(params.limit);
  const offset = t.param(params.offset ?? 0);
  const order = params.sort === 'count' ? 'g.count DESC, g.id DESC' : 'g.last_seen DESC, g.id DESC';
  const sql =
    `SELECT ${GROUP_COLUMNS}, ${queuesOf(s, 'g')} AS queues ` +
    `FROM ${s}.groups g${t.sql()} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`;
  return { key: t.key, sql, params: t.params };
}
