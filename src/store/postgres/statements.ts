import { quoteIdent } from './connection.ts';

/**
 * The columns of `messages` row `m` that every message read returns (`seq` orders claims),
 * with its attempts gathered from `message_attempts` (migration 0007).
 */
function messageColumns(s: string): string {
  return (
    'm.seq, m.id, m.queue, m.state, m.body, m.headers, m.idempotency_key, m.enqueued_at, m.visible_at, ' +
    `m.receives, ${attemptsOf(s, 'm.id')} AS attempts, m.lease_token, m.lease_expires_at, m.done_at, ` +
    'm.replay_of, m.replay_count'
  );
}

/** The attempts of message `id` (an SQL expression), oldest first, as a JSON array. */
function attemptsOf(s: string, id: string): string {
  return (
    `(SELECT COALESCE(json_agg(a.attempt ORDER BY a.seq), '[]'::json) FROM ${s}.message_attempts a ` +
    `WHERE a.message_id = ${id})`
  );
}

/** The columns of `dead_letters` a list returns (no body, headers or attempts). */
export const DEAD_LETTER_SUMMARY_COLUMNS =
  'id, queue, idempotency_key, enqueued_at, attempt_count, error_name, error_message, error_stack, ' +
  'error_code, error_status, tier, fingerprint, group_id, died_at, replay_count, previous_id';

/**
 * The columns of `queues` the store reads. Every statement names its columns: a prepared
 * `SELECT *` fails with "cached plan must not change result type" once a migration adds a
 * column, which would break every running process during a rolling upgrade.
 */
export const QUEUE_COLUMNS =
  'name, max_receives, visibility_timeout_ms, backoff, dead_letter, retention_days, replay_limit, created_at, updated_at';

/** The columns of `groups` the store reads, for alias `g`. */
export const GROUP_COLUMNS = [
  'id',
  'fingerprint',
  'error_name',
  'normalized_message',
  'tier',
  'status',
  'first_seen',
  'last_seen',
  'count',
  'dead_count',
  'sample_id',
  'status_changed_at',
]
  .map((column) => `g.${column}`)
  .join(', ');

/**
 * A leased row named by `i` (an `unnest` of ids and lease tokens) still holds that lease.
 *
 * Only the join's own keys, on purpose: each item is then one primary-key probe (a nested loop
 * over `i`), or a hash join when the table is tiny. Two things it avoids, both seen under load
 * on a server with autovacuum off (the bench machine) or lagging behind:
 * - `m.state = 'leased'` let the planner read the partial lease index, whose entries for rows
 *   long since acked stay until a vacuum: each ack then walked every lease of the run so far;
 * - `m.id = ANY($1)` beside the join let it scan the ids first and re-read the whole `unnest`
 *   for each row found (a join filter quadratic in the batch: 14,000 comparisons for 120 acks).
 * The state is implied: only the claim sets a lease token, and every change that ends a lease
 * clears it (`done`, `waiting`) or deletes the row, so a row holding token T is leased.
 */
const LEASE_MATCHES = 'm.id = i.id AND m.lease_token = i.lease_token';

/**
 * Adds the rows of CTE `source` (one per message) to the sharded counter `column`, in the
 * random `slot` given as a parameter. Rows are upserted in queue order, so two transactions
 * touching the same counter rows lock them in the same order and cannot deadlock.
 */
function countInto(s: string, column: 'done' | 'dead' | 'dropped', source: string, slot: string): string {
  return (
    `INSERT INTO ${s}.queue_counters AS c (queue, slot, ${column}) ` +
    `SELECT queue, ${slot}, count(*) FROM ${source} GROUP BY queue ORDER BY queue ` +
    `ON CONFLICT (queue, slot) DO UPDATE SET ${column} = c.${column} + excluded.${column}`
  );
}

/**
 * CTE `recorded`: appends the attempt of each row of CTE `retried` (id, attempt as JSON text)
 * to its message's attempts: one small row, where rewriting the array in the message's row
 * made PostgreSQL log every attempt so far again (migration 0007).
 */
