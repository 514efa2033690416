-- Deadletter SQLite schema, version 6: group merge and stored fingerprint rules.
-- Expand-only: two new tables.

-- A group merged into another: its row leaves `groups`, its dead letters move to the target,
-- and this alias sends the deaths that still compute its id to the target (looked up by
-- primary key on every death). A merge into a group that was itself merged later is
-- re-pointed, so an alias always names a live group. The other columns keep what the group
-- was at the merge, for "merged into this group" lists.
CREATE TABLE group_aliases (
  source_id TEXT NOT NULL PRIMARY KEY,
  target_id TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  error_name TEXT NOT NULL,
  normalized_message TEXT NOT NULL,
  tier TEXT NOT NULL,
  count INTEGER NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  merged_at INTEGER NOT NULL,
  merged_by TEXT NOT NULL
);
CREATE INDEX group_aliases_target ON group_aliases (target_id, source_id);

-- Fingerprint rules kept as data (the engine applies them after the rules given in code):
-- failures that match `match` (a serialised FailureMatch, JSON) and come from `queue` (NULL:
-- every queue) get `fingerprint`, hence one group. First created, first tried.
CREATE TABLE group_rules (
  id TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  queue TEXT,
  match TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
CREATE INDEX group_rules_created ON group_rules (created_at, id);
