-- Deadletter SQLite schema, version 2: named leaderships with a lease, so that one process
-- runs the maintenance services (lease-expiry sweep; later retention and alerts).
CREATE TABLE leaders (
  name TEXT NOT NULL PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
