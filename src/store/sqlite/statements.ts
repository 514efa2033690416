import type Database from 'better-sqlite3';
import {
  attemptsOf,
  CLAIM_COLUMNS,
  type ClaimRow,
  DEAD_LETTER_SUMMARY_COLUMNS,
  type DeadLetterRow,
  type GroupRow,
  MESSAGE_COLUMNS,
  type MessageRow,
  type QueueRow,
} from './rows.ts';

/**
 * The claim: lease up to `limit` visible waiting messages of a queue, oldest visible first
 * (rowid breaks ties: insertion order, and the claim index already ends with it).
 *
 * SQLite has no `SKIP LOCKED`: there is one writer at a time, so the store runs this single
 * statement inside an immediate transaction and concurrent claimers (other connections or
 * processes) simply queue on the write lock for the few microseconds it takes. The lease
 * token is drawn per row by SQLite's randomness (`randomblob`): it fences stale acks, it is
 * not a secret.
 */
export const CLAIM_SQL =
  "UPDATE messages SET state = 'leased', receives = receives + 1, lease_token = lower(hex(randomblob(16))), " +
  'leased_at = @now, lease_expires_at = @leaseExpiresAt, lease_worker_id = @workerId, ' +
  'lease_worker_version = @workerVersion, lease_host = @host ' +
  'WHERE rowid IN (SELECT rowid FROM messages ' +
  "WHERE queue = @queue AND state = 'waiting' AND visible_at <= @now ORDER BY visible_at, rowid LIMIT @limit) " +
  `RETURNING ${CLAIM_COLUMNS}`;

/** The lease-expiry sweep's query: served by the `messages_lease_expiry` partial index. */
export const EXPIRED_LEASES_SQL =
  'SELECT id, lease_token, queue, receives, leased_at, lease_expires_at, lease_worker_id, ' +
  'lease_worker_version, lease_host FROM messages ' +
  "WHERE state = 'leased' AND lease_expires_at <= ? ORDER BY lease_expires_at LIMIT ?";

/** A row of {@link EXPIRED_LEASES_SQL}. */
export interface ExpiredLeaseRow {
  id: string;
  lease_token: string;
  queue: string;
  receives: number;
  leased_at: number;
  lease_expires_at: number;
  lease_worker_id: string;
  lease_worker_version: string;
  lease_host: string;
}

/** Visible waiting messages of a queue, counted on the claim index. */
export const COUNT_WAITING_SQL =
  "SELECT COUNT(*) AS n FROM messages WHERE queue = ? AND state = 'waiting' AND visible_at <= ?";

/** Delayed messages of a queue (visible later), counted on the claim index. */
export const COUNT_DELAYED_SQL =
  "SELECT COUNT(*) AS n FROM messages WHERE queue = ? AND state = 'waiting' AND visible_at > ?";

/** Leased messages per queue: a walk of the small lease partial index, never of the table. */
export const COUNT_LEASED_SQL =
  "SELECT queue, COUNT(*) AS n FROM messages INDEXED BY messages_lease_expiry WHERE state = 'leased' GROUP BY queue";

/** The group a merged group's id now resolves to: one primary-key probe, on every death. */
export const GROUP_ALIAS_TARGET_SQL = 'SELECT target_id FROM group_aliases WHERE source_id = ?';

/** The oldest dead letter of a queue: one probe of the (queue, died_at) index. */
export const OLDEST_DEAD_SQL = 'SELECT MIN(died_at) AS t FROM dead_letters WHERE queue = ? AND replayed = 0';

/** The live message holding an idempotency key: its WHERE implies the partial unique index's. */
export const FIND_LIVE_BY_KEY_SQL =
  "SELECT id FROM messages WHERE queue = ? AND idempotency_key = ? AND state IN ('waiting', 'leased')";

/** Whether a queue has waiting (visible or delayed) or leased messages. */
export const HAS_PENDING_SQL =
  "SELECT EXISTS (SELECT 1 FROM messages WHERE queue = ? AND state = 'waiting') " +
  "OR EXISTS (SELECT 1 FROM messages WHERE state = 'leased' AND queue = ?) AS pending";

/** Deletes a message's failed attempts (migration 0011): one range of their index. */
export const ATTEMPTS_DELETE_SQL = 'DELETE FROM message_attempts WHERE message_id = ?';

/** Deletes a message's failed attempts and returns them, for its death (RETURNING has no order: `seq` gives it). */
export const ATTEMPTS_TAKE_SQL = 'DELETE FROM message_attempts WHERE message_id = ? RETURNING seq, attempt';

