import type { QueryResult, QueryResultRow } from 'pg';

/** Runs one statement: on the pool (its own transaction) or inside the caller's transaction. */
export interface Queryable {
  /**
   * `name` makes the statement a prepared one on each connection (hot or repeated paths); its
   * text must then never change for that name.
   */
  query<R extends QueryResultRow>(
    name: string | undefined,
    text: string,
    values?: unknown[],
  ): Promise<QueryResult<R>>;
}

/**
 * The name for a statement that must NOT be prepared: batch statements that join `messages` (or
 * `dead_letters`) with an `unnest` of the batch. A prepared statement switches to a generic plan
 * after five runs, planned without the arrays: the batch is then guessed at 10 rows and the
 * table side from statistics (a handful of leased rows when ANALYZE ran on an idle queue), and
 * the planner picks a nested loop that re-reads the whole `unnest` for every row, quadratic in
 * the batch size (seen: 200 ms for 500 acks instead of 15 ms). Unprepared, each run is planned
 * with its actual arrays: a hash join, linear.
 */
export const UNPREPARED = undefined;

/** The store's access to its database, as the feature modules (triage, replay, retention) use it. */
export interface PgDb extends Queryable {
  /** Runs `fn` in one transaction on one connection; rolls back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

/**
 * `array` (a `json` column or expression holding an array this store wrote compactly) with one
 * more element, `element` (JSON text). `json` has no append operator and a round trip through
 * `jsonb` would refuse "\u0000" in a string, so the array's text is spliced.
 */
export function appendJson(array: string, element: string): string {
  return `(left(${array}::text, -1) || CASE WHEN ${array}::text = '[]' THEN '' ELSE ',' END || ${element} || ']')`;
}
