-- Deadletter PostgreSQL schema, version 3 (as SQLite's 0003_triage.sql): triage. Replay,
-- discard, edit, documentation, audit and retention. Expand-only: new tables and columns with
-- constant defaults (no table rewrite on PostgreSQL 11+), so a process of the previous version
-- keeps working against this schema during a rolling upgrade.

-- A message whose lineage was replayed this many times is skipped by further replays.
ALTER TABLE queues ADD COLUMN replay_limit INTEGER NOT NULL DEFAULT 3;

-- Terminal states beyond done/dead/dropped, so that the counts keep adding up:
-- sent = waiting + delayed + leased + done + dead + dropped + replayed + discarded + archived.
-- Sharded by slot like the other counters.
ALTER TABLE queue_counters ADD COLUMN replayed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE queue_counters ADD COLUMN discarded BIGINT NOT NULL DEFAULT 0;
ALTER TABLE queue_counters ADD COLUMN archived BIGINT NOT NULL DEFAULT 0;

-- `dlq edit`: the body as it died is kept in original_body on the first edit; edits is the
-- JSON array of {at, actor, body} of every edit, oldest first.
ALTER TABLE dead_letters ADD COLUMN original_body JSON;
ALTER TABLE dead_letters ADD COLUMN edits JSON NOT NULL DEFAULT '[]';

-- A dead letter that was replayed leaves the DLQ (dead_letters) for this history, in the same
-- transaction that enqueues its replay: it can be shown (lineage) but is never replayed or
-- listed as dead again. The new message's id is replayed_to.
CREATE TABLE replayed_dead_letters (
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
  replay_count INTEGER NOT NULL,
  previous_id TEXT COLLATE "C",
  original_body JSON,
  edits JSON NOT NULL,
  replayed_at BIGINT NOT NULL,
  replayed_by TEXT NOT NULL,
  replay_job_id TEXT COLLATE "C",
  replayed_to TEXT COLLATE "C" NOT NULL,
  destination TEXT COLLATE "C" NOT NULL
);
CREATE INDEX replayed_dead_letters_queue ON replayed_dead_letters (queue, replayed_at);
CREATE INDEX replayed_dead_letters_job ON replayed_dead_letters (replay_job_id, replayed_at);
CREATE INDEX replayed_dead_letters_to ON replayed_dead_letters (replayed_to);
-- Lineage: the dead letters a message's replays died as.
CREATE INDEX dead_letters_previous ON dead_letters (previous_id) WHERE previous_id IS NOT NULL;
CREATE INDEX replayed_dead_letters_previous ON replayed_dead_letters (previous_id) WHERE previous_id IS NOT NULL;

-- A discarded dead letter's body is gone; its tombstone stays.
CREATE TABLE tombstones (
  id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  queue TEXT COLLATE "C" NOT NULL,
  group_id TEXT COLLATE "C" NOT NULL,
  tier TEXT COLLATE "C" NOT NULL,
  reason TEXT NOT NULL,
  actor TEXT NOT NULL,
  died_at BIGINT NOT NULL,
  discarded_at BIGINT NOT NULL
);
CREATE INDEX tombstones_queue ON tombstones (queue, discarded_at);

-- Append-only: every change (replay, discard, edit, group status, queue settings, retention,
-- documentation) with who, when, what and on what. Newest first by id (an identity: ids grow
-- in the order entries are written, as SQLite's AUTOINCREMENT).
CREATE TABLE audit_log (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT COLLATE "C" NOT NULL,
  action TEXT COLLATE "C" NOT NULL,
  target_type TEXT COLLATE "C" NOT NULL,
  target_id TEXT COLLATE "C" NOT NULL,
  details JSON NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_target ON audit_log (target_id, id);

-- Each queue's DLQ documentation. runbook is Markdown.
CREATE TABLE queue_docs (
  queue TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  owner TEXT,
  contact TEXT,
  source TEXT,
  purpose TEXT,
  failure_meaning TEXT,
  runbook TEXT,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL
);

-- Durable replay jobs. `selector` is the JSON DeadLetterFilter; `position` the (died_at, id)
-- cursor of the last dead letter handled, so a resumed job continues where it stopped.
-- holder/holder_expires_at: the process running the job, with a lease; another process may
-- take the job over when the lease has run out (the runner crashed).
CREATE TABLE replay_jobs (
  id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  status TEXT COLLATE "C" NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  finished_at BIGINT,
  selector JSON NOT NULL,
  destination TEXT COLLATE "C",
  rate_per_second DOUBLE PRECISION,
  batch_size INTEGER NOT NULL,
  canary_size INTEGER NOT NULL DEFAULT 0,
  canary_max_failure_rate DOUBLE PRECISION NOT NULL DEFAULT 0,
  canary JSON,
  planned BIGINT NOT NULL DEFAULT 0,
  replayed BIGINT NOT NULL DEFAULT 0,
  skipped BIGINT NOT NULL DEFAULT 0,
  position TEXT,
  holder TEXT,
  holder_expires_at BIGINT,
  message TEXT
);
CREATE INDEX replay_jobs_status ON replay_jobs (status, created_at);