/** A message's failed attempts, oldest first, as the text of a JSON array (none: null). */
export const MESSAGE_ATTEMPTS_SQL = `SELECT ${attemptsOf('?')}`;

const LEASED = "state = 'leased' AND lease_token = @leaseToken AND id = @id";

const MESSAGE_INSERT =
  'INSERT INTO messages (id, queue, state, body, headers, idempotency_key, enqueued_at, visible_at, replay_of, replay_count)';
const MESSAGE_INSERT_ROW = "(?, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?)";

/**
 * Rows per multi-row insert of a batch send: one statement per 50 messages instead of one per
 * message (450 parameters, far under SQLite's limit); A/B on the pipeline bench, about 5 % more
 * messages per second end to end.
 */
export const INSERT_CHUNK = 50;

interface LeaseParams {
  id: string;
  leaseToken: string;
}

/** What the delete of a dying message returns. */
export type DyingMessageRow = Pick<
  MessageRow,
  | 'id'
  | 'queue'
  | 'body'
  | 'headers'
  | 'idempotency_key'
  | 'enqueued_at'
  | 'receives'
  | 'replay_of'
  | 'replay_count'
>;

/** Parameters of the dead-letter insert (JSON already serialised). */
export interface DeadLetterInsertRow {
  id: string;
  queue: string;
  body: string;
  headers: string;
  idempotencyKey: string | null;
  enqueuedAt: number;
  attempts: string;
  attemptCount: number;
  errorName: string;
  errorMessage: string;
  errorStack: string | null;
  errorCode: string | null;
  errorStatus: number | null;
  tier: string;
  fingerprint: string;
  groupId: string;
  diedAt: number;
  replayCount: number;
  previousId: string | null;
}

/** Parameters of the group upsert run on every death. */
export interface GroupUpsertRow {
  groupId: string;
  fingerprint: string;
  errorName: string;
  normalizedMessage: string;
  tier: string;
  sampleId: string;
  now: number;
  /** Deaths counted into the group by this upsert (a transaction's deaths of one group go together). */
  count: number;
}

