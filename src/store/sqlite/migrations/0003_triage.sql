-- Deadletter SQLite schema, version 3: triage. Replay, discard, edit, documentation, audit
-- and retention. Expand-only: new tables and nullable or defaulted columns, so a process of
-- the previous version keeps working against this schema during a rolling upgrade.

-- A message whose lineage was replayed this many times is skipped by further replays.
ALTER TABLE queues ADD COLUMN replay_limit INTEGER NOT NULL DEFAULT 3;

-- Terminal states beyond done/dead/dropped, so that the counts keep adding up:
-- sent = waiting + delayed + leased + done + dead + dropped + replayed + discarded + archived.
ALTER TABLE queue_counters ADD COLUMN replayed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queue_counters ADD COLUMN discarded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queue_counters ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;

-- `dlq edit`: the body as it died is kept in original_body on the first edit; edits is the
-- JSON array of {at, actor, body} of every edit, oldest first.
ALTER TABLE dead_letters ADD COLUMN original_body TEXT;
ALTER TABLE dead_letters ADD COLUMN edits TEXT NOT NULL DEFAULT '[]';

-- A dead letter that was replayed leaves the DLQ (dead_letters) for this history, in the same
-- transaction that enqueues its replay: it can be shown (lineage) but is never replayed or
-- listed as dead again. The new message's id is replayed_to.
CREATE TABLE replayed_dead_letters (
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
  replay_count INTEGER NOT NULL,
  previous_id TEXT,
  original_body TEXT,
  edits TEXT NOT NULL,
  replayed_at INTEGER NOT NULL,
  replayed_by TEXT NOT NULL,
  replay_job_id TEXT,
  replayed_to TEXT NOT NULL,
  destination TEXT NOT NULL
);
CREATE INDEX replayed_dead_letters_queue ON replayed_dead_letters (queue, replayed_at);
CREATE INDEX replayed_dead_letters_job ON replayed_dead_letters (replay_job_id, replayed_at);
CREATE INDEX replayed_dead_letters_to ON replayed_dead_letters (replayed_to);
-- Lineage: the dead letters a message's replays died as.
CREATE INDEX dead_letters_previous ON dead_letters (previous_id) WHERE previous_id IS NOT NULL;
CREATE INDEX replayed_dead_letters_previous ON replayed_dead_letters (previous_id) WHERE previous_id IS NOT NULL;

-- A discarded dead letter's body is gone; its tombstone stays.
CREATE TABLE tombstones (
  id TEXT NOT NULL PRIMARY KEY,
  queue TEXT NOT NULL,
  group_id TEXT NOT NULL,
  tier TEXT NOT NULL,
  reason TEXT NOT NULL,
  actor TEXT NOT NULL,
  died_at INTEGER NOT NULL,
  discarded_at INTEGER NOT NULL
);
CREATE INDEX tombstones_queue ON tombstones (queue, discarded_at);

-- Append-only: every change (replay, discard, edit, group status, queue settings, retention,
-- documentation) with who, when, what and on what. Newest first by id.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target_type TEXT NOT NULL,
  target_id TEXT NOT NULL,
  details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_target ON audit_log (target_id, id);

-- Each queue's DLQ documentation. runbook is Markdown.
CREATE TABLE queue_docs (
  queue TEXT NOT NULL PRIMARY KEY,
  owner TEXT,
  contact TEXT,
  source TEXT,
  purpose TEXT,
  failure_meaning TEXT,
  runbook TEXT,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL
);

-- Durable replay jobs. `selector` is the JSON DeadLetterFilter; `position` the (died_at, id)
-- cursor of the last dead letter handled, so a resumed job continues where it stopped.
-- holder/holder_expires_at: the process running the job, with a lease; another process may
-- take the job over when the lease has run out (the runner crashed).
CREATE TABLE replay_jobs (
  id TEXT NOT NULL PRIMARY KEY,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER,
  selector TEXT NOT NULL,
  destination TEXT,
  rate_per_second REAL,
  batch_size INTEGER NOT NULL,
  canary_size INTEGER NOT NULL DEFAULT 0,
  canary_max_failure_rate REAL NOT NULL DEFAULT 0,
  canary TEXT,
  planned INTEGER NOT NULL DEFAULT 0,
  replayed INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,
  position TEXT,
  holder TEXT,
  holder_expires_at INTEGER,
  message TEXT
);
CREATE INDEX replay_jobs_status ON replay_jobs (status, created_at);
