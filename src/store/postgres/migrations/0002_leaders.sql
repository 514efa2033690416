-- Deadletter PostgreSQL schema, version 2 (as SQLite's 0002_leaders.sql): named leaderships
-- with a lease, so that one process runs the maintenance services. A table rather than an
-- advisory lock: a lease outlives a dropped connection only until it expires, works through
-- connection poolers, and its holder can be read by `dlq doctor`.
CREATE TABLE leaders (
  name TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
