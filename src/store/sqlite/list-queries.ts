import type { DeadLetterCursor, DeadLetterFilter } from '../../core/dead-letter.ts';
import type { GroupFilter, GroupSort } from '../../core/group.ts';
import { DEAD_LETTER_SUMMARY_COLUMNS } from './rows.ts';

/**
 * A list query built for one combination of filters. `key` names the combination (the same
 * key always has the same SQL), so the store prepares each combination once.
 */
export interface ListQuery {
  key: string;
  sql: string;
  params: (string | number)[];
}

/**
 * The `deadLetterList` query (`keysOnly`: of `deadLetterListKeys`, whose columns the index
 * covers): newest first by `(died_at, id)`, keyset-paged. Each equality
 * filter (queue, tier, group) has an index ending in `(died_at, id)`, and so does the
 * unfiltered order, so the rows come out of an index already sorted and the `LIMIT` stops
 * the walk early. `since`/`until` are ranges on the same `died_at` column of that index.
 */
export function deadLetterListQuery(
  params: DeadLetterFilter & { limit: number; cursor?: DeadLetterCursor | undefined },
  keysOnly = false,
): ListQuery {
  const { where, values, key: filterKey } = deadLetterWhere(params);
  let key = `${keysOnly ? 'dlkeys' : 'dl'}${filterKey}`;
  if (params.cursor !== undefined) {
    // "Strictly after this row in newest-first order"; a row value compares (died_at, id)
    // lexicographically and is served by the same index range.
    where.push('(died_at, id) < (?, ?)');
    values.push(params.cursor.diedAt, params.cursor.id);
    key += ':cursor';
  }
  values.push(params.limit);
  const sql =
    `SELECT ${keysOnly ? 'id, died_at' : DEAD_LETTER_SUMMARY_COLUMNS} FROM dead_letters` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ' ORDER BY died_at DESC, id DESC LIMIT ?';
  return { key, sql, params: values };
}

/**
 * The WHERE conditions of a dead-letter filter (on `dead_letters` columns), their values, and
 * a key naming the combination (`:queue:tier...`), shared by the list and the counts. The first
 * condition keeps to the DLQ (replayed rows stay in the table as history) and lets SQLite use
 * the partial list indexes.
 */
export function deadLetterWhere(params: DeadLetterFilter): {
  where: string[];
  values: (string | number)[];
  key: string;
} {
  const where: string[] = ['replayed = 0'];
  const values: (string | number)[] = [];
  let key = '';
  if (params.queue !== undefined) {
    where.push('queue = ?');
    values.push(params.queue);
    key += ':queue';
  }
  if (params.tier !== undefined) {
    where.push('tier = ?');
    values.push(params.tier);
    key += ':tier';
  }
  if (params.groupId !== undefined) {
    where.push('group_id = ?');
    values.push(params.groupId);
    key += ':group';
  }
  if (params.since !== undefined) {
    where.push('died_at >= ?');
    values.push(params.since);
    key += ':since';
  }
  if (params.until !== undefined) {
    where.push('died_at < ?');
    values.push(params.until);
    key += ':until';
  }
  if (params.grep !== undefined) {
    // A substring match cannot use an index: it filters the rows of whichever index the
    // other filters chose (or the plain died_at order), which stays bounded by LIMIT only
    // when matches are common. SQLite's lower() folds ASCII letters only.
    where.push('(instr(lower(error_name), ?) > 0 OR instr(lower(error_message), ?) > 0)');
    const needle = params.grep.toLowerCase();
    values.push(needle, needle);
    key += ':grep';
  }
  if (params.ids !== undefined) {
    // A primary-key probe per id; the few rows found are then sorted (at most 1000).
    where.push('id IN (SELECT value FROM json_each(?))');
    values.push(JSON.stringify(params.ids));
    key += ':ids';
  }
  for (const match of params.where ?? []) {
    // `->` returns the field as JSON text, compared with the value's canonical JSON: typed,
    // like PostgreSQL's jsonb equality. It cannot use an index: it filters the chosen walk.
    where.push('body -> ? = ?');
    values.push(jsonPath(match.path), JSON.stringify(match.value));
    key += ':where';
  }
  return { where, values, key };
}

/**
 * The `groupList` query. It walks one `groups` index in sort order (by status or tier first
 * when filtered) and checks the other filters per row; the queue filter is a primary-key probe
 * into `group_queues` per group. Groups are few next to dead letters (one per bug), so this
 * beats sorting the groups of a queue.
 */
export function groupListQuery(
  params: GroupFilter & { sort: GroupSort; limit: number; offset?: number | undefined },
): ListQuery {
  const where: string[] = [];
  const values: (string | number)[] = [];
  let key = `groups:${params.sort}`;
  if (params.status !== undefined) {
    where.push('status = ?');
    values.push(params.status);
    key += ':status';
  }
  if (params.tier !== undefined) {
    where.push('tier = ?');
    values.push(params.tier);
    key += ':tier';
  }
  if (params.queue !== undefined) {
    where.push('EXISTS (SELECT 1 FROM group_queues WHERE group_queues.group_id = groups.id AND queue = ?)');
    values.push(params.queue);
    key += ':queue';
  }
  values.push(params.limit, params.offset ?? 0);
  const order = params.sort === 'count' ? 'count DESC, id DESC' : 'last_seen DESC, id DESC';
  const sql =
    'SELECT * FROM groups' +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ${order} LIMIT ? OFFSET ?`;
  return { key, sql, params: values };
}

/** A SQLite JSON path for body keys: `['customer', 'tags', '0']` → `$."customer"."tags"[0]`. */
export function jsonPath(path: readonly string[]): string {
  return `$${path.map((key) => (/^\d+$/.test(key) ? `[${key}]` : `."${key}"`)).join('')}`;
}
