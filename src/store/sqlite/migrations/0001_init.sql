-- Deadletter SQLite schema, version 1.
-- Times are epoch milliseconds (INTEGER). JSON values are stored as TEXT.
-- No foreign keys: every multi-table change happens in one store transaction, and
-- enforcing them would cost an index probe per write on the hot paths (claim, ack).

CREATE TABLE queues (
  name TEXT NOT NULL PRIMARY KEY,
  max_receives INTEGER NOT NULL,
  visibility_timeout_ms INTEGER NOT NULL,
  backoff TEXT NOT NULL,
  dead_letter INTEGER NOT NULL,
  retention_days REAL NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Counts that would otherwise need a scan of millions of rows; updated in the same
-- transaction as the change they count.
CREATE TABLE queue_counters (
  queue TEXT NOT NULL PRIMARY KEY,
  done INTEGER NOT NULL DEFAULT 0,
  dead INTEGER NOT NULL DEFAULT 0,
  dropped INTEGER NOT NULL DEFAULT 0
);

-- Live and done messages. A message that dies is deleted from here and inserted into
-- dead_letters in the same transaction: a message is in exactly one place.
-- A rowid table (not WITHOUT ROWID): rows carry bodies, and the partial indexes below end
-- with the rowid, which gives the claim a stable first-in-first-out order among equal
-- visible_at without a sort.
CREATE TABLE messages (
  id TEXT NOT NULL PRIMARY KEY,
  queue TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('waiting', 'leased', 'done')),
  body TEXT NOT NULL,
  headers TEXT NOT NULL,
  idempotency_key TEXT,
  enqueued_at INTEGER NOT NULL,
  visible_at INTEGER NOT NULL,
  receives INTEGER NOT NULL DEFAULT 0,
  attempts TEXT NOT NULL DEFAULT '[]',
  lease_token TEXT,
  lease_expires_at INTEGER,
  leased_at INTEGER,
  lease_worker_id TEXT,
  lease_worker_version TEXT,
  lease_host TEXT,
  done_at INTEGER,
  replay_of TEXT,
  replay_count INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX messages_claim ON messages (queue, visible_at) WHERE state = 'waiting';
-- Ends with queue so that counting leases per queue reads only this (small) index.
CREATE INDEX messages_lease_expiry ON messages (lease_expires_at, queue) WHERE state = 'leased';
CREATE UNIQUE INDEX messages_idempotency ON messages (queue, idempotency_key)
  WHERE state IN ('waiting', 'leased') AND idempotency_key IS NOT NULL;

CREATE TABLE dead_letters (
  id TEXT NOT NULL PRIMARY KEY,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  headers TEXT NOT NULL,
  idempotency_key TEXT,
  enqueued_at INTEGER NOT NULL,
  attempts TEXT NOT NULL,
  attempt_count INTEGER NOT NULL,
  error_name TEXT NOT NULL,
  error_message TEXT NOT NULL,
  error_stack TEXT,
  error_code TEXT,
  error_status INTEGER,
  tier TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  group_id TEXT NOT NULL,
  died_at INTEGER NOT NULL,
  replay_count INTEGER NOT NULL DEFAULT 0,
  previous_id TEXT
);

-- Keyset paging newest first: each list filter has an index ending in (died_at, id).
CREATE INDEX dead_letters_queue ON dead_letters (queue, died_at, id);
CREATE INDEX dead_letters_tier ON dead_letters (tier, died_at, id);
CREATE INDEX dead_letters_group ON dead_letters (group_id, died_at, id);
CREATE INDEX dead_letters_died_at ON dead_letters (died_at, id);

CREATE TABLE groups (
  id TEXT NOT NULL PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  error_name TEXT NOT NULL,
  normalized_message TEXT NOT NULL,
  tier TEXT NOT NULL,
  status TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  count INTEGER NOT NULL,
  dead_count INTEGER NOT NULL,
  sample_id TEXT NOT NULL,
  status_changed_at INTEGER NOT NULL
);

-- groupList walks one of these in sort order (status or tier filter first when given);
-- the trailing id makes offset paging stable among equal counts or times.
CREATE INDEX groups_count ON groups (count, id);
CREATE INDEX groups_last_seen ON groups (last_seen, id);
CREATE INDEX groups_status_count ON groups (status, count, id);
CREATE INDEX groups_status_last_seen ON groups (status, last_seen, id);
CREATE INDEX groups_tier_count ON groups (tier, count, id);
CREATE INDEX groups_tier_last_seen ON groups (tier, last_seen, id);

CREATE TABLE group_queues (
  group_id TEXT NOT NULL,
  queue TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (group_id, queue)
);
CREATE INDEX group_queues_queue ON group_queues (queue, group_id);