/** Every fixed statement of the store, prepared once per connection (they are hot paths). */
export function prepareStatements(db: Database.Database) {
  return {
    queueInsert: db.prepare<QueueRow>(
      'INSERT INTO queues (name, max_receives, visibility_timeout_ms, backoff, dead_letter, retention_days, replay_limit, ' +
        'done_retention_ms, created_at, updated_at) ' +
        'VALUES (@name, @max_receives, @visibility_timeout_ms, @backoff, @dead_letter, @retention_days, @replay_limit, ' +
        '@done_retention_ms, @created_at, @updated_at) ' +
        'ON CONFLICT (name) DO NOTHING',
    ),
    queueUpdate: db.prepare<QueueRow>(
      'UPDATE queues SET max_receives = @max_receives, visibility_timeout_ms = @visibility_timeout_ms, ' +
        'backoff = @backoff, dead_letter = @dead_letter, retention_days = @retention_days, replay_limit = @replay_limit, ' +
        'done_retention_ms = @done_retention_ms, updated_at = @updated_at ' +
        'WHERE name = @name',
    ),
    queueGet: db.prepare<[string], QueueRow>('SELECT * FROM queues WHERE name = ?'),
    queueList: db.prepare<[], QueueRow>('SELECT * FROM queues ORDER BY name'),
    countersInsert: db.prepare<[string]>(
      'INSERT INTO queue_counters (queue) VALUES (?) ON CONFLICT (queue) DO NOTHING',
    ),
    countersAddDone: db.prepare<[number, string]>(
      'UPDATE queue_counters SET done = done + ? WHERE queue = ?',
    ),
    countersAddDead: db.prepare<[number, string]>(
      'UPDATE queue_counters SET dead = dead + ? WHERE queue = ?',
    ),
    countersAddDropped: db.prepare<[number, string]>(
      'UPDATE queue_counters SET dropped = dropped + ? WHERE queue = ?',
    ),
    countersAll: db.prepare<
      [],
      {
        queue: string;
        done: number;
        dead: number;
        dropped: number;
        replayed: number;
        discarded: number;
        archived: number;
      }
    >('SELECT queue, done, dead, dropped, replayed, discarded, archived FROM queue_counters'),
    countWaiting: db.prepare<[string, number], { n: number }>(COUNT_WAITING_SQL),
    countDelayed: db.prepare<[string, number], { n: number }>(COUNT_DELAYED_SQL),
    countLeasedByQueue: db.prepare<[], { queue: string; n: number }>(COUNT_LEASED_SQL),
    oldestDead: db.prepare<[string], { t: number | null }>(OLDEST_DEAD_SQL),

    // Hot paths bind positional parameters: cheaper than looking up names in an object per row.
    messageInsert: db.prepare<
      [
        id: string,
        queue: string,
        body: string,
        headers: string,
        idempotencyKey: string | null,
        now: number,
        visibleAt: number,
        replayOf: string | null,
        replayCount: number,
      ]
    >(`${MESSAGE_INSERT} VALUES ${MESSAGE_INSERT_ROW}`),
    /** {@link INSERT_CHUNK} messages in one statement (the same nine values per row, in order). */
    messageInsertChunk: db.prepare<(string | number | null)[]>(
      `${MESSAGE_INSERT} VALUES ${Array(INSERT_CHUNK).fill(MESSAGE_INSERT_ROW).join(', ')}`,
    ),
    messageFindLiveByKey: db.prepare<[string, string], { id: string }>(FIND_LIVE_BY_KEY_SQL),
    messageClaim: db
      .prepare<
        {
          queue: string;
          now: number;
          leaseExpiresAt: number;
          limit: number;
          workerId: string;
          workerVersion: string;
          host: string;
        },
        ClaimRow
      >(CLAIM_SQL)
      .raw(true),
    /** Plucks the queue of a completed message (none: the lease was lost). */
    messageComplete: db
      .prepare<[now: number, leaseToken: string, id: string], string>(
        "UPDATE messages SET state = 'done', done_at = ?, lease_token = NULL, lease_expires_at = NULL " +
          "WHERE state = 'leased' AND lease_token = ? AND id = ? RETURNING queue",
      )
      .pluck(true),
    /**
     * Completes by deleting, for a queue that keeps no done messages (done retention 0): as
     * `messageComplete`, minus the row. Deleting costs less than keeping (no done-index entry,
     * no rewrite of the row, no sweep later) and keeps the table to live messages. Returns the
     * receives too: a message received more than once may have failed attempts to forget.
     */
    messageCompleteDelete: db
      .prepare<[leaseToken: string, id: string], [queue: string, receives: number]>(
        "DELETE FROM messages WHERE state = 'leased' AND lease_token = ? AND id = ? RETURNING queue, receives",
      )
      .raw(true),
    /** Each queue, and whether its done messages are deleted at once (done retention 0). */
    queuesDeletingDone: db
      .prepare<[], [name: string, deletes: 0 | 1]>('SELECT name, done_retention_ms = 0 FROM queues')
      .raw(true),
    /** The queue of a message leased under this token (none: the lease was lost). */
    messageLeasedQueue: db
      .prepare<[leaseToken: string, id: string], string>(
        "SELECT queue FROM messages WHERE state = 'leased' AND lease_token = ? AND id = ?",
      )
      .pluck(true),
    // A retry: the message waits again; its attempt goes to message_attempts (attemptInsert).
    messageRetry: db.prepare<[visibleAt: number, leaseToken: string, id: string]>(
      "UPDATE messages SET state = 'waiting', visible_at = ?, lease_token = NULL, lease_expires_at = NULL " +
        "WHERE state = 'leased' AND lease_token = ? AND id = ?",
    ),
    /** A message's failed attempts, oldest first, as the text of a JSON array (none: null). */
    messageAttempts: db.prepare<[messageId: string], string | null>(MESSAGE_ATTEMPTS_SQL).pluck(true),
    /** Appends a failed attempt (its JSON) to a message's attempts (migration 0011). */
    attemptInsert: db.prepare<[messageId: string, attempt: string]>(
      'INSERT INTO message_attempts (message_id, attempt) VALUES (?, ?)',
    ),
    /** {@link INSERT_CHUNK} attempts in one statement (message id and JSON per row, in order). */
    attemptInsertChunk: db.prepare<string[]>(
      `INSERT INTO message_attempts (message_id, attempt) VALUES ${Array(INSERT_CHUNK).fill('(?, ?)').join(', ')}`,
    ),
    /** Forgets a message's attempts, once it is deleted (dead, or done and not kept). */
    attemptsDelete: db.prepare<[messageId: string]>(ATTEMPTS_DELETE_SQL),
    /** Deletes a leased message as it dies (or is dropped): what its dead letter keeps of it. */
    messageDelete: db.prepare<LeaseParams, DyingMessageRow>(
      `DELETE FROM messages WHERE ${LEASED} RETURNING id, queue, body, headers, idempotency_key, enqueued_at, ` +
        'receives, replay_of, replay_count',
    ),
    /**
     * Deletes a message's failed attempts and returns them (`seq` orders them: RETURNING has no
     * order): reading and deleting in one pass, for a death.
     */
    attemptsTake: db
      .prepare<[messageId: string], [seq: number, attempt: string]>(ATTEMPTS_TAKE_SQL)
      .raw(true),
    messageRelease: db.prepare<LeaseParams & { now: number; uncount: number }>(
      "UPDATE messages SET state = 'waiting', visible_at = @now, receives = MAX(receives - @uncount, 0), " +
        `lease_token = NULL, lease_expires_at = NULL WHERE ${LEASED}`,
    ),
    messageExtendLease: db.prepare<LeaseParams & { leaseExpiresAt: number }>(
      `UPDATE messages SET lease_expires_at = @leaseExpiresAt WHERE ${LEASED}`,
    ),
    messageExpiredLeases: db.prepare<[number, number], ExpiredLeaseRow>(EXPIRED_LEASES_SQL),
    messageGet: db.prepare<[string], MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`),
    messageHasPending: db.prepare<[string, string], { pending: number }>(HAS_PENDING_SQL),

    deadLetterInsert: db.prepare<DeadLetterInsertRow>(
      'INSERT INTO dead_letters (id, queue, body, headers, idempotency_key, enqueued_at, attempts, attempt_count, ' +
        'error_name, error_message, error_stack, error_code, error_status, tier, fingerprint, group_id, died_at, ' +
        'replay_count, previous_id) VALUES (@id, @queue, @body, @headers, @idempotencyKey, @enqueuedAt, @attempts, ' +
        '@attemptCount, @errorName, @errorMessage, @errorStack, @errorCode, @errorStatus, @tier, @fingerprint, ' +
        '@groupId, @diedAt, @replayCount, @previousId)',
    ),
    deadLetterGet: db.prepare<[string], DeadLetterRow>(
      `SELECT ${DEAD_LETTER_SUMMARY_COLUMNS}, body, headers, attempts, original_body, edits FROM dead_letters WHERE id = ? AND replayed = 0`,
    ),

    // A death in a resolved group reopens it as regressed. In an upsert's SET, column names
    // read the row as it was before the update, so both CASEs see the old status.
    groupUpsert: db.prepare<GroupUpsertRow>(
      'INSERT INTO groups (id, fingerprint, error_name, normalized_message, tier, status, first_seen, last_seen, ' +
        "count, dead_count, sample_id, status_changed_at) VALUES (@groupId, @fingerprint, @errorName, @normalizedMessage, @tier, 'new', " +
        '@now, @now, @count, @count, @sampleId, @now) ON CONFLICT (id) DO UPDATE SET count = count + excluded.count, ' +
        'dead_count = dead_count + excluded.dead_count, last_seen = MAX(last_seen, excluded.last_seen), ' +
        "status = CASE status WHEN 'resolved' THEN 'regressed' ELSE status END, " +
        "status_changed_at = CASE status WHEN 'resolved' THEN excluded.status_changed_at ELSE status_changed_at END",
    ),
    groupQueueUpsert: db.prepare<[groupId: string, queue: string, count: number]>(
      'INSERT INTO group_queues (group_id, queue, count) VALUES (?, ?, ?) ' +
        'ON CONFLICT (group_id, queue) DO UPDATE SET count = count + excluded.count',
    ),
    // A merged group's id resolves to the group it was merged into (one primary-key probe per death).
    groupAliasTarget: db.prepare<[string], { target_id: string }>(GROUP_ALIAS_TARGET_SQL),
    groupGet: db.prepare<[string], GroupRow>('SELECT * FROM groups WHERE id = ?'),
    groupQueues: db.prepare<[string], { queue: string }>(
      'SELECT queue FROM group_queues WHERE group_id = ? ORDER BY queue',
    ),
    groupStatusSet: db.prepare<{ id: string; status: string; now: number }, GroupRow>(
      'UPDATE groups SET status_changed_at = CASE WHEN status = @status THEN status_changed_at ELSE @now END, ' +
        'status = @status WHERE id = @id RETURNING *',
    ),
  };
}

/** The prepared statements of one store connection. */
export type Statements = ReturnType<typeof prepareStatements>;
