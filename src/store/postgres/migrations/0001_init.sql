-- Deadletter PostgreSQL schema, version 1: the same tables, columns and meaning as the SQLite
-- store's 0001_init.sql. The migrator runs this with search_path set to the store's schema,
-- so no name here is schema-qualified.
--
-- Times are epoch milliseconds (BIGINT). Message bodies, headers and attempts are `json`, not
-- `jsonb`: `json` keeps the text as sent (key order, and strings holding "\u0000", which
-- `jsonb` refuses), so a replay re-sends exactly the bytes that failed.
-- Keys that are sorted or compared (ids, queue names, group ids) are COLLATE "C": byte order,
-- like SQLite's BINARY, whatever the database's locale, and memcmp-fast in the indexes.
-- No foreign keys, as in SQLite: every multi-table change is one store transaction.

CREATE TABLE queues (
  name TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  max_receives INTEGER NOT NULL,
  visibility_timeout_ms BIGINT NOT NULL,
  backoff JSONB NOT NULL,
  dead_letter BOOLEAN NOT NULL,
  retention_days DOUBLE PRECISION NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- Counts that would otherwise need a scan of millions of rows, updated in the same statement
-- as the change they count. Unlike SQLite's one row per queue, each queue has up to 16 rows
-- (`slot` 0..15) and a writer adds to a random one; readers sum them. One row per queue would
-- make every ack of a queue wait for the previous acker's commit (a row lock held to the end
-- of its transaction), serialising all workers of the queue on one hot row.
CREATE TABLE queue_counters (
  queue TEXT COLLATE "C" NOT NULL,
  slot SMALLINT NOT NULL CHECK (slot BETWEEN 0 AND 15),
  done BIGINT NOT NULL DEFAULT 0,
  dead BIGINT NOT NULL DEFAULT 0,
  dropped BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (queue, slot)
);

-- Live and done messages. A message that dies is deleted from here and inserted into
-- dead_letters in the same statement: a message is in exactly one place.
-- `seq` is SQLite's rowid: it breaks ties among equal visible_at in the order messages were
-- sent, and the claim index ends with it so the claim needs no sort.
CREATE TABLE messages (
  id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  queue TEXT COLLATE "C" NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('waiting', 'leased', 'done')),
  body JSON NOT NULL,
  headers JSON NOT NULL,
  idempotency_key TEXT COLLATE "C",
  enqueued_at BIGINT NOT NULL,
  visible_at BIGINT NOT NULL,
  receives INTEGER NOT NULL DEFAULT 0,
  attempts JSON NOT NULL DEFAULT '[]',
  lease_token TEXT,
  lease_expires_at BIGINT,
  leased_at BIGINT,
  lease_worker_id TEXT,
  lease_worker_version TEXT,
  lease_host TEXT,
  done_at BIGINT,
  replay_of TEXT COLLATE "C",
  replay_count INTEGER NOT NULL DEFAULT 0
);

-- The claim reads only waiting rows, so done messages never make it slower.
CREATE INDEX messages_claim ON messages (queue, visible_at, seq) WHERE state = 'waiting';
CREATE INDEX messages_lease_expiry ON messages (lease_expires_at, queue) WHERE state = 'leased';
CREATE UNIQUE INDEX messages_idempotency ON messages (queue, idempotency_key)
  WHERE state IN ('waiting', 'leased') AND idempotency_key IS NOT NULL;

CREATE TABLE dead_letters (
  id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  queue TEXT COLLATE "C" NOT NULL,
  body JSON NOT NULL,
  headers JSON NOT NULL,
  idempotency_key TEXT COLLATE "C",
  enqueued_at BIGINT NOT NULL,
  attempts JSON NOT NULL,
  attempt_count INTEGER NOT NULL,
  error_name TEXT COLLATE "C" NOT NULL,
  error_message TEXT COLLATE "C" NOT NULL,
  error_stack TEXT,
  error_code TEXT,
  error_status INTEGER,
  tier TEXT COLLATE "C" NOT NULL,
  fingerprint TEXT COLLATE "C" NOT NULL,
  group_id TEXT COLLATE "C" NOT NULL,
  died_at BIGINT NOT NULL,
  replay_count INTEGER NOT NULL DEFAULT 0,
  previous_id TEXT COLLATE "C"
);

-- Keyset paging newest first: each list filter has an index ending in (died_at, id), read
-- backwards.
CREATE INDEX dead_letters_queue ON dead_letters (queue, died_at, id);
CREATE INDEX dead_letters_tier ON dead_letters (tier, died_at, id);
CREATE INDEX dead_letters_group ON dead_letters (group_id, died_at, id);
CREATE INDEX dead_letters_died_at ON dead_letters (died_at, id);

CREATE TABLE groups (
  id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  fingerprint TEXT COLLATE "C" NOT NULL,
  error_name TEXT NOT NULL,
  normalized_message TEXT NOT NULL,
  tier TEXT COLLATE "C" NOT NULL,
  status TEXT COLLATE "C" NOT NULL,
  first_seen BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  count BIGINT NOT NULL,
  dead_count BIGINT NOT NULL,
  sample_id TEXT COLLATE "C" NOT NULL,
  status_changed_at BIGINT NOT NULL
);

-- groupList walks one of these in sort order (status or tier filter first when given); the
-- trailing id makes offset paging stable among equal counts or times.
CREATE INDEX groups_count ON groups (count, id);
CREATE INDEX groups_last_seen ON groups (last_seen, id);
CREATE INDEX groups_status_count ON groups (status, count, id);
CREATE INDEX groups_status_last_seen ON groups (status, last_seen, id);
CREATE INDEX groups_tier_count ON groups (tier, count, id);
CREATE INDEX groups_tier_last_seen ON groups (tier, last_seen, id);

CREATE TABLE group_queues (
  group_id TEXT COLLATE "C" NOT NULL,
  queue TEXT COLLATE "C" NOT NULL,
  count BIGINT NOT NULL,
  PRIMARY KEY (group_id, queue)
);
CREATE INDEX group_queues_queue ON group_queues (queue, group_id);
