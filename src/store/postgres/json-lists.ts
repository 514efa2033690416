import type { DeadLetterCursor, DeadLetterFilter } from '../../core/dead-letter.ts';
import { BRIEF_MESSAGE_MAX } from '../../core/dead-letter-brief.ts';
import type { GroupFilter, GroupSort } from '../../core/group.ts';
import { quoteIdent } from './connection.ts';
import { deadLetterFilterTerms, groupListQuery, type ListQuery, Terms } from './list-queries.ts';

/**
 * The error message cut to the brief's length (in characters, as `cutMessage` counts them). The
 * engine rewrites the few that are lists of validation issues (see `briefMessage`).
 */
const MESSAGE =
  `CASE WHEN length(error_message) > ${BRIEF_MESSAGE_MAX} ` +
  `THEN left(error_message, ${BRIEF_MESSAGE_MAX - 1}) || '…' ELSE error_message END`;

/**
 * A `dead_letters` row as the JSON text of a `DeadLetterBrief` (its keys, in its order). `json`,
 * not `jsonb`, keeps the keys in order; its text has a space around each colon, which is JSON.
 */
const BRIEF_JSON =
  "json_build_object('id', id, 'queue', queue, 'tier', tier, 'groupId', group_id, " +
  `'error', json_build_object('name', error_name, 'message', ${MESSAGE}), ` +
  "'diedAt', died_at, 'attemptCount', attempt_count, 'replayCount', replay_count)::text";

/**
 * The `deadLetterBriefList` query: the rows, order, index walk and keyset paging of the
 * `deadLetterList` query, each row as `id, died_at, json`.
 */
export function deadLetterBriefListQuery(
  schema: string,
  params: DeadLetterFilter & { limit: number; cursor?: DeadLetterCursor | undefined },
): ListQuery {
  const t = deadLetterFilterTerms(params, new Terms('brief'));
  if (params.cursor !== undefined) {
    const diedAt = t.param(params.cursor.diedAt);
    t.add('cursor', `(died_at, id) < (${diedAt}, ${t.param(params.cursor.id)})`);
  }
  const limit = t.param(params.limit);
  const sql =
    `SELECT id, died_at, ${BRIEF_JSON} AS json FROM ${quoteIdent(schema)}.dead_letters${t.sql()} ` +
    `ORDER BY died_at DESC, id DESC LIMIT ${limit}`;
  return { key: t.key, sql, params: t.params };
}

/**
 * The `groupListJson` query: the page of the `groupList` query (same walk, filters, order and
 * offset, queues gathered in the same statement), each group as JSON text.
 */
export function groupListJsonQuery(
  schema: string,
  params: GroupFilter & { sort: GroupSort; limit: number; offset?: number | undefined },
): ListQuery {
  const list = groupListQuery(schema, params);
  const order = params.sort === 'count' ? 'g.count DESC, g.id DESC' : 'g.last_seen DESC, g.id DESC';
  const json =
    "json_build_object('id', g.id, 'fingerprint', g.fingerprint, 'errorName', g.error_name, " +
    "'normalizedMessage', g.normalized_message, 'tier', g.tier, 'status', g.status, " +
    "'firstSeen', g.first_seen, 'lastSeen', g.last_seen, 'count', g.count, 'deadCount', g.dead_count, " +
    "'queues', g.queues, 'sampleId', g.sample_id, 'statusChangedAt', g.status_changed_at)::text";
  return {
    key: `json:${list.key}`,
    sql: `SELECT ${json} AS json FROM (${list.sql}) AS g ORDER BY ${order}`,
    params: list.params,
  };
}