function recordAttempts(s: string): string {
  return `recorded AS (INSERT INTO ${s}.message_attempts (message_id, attempt) SELECT id, attempt::json FROM retried)`;
}

/** CTE `forgotten`: deletes the attempts of the messages whose ids `source` (a CTE or subquery) holds. */
function forgetAttempts(s: string, source: string): string {
  return `forgotten AS (DELETE FROM ${s}.message_attempts a USING ${source} f WHERE a.message_id = f.id)`;
}

/**
 * What the DELETE of a dying message `m` (joined with its failure item `i`) returns for
 * {@link deathWrites}: the message with its final attempt appended and the failure.
 */
function deathReturning(s: string): string {
  return (
    'm.id, m.queue, m.body, m.headers, m.idempotency_key, m.enqueued_at, ' +
    // The recorded attempts and the final one, each kept as the text it was written as.
    `(SELECT '[' || string_agg(x.attempt, ',' ORDER BY x.seq) || ']' FROM (SELECT a.seq, a.attempt::text AS attempt ` +
    `FROM ${s}.message_attempts a WHERE a.message_id = m.id UNION ALL SELECT NULL, i.attempt) x) AS attempts, ` +
    `(SELECT count(*) + 1 FROM ${s}.message_attempts a WHERE a.message_id = m.id)::int AS attempt_count, ` +
    'm.replay_count, m.replay_of, i.lease_token AS token, ' +
    'i.ord, i.tier, i.error_name, i.error_message, i.error_stack, i.error_code, i.error_status, i.fingerprint, ' +
    // A merged group's id resolves to the group it was merged into: one primary-key probe per death.
    `COALESCE((SELECT a.target_id FROM ${s}.group_aliases a WHERE a.source_id = i.group_id), i.group_id) AS group_id, ` +
    'i.normalized_message'
  );
}

/**
 * The writes of a death, from CTE `gone` (the deleted messages with their failure): the dead
 * letters, their groups (one upsert per group: ON CONFLICT cannot touch a row twice in one
 * statement) and the groups' queues. `now` is the placeholder of the time of death. Shared by
 * messageDead and messageFailMixed; the caller adds the queue counters.
 */
function deathWrites(s: string, now: string): string {
  return (
    `letters AS (INSERT INTO ${s}.dead_letters (id, queue, body, headers, idempotency_key, enqueued_at, attempts, ` +
    'attempt_count, error_name, error_message, error_stack, error_code, error_status, tier, fingerprint, group_id, ' +
    'died_at, replay_count, previous_id) SELECT id, queue, body, headers, idempotency_key, enqueued_at, ' +
    'attempts::json, attempt_count, error_name, error_message, error_stack, error_code, error_status, tier, ' +
    `fingerprint, group_id, ${now}, replay_count, replay_of FROM gone), ` +
    // A death in a resolved group reopens it as regressed; g is the row before the update.
    `grouped AS (INSERT INTO ${s}.groups AS g (id, fingerprint, error_name, normalized_message, tier, status, ` +
    'first_seen, last_seen, count, dead_count, sample_id, status_changed_at) ' +
    `SELECT DISTINCT ON (group_id) group_id, fingerprint, error_name, normalized_message, tier, 'new', ${now}, ${now}, ` +
    `count(*) OVER (PARTITION BY group_id), count(*) OVER (PARTITION BY group_id), id, ${now} ` +
    'FROM gone ORDER BY group_id, ord ON CONFLICT (id) DO UPDATE SET count = g.count + excluded.count, ' +
    'dead_count = g.dead_count + excluded.dead_count, last_seen = GREATEST(g.last_seen, excluded.last_seen), ' +
    "status = CASE g.status WHEN 'resolved' THEN 'regressed' ELSE g.status END, " +
    "status_changed_at = CASE g.status WHEN 'resolved' THEN excluded.status_changed_at ELSE g.status_changed_at END), " +
    `queued AS (INSERT INTO ${s}.group_queues AS gq (group_id, queue, count) SELECT group_id, queue, count(*) ` +
    'FROM gone GROUP BY group_id, queue ORDER BY group_id, queue ' +
    'ON CONFLICT (group_id, queue) DO UPDATE SET count = gq.count + excluded.count)'
  );
}

