-- Deadletter SQLite schema, version 4: the server (`dlq serve`). Expand-only: two new tables.

-- Bearer tokens of the HTTP API. The secret is shown once when the token is created and never
-- stored: `hash` is the hex SHA-256 of it. A revoked token stays (revoked_at set) so that the
-- audit log's actor names keep meaning something; only one active token may hold a name.
CREATE TABLE api_tokens (
  id TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- One row per queue and minute: the DLQ's depth (dead letters in it) and inflow (dead letters
-- that arrived since the previous sample), for the dashboard's charts. dead_total is the
-- queue's cumulative count of dead letters ever (dead + replayed + discarded + archived) at
-- that minute: the next sample's inflow is its difference, whichever process takes it.
CREATE TABLE queue_samples (
  queue TEXT NOT NULL,
  at INTEGER NOT NULL,
  depth INTEGER NOT NULL,
  inflow INTEGER NOT NULL,
  dead_total INTEGER NOT NULL,
  PRIMARY KEY (queue, at)
) WITHOUT ROWID;
-- The retention sweep deletes by time across queues.
CREATE INDEX queue_samples_at ON queue_samples (at);
