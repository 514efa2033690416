import type { DeadLetterCursor, DeadLetterFilter } from '../../core/dead-letter.ts';
import { BRIEF_MESSAGE_MAX } from '../../core/dead-letter-brief.ts';
import type { GroupFilter, GroupSort } from '../../core/group.ts';
import { deadLetterWhere, groupListQuery, type ListQuery } from './list-queries.ts';

/**
 * The error message cut to the brief's length (in characters, as `cutMessage` counts them). The
 * engine rewrites the few that are lists of validation issues (see `briefMessage`).
 */
const MESSAGE =
  `CASE WHEN length(error_message) > ${BRIEF_MESSAGE_MAX} ` +
  `THEN substr(error_message, 1, ${BRIEF_MESSAGE_MAX - 1}) || '…' ELSE error_message END`;

/** A `dead_letters` row as the JSON text of a `DeadLetterBrief` (its keys, in its order). */
const BRIEF_JSON =
  "json_object('id', id, 'queue', queue, 'tier', tier, 'groupId', group_id, " +
  `'error', json_object('name', error_name, 'message', ${MESSAGE}), ` +
  "'diedAt', died_at, 'attemptCount', attempt_count, 'replayCount', replay_count)";

/**
 * The `deadLetterBriefList` query: the rows, order, index walk and keyset paging of the
 * `deadLetterList` query, each row as `id, died_at, json`.
 */
export function deadLetterBriefListQuery(
  params: DeadLetterFilter & { limit: number; cursor?: DeadLetterCursor | undefined },
): ListQuery {
  const { where, values, key: filterKey } = deadLetterWhere(params);
  let key = `brief${filterKey}`;
  if (params.cursor !== undefined) {
    where.push('(died_at, id) < (?, ?)');
    values.push(params.cursor.diedAt, params.cursor.id);
    key += ':cursor';
  }
  values.push(params.limit);
  const sql =
    `SELECT id, died_at, ${BRIEF_JSON} AS json FROM dead_letters` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ' ORDER BY died_at DESC, id DESC LIMIT ?';
  return { key, sql, params: values };
}

/** A `groups` row (aliased `g`) as the JSON text of a `Group`, its queues in name order. */
const GROUP_JSON =
  "json_object('id', g.id, 'fingerprint', g.fingerprint, 'errorName', g.error_name, " +
  "'normalizedMessage', g.normalized_message, 'tier', g.tier, 'status', g.status, " +
  "'firstSeen', g.first_seen, 'lastSeen', g.last_seen, 'count', g.count, 'deadCount', g.dead_count, " +
  "'queues', (SELECT json_group_array(queue ORDER BY queue) FROM group_queues WHERE group_id = g.id), " +
  "'sampleId', g.sample_id, 'statusChangedAt', g.status_changed_at)";

/**
 * The `groupListJson` query: the page of the `groupList` query (same walk, filters, order and
 * offset), each group as JSON text with its queues gathered in the same statement.
 */
export function groupListJsonQuery(
  params: GroupFilter & { sort: GroupSort; limit: number; offset?: number | undefined },
): ListQuery {
  const list = groupListQuery(params);
  const order = params.sort === 'count' ? 'g.count DESC, g.id DESC' : 'g.last_seen DESC, g.id DESC';
  return {
    key: `json:${list.key}`,
    sql: `SELECT ${GROUP_JSON} AS json FROM (${list.sql}) AS g ORDER BY ${order}`,
    params: list.params,
  };
}