/** The queues of group row `alias`, in name order, as a text array. */
export function queuesOf(s: string, alias: string): string {
  return `ARRAY(SELECT q.queue FROM ${s}.group_queues q WHERE q.group_id = ${alias}.id ORDER BY q.queue)`;
}

/**
 * Every fixed statement of the PostgreSQL store, schema-qualified for `schema`.
 *
 * Why qualified names and not `search_path`: a `search_path` set per connection (the pool's
 * `options: -c search_path=...` or a `SET` on connect) is lost behind a transaction-mode
 * connection pooler such as PgBouncer, and a user's own setting could shadow a table; a
 * qualified name means the same table on any connection. The names are built once per store.
 *
 * Batches are passed as parallel arrays and expanded with `unnest`, so a batch of any size is
 * one statement and one round trip. `pg_notify` runs inside the same statement as the change
 * it announces (and so is delivered only if it commits): the `woken` CTEs are joined into the
 * final SELECT because PostgreSQL skips a plain SELECT CTE that nothing reads.
 */
export function postgresStatements(schema: string, channel: string) {
  const s = quoteIdent(schema);
  const ch = `'${channel}'`;
  return {
    // One statement, so every count of every queue comes from the same snapshot. Waiting and
    // delayed are counted on the claim index, leased on the lease index, the oldest dead letter
    // is one probe of dead_letters_queue, and done/dead/dropped sum the queue's counter slots.
    queueStats:
      'SELECT q.name AS queue, ' +
      `(SELECT count(*) FROM ${s}.messages m WHERE m.queue = q.name AND m.state = 'waiting' AND m.visible_at <= $1) AS waiting, ` +
      `(SELECT count(*) FROM ${s}.messages m WHERE m.queue = q.name AND m.state = 'waiting' AND m.visible_at > $1) AS delayed, ` +
      `(SELECT count(*) FROM ${s}.messages m WHERE m.state = 'leased' AND m.queue = q.name) AS leased, ` +
      'c.done, c.dead, c.dropped, c.replayed, c.discarded, c.archived, ' +
      `(SELECT min(d.died_at) FROM ${s}.dead_letters d WHERE d.queue = q.name AND NOT d.replayed) AS oldest_dead_at ` +
      `FROM ${s}.queues q CROSS JOIN LATERAL (SELECT COALESCE(sum(done), 0)::bigint AS done, ` +
      'COALESCE(sum(dead), 0)::bigint AS dead, COALESCE(sum(dropped), 0)::bigint AS dropped, ' +
      'COALESCE(sum(replayed), 0)::bigint AS replayed, COALESCE(sum(discarded), 0)::bigint AS discarded, ' +
      'COALESCE(sum(archived), 0)::bigint AS archived ' +
      `FROM ${s}.queue_counters WHERE queue = q.name) c ORDER BY q.name`,

    // Keyed messages that a live message of the queue already holds are skipped by ON CONFLICT
    // (also a key repeated inside the batch: the first one wins); the store then looks up the
    // holder's id. Nothing is inserted for an unknown queue, which `queue_found` reports.
    // Rows are numbered (`seq`, the claim's tie-break) in the order sent, then inserted in key
    // order: two batches sharing keys then wait for each other's keys in the same order and
    // cannot deadlock. `numbered` is materialised (nextval is volatile), so the numbers stay.
    // $1 queue, $2..$8 arrays, $9 now.
    messageInsert:
      'WITH input AS (SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], ' +
      '$7::text[], $8::int[]) WITH ORDINALITY AS i(id, body, headers, idempotency_key, visible_at, replay_of, ' +
      `replay_count, ord) WHERE EXISTS (SELECT 1 FROM ${s}.queues WHERE name = $1)), ` +
      `numbered AS (SELECT o.*, nextval('${s}.messages_seq_seq') AS seq FROM (SELECT * FROM input ORDER BY ord) o), ` +
      `inserted AS (INSERT INTO ${s}.messages (id, seq, queue, state, body, headers, idempotency_key, enqueued_at, ` +
      "visible_at, replay_of, replay_count) OVERRIDING SYSTEM VALUE SELECT id, seq, $1, 'waiting', body::json, " +
      'headers::json, idempotency_key, $9, visible_at, replay_of, replay_count FROM numbered ' +
      'ORDER BY idempotency_key COLLATE "C" NULLS LAST, ord ' +
      "ON CONFLICT (queue, idempotency_key) WHERE state IN ('waiting', 'leased') AND idempotency_key IS NOT NULL " +
      'DO NOTHING RETURNING id, visible_at), ' +
      `woken AS (SELECT count(pg_notify(${ch}, $1)) AS n FROM (SELECT 1 FROM inserted WHERE visible_at <= $9 LIMIT 1) v) ` +
      `SELECT EXISTS (SELECT 1 FROM ${s}.queues WHERE name = $1) AS queue_found, ` +
      'ARRAY(SELECT id FROM inserted) AS ids FROM woken',
    messageFindLiveByKeys:
      `SELECT idempotency_key, id FROM ${s}.messages WHERE queue = $1 AND idempotency_key = ANY($2::text[]) ` +
      "AND state IN ('waiting', 'leased')",

    // The claim: lock up to $4 visible waiting messages of the queue, oldest visible first, from
    // the partial claim index; rows other claimers hold are skipped, not waited for. The lease
    // token fences stale acks (it is not a secret). $1 queue, $2 now, $3 lease expiry, $4 limit.
    messageClaim:
      'UPDATE ' +
      `${s}.messages m SET state = 'leased', receives = m.receives + 1, lease_token = gen_random_uuid()::text, ` +
      'leased_at = $2, lease_expires_at = $3, lease_worker_id = $5, lease_worker_version = $6, lease_host = $7 ' +
      `FROM (SELECT id FROM ${s}.messages WHERE queue = $1 AND state = 'waiting' AND visible_at <= $2 ` +
      'ORDER BY visible_at, seq LIMIT $4 FOR UPDATE SKIP LOCKED) c WHERE m.id = c.id ' +
      `RETURNING ${messageColumns(s)}`,

    // $1 ids, $2 tokens, $3 now, $4 counter slot. A message of a queue with done retention 0
    // is deleted (with its attempts) instead of kept as done: cheaper, and no sweep later.
    messageComplete:
      'WITH i AS (SELECT * FROM unnest($1::text[], $2::text[]) AS i(id, lease_token)), ' +
      `kept AS (UPDATE ${s}.messages m SET state = 'done', done_at = $3, lease_token = NULL, lease_expires_at = NULL ` +
      `FROM i, ${s}.queues q WHERE ${LEASE_MATCHES} AND q.name = m.queue AND q.done_retention_ms > 0 ` +
      'RETURNING m.id, i.lease_token AS token, m.queue), ' +
      `gone AS (DELETE FROM ${s}.messages m USING i, ${s}.queues q WHERE ${LEASE_MATCHES} ` +
      'AND q.name = m.queue AND q.done_retention_ms = 0 RETURNING m.id, i.lease_token AS token, m.queue), ' +
      `${forgetAttempts(s, 'gone')}, ` +
      'done AS (SELECT * FROM kept UNION ALL SELECT * FROM gone), ' +
      `counted AS (${countInto(s, 'done', 'done', '$4')}) ` +
      'SELECT id, token FROM done',
    // $1 ids, $2 tokens, $3 visible-at times, $4 attempts (JSON), $5 now.
    messageRetry:
      'WITH i AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) ' +
      'AS i(id, lease_token, visible_at, attempt)), ' +
      `retried AS (UPDATE ${s}.messages m SET state = 'waiting', visible_at = i.visible_at, lease_token = NULL, ` +
      `lease_expires_at = NULL FROM i WHERE ${LEASE_MATCHES} ` +
      'RETURNING m.id, i.lease_token AS token, m.queue, m.visible_at, i.attempt), ' +
      `${recordAttempts(s)}, ` +
      `woken AS (SELECT count(pg_notify(${ch}, queue)) AS n FROM ` +
      '(SELECT DISTINCT queue FROM retried WHERE visible_at <= $5) q) ' +
      'SELECT r.id, r.token FROM retried r, woken',
    // $1 ids, $2 tokens, $3 counter slot.
    messageDrop:
      'WITH i AS (SELECT * FROM unnest($1::text[], $2::text[]) AS i(id, lease_token)), ' +
      `gone AS (DELETE FROM ${s}.messages m USING i WHERE ${LEASE_MATCHES} ` +
      'RETURNING m.id, i.lease_token AS token, m.queue), ' +
      `${forgetAttempts(s, 'gone')}, ` +
      `counted AS (${countInto(s, 'dropped', 'gone', '$3')}) ` +
      'SELECT id, token FROM gone',
    // Moves messages to dead_letters with their final attempt, and counts them into their
    // groups (one upsert per group: ON CONFLICT cannot touch a row twice in one statement),
    // the groups' queues and the queue counters. $14 now, $15 counter slot.
    messageDead:
      'WITH i AS (SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], ' +
      '$7::text[], $8::text[], $9::text[], $10::int[], $11::text[], $12::text[], $13::text[]) AS i(id, lease_token, ' +
      'ord, attempt, tier, error_name, error_message, error_stack, error_code, error_status, fingerprint, group_id, ' +
      'normalized_message)), ' +
      `gone AS (DELETE FROM ${s}.messages m USING i WHERE ${LEASE_MATCHES} RETURNING ${deathReturning(s)}), ` +
      `${deathWrites(s, '$14')}, ` +
      `${forgetAttempts(s, 'gone')}, ` +
      `counted AS (${countInto(s, 'dead', 'gone', '$15')}) ` +
      'SELECT id, token FROM gone',
    // A failure batch holding more than one kind of outcome, as one statement: what
    // messageRetry, messageDrop and messageDead do, each on its own items (`kind`), in one round
    // trip and one commit instead of four round trips (BEGIN, two or three statements, COMMIT).
    // `i` is read by the three changes, so PostgreSQL materialises it once. $1 ids, $2 tokens,
    // $3 kinds, $4 ord, $5 visible-at times, $6 attempts (JSON), $7..$15 as messageDead's
    // $5..$13, $16 now, $17 counter slot.
    messageFailMixed:
      'WITH i AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::text[], ' +
      '$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::int[], $13::text[], $14::text[], ' +
      '$15::text[]) AS i(id, lease_token, kind, ord, visible_at, attempt, tier, error_name, error_message, ' +
      'error_stack, error_code, error_status, fingerprint, group_id, normalized_message)), ' +
      `retried AS (UPDATE ${s}.messages m SET state = 'waiting', visible_at = i.visible_at, lease_token = NULL, ` +
      `lease_expires_at = NULL FROM i WHERE i.kind = 'retry' AND ${LEASE_MATCHES} ` +
      'RETURNING m.id, i.lease_token AS token, m.queue, m.visible_at, i.attempt), ' +
      `${recordAttempts(s)}, ` +
      `dropped AS (DELETE FROM ${s}.messages m USING i WHERE i.kind = 'drop' AND ${LEASE_MATCHES} ` +
      'RETURNING m.id, i.lease_token AS token, m.queue), ' +
      `gone AS (DELETE FROM ${s}.messages m USING i WHERE i.kind = 'dead' AND ${LEASE_MATCHES} ` +
      `RETURNING ${deathReturning(s)}), ` +
      `${deathWrites(s, '$16')}, ` +
      `${forgetAttempts(s, '(SELECT id FROM gone UNION ALL SELECT id FROM dropped)')}, ` +
      // One upsert for both counters: two would touch the same counter row twice in one statement.
      `counted AS (INSERT INTO ${s}.queue_counters AS c (queue, slot, dead, dropped) ` +
      'SELECT queue, $17, sum(dead), sum(dropped) FROM (SELECT queue, 1 AS dead, 0 AS dropped FROM gone ' +
      'UNION ALL SELECT queue, 0, 1 FROM dropped) x GROUP BY queue ORDER BY queue ' +
      'ON CONFLICT (queue, slot) DO UPDATE SET dead = c.dead + excluded.dead, dropped = c.dropped + excluded.dropped), ' +
      `woken AS (SELECT count(pg_notify(${ch}, queue)) AS n FROM ` +
      '(SELECT DISTINCT queue FROM retried WHERE visible_at <= $16) q) ' +
      'SELECT r.id, r.token FROM (SELECT id, token FROM retried UNION ALL SELECT id, token FROM dropped ' +
      'UNION ALL SELECT id, token FROM gone) r, woken',
    // $1 ids, $2 tokens, $3 uncount (0 or 1), $4 now.
    messageRelease:
      'WITH i AS (SELECT * FROM unnest($1::text[], $2::text[], $3::int[]) AS i(id, lease_token, uncount)), ' +
      `released AS (UPDATE ${s}.messages m SET state = 'waiting', visible_at = $4, ` +
      'receives = GREATEST(m.receives - i.uncount, 0), lease_token = NULL, lease_expires_at = NULL ' +
      `FROM i WHERE ${LEASE_MATCHES} RETURNING m.queue), ` +
      `woken AS (SELECT count(pg_notify(${ch}, queue)) AS n FROM (SELECT DISTINCT queue FROM released) q) ` +
      'SELECT (SELECT count(*) FROM released) AS released FROM woken',
    messageExtendLease: `UPDATE ${s}.messages SET lease_expires_at = $3 WHERE id = $1 AND lease_token = $2 AND state = 'leased'`,
    messageExpiredLeases:
      'SELECT id, lease_token, queue, receives, leased_at, lease_expires_at, lease_worker_id, ' +
      `lease_worker_version, lease_host FROM ${s}.messages ` +
      "WHERE state = 'leased' AND lease_expires_at <= $1 ORDER BY lease_expires_at LIMIT $2",
    messageGet: `SELECT ${messageColumns(s)} FROM ${s}.messages m WHERE m.id = $1`,
    messageHasPending:
      `SELECT EXISTS (SELECT 1 FROM ${s}.messages WHERE queue = $1 AND state = 'waiting') ` +
      `OR EXISTS (SELECT 1 FROM ${s}.messages WHERE state = 'leased' AND queue = $1) AS pending`,

    deadLetterGet:
      `SELECT ${DEAD_LETTER_SUMMARY_COLUMNS}, body, headers, attempts, original_body, edits ` +
      `FROM ${s}.dead_letters WHERE id = $1 AND NOT replayed`,

    // A group comes back with its queues (in name order) gathered by the same statement.
    groupGet: `SELECT ${GROUP_COLUMNS}, ${queuesOf(s, 'g')} AS queues FROM ${s}.groups g WHERE g.id = $1`,
    groupStatusForUpdate: `SELECT status FROM ${s}.groups WHERE id = $1 FOR UPDATE`,
    groupStatusSet:
      `UPDATE ${s}.groups g SET status_changed_at = CASE WHEN g.status = $2 THEN g.status_changed_at ELSE $3 END, ` +
      `status = $2 WHERE g.id = $1 RETURNING ${GROUP_COLUMNS}, ${queuesOf(s, 'g')} AS queues`,

    // Inserts, or takes over a lease that is ours or has expired; another holder's live lease
    // makes the upsert's WHERE false and changes nothing. Concurrent candidates serialise on
    // the row (or on the unique index for the first insert), so exactly one wins.
    leaderElect:
      `INSERT INTO ${s}.leaders AS l (name, holder, expires_at) VALUES ($1, $2, $3) ` +
      'ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at ' +
      'WHERE l.holder = excluded.holder OR l.expires_at <= $4',
    leaderResign: `DELETE FROM ${s}.leaders WHERE name = $1 AND holder = $2`,
  };
}

/** The SQL of one PostgreSQL store. */
export type PostgresStatements = ReturnType<typeof postgresStatements>;
