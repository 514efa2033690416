-- Deadletter PostgreSQL schema, version 8: a replay flips a flag instead of moving the row.
-- Before, a replayed dead letter was deleted from dead_letters and copied whole (body, headers,
-- attempts with stacks) into the table replayed_dead_letters. Now it stays where it is with
-- `replayed = true`, which takes it out of the DLQ's list indexes (partial, WHERE NOT replayed),
-- and only a small record of the replay goes to dead_letter_replays. An update keeps the
-- row's out-of-line (TOAST) values where they are. `replayed_dead_letters` stays as a read-only
-- view with the columns it had.
--
-- Not expand-only: a process of an earlier version would list replayed dead letters as dead and
-- fail to replay (it inserts into the old table). Stop such processes before `dlq migrate`.

DROP INDEX dead_letters_queue;
DROP INDEX dead_letters_tier;
DROP INDEX dead_letters_group;
DROP INDEX dead_letters_died_at;

-- true once the dead letter was replayed: it is then history (lineage, `dlq show`, review
-- counts, retention), never listed, counted, replayed, edited or discarded as dead again.
-- A constant default: adding the column rewrites nothing.
ALTER TABLE dead_letters ADD COLUMN replayed BOOLEAN NOT NULL DEFAULT false;

-- Who replayed which dead letter when, and to what. `queue` is the dead letter's (source)
-- queue, for the per-queue walks of retention and review.
CREATE TABLE dead_letter_replays (
  id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  queue TEXT COLLATE "C" NOT NULL,
  replayed_at BIGINT NOT NULL,
  replayed_by TEXT NOT NULL,
  replay_job_id TEXT COLLATE "C",
  replayed_to TEXT COLLATE "C" NOT NULL,
  destination TEXT COLLATE "C" NOT NULL
);
CREATE INDEX dead_letter_replays_queue ON dead_letter_replays (queue, replayed_at);

-- The history written by earlier versions moves into the new layout (a replayed dead letter was
-- never in both tables).
INSERT INTO dead_letters (id, queue, body, headers, idempotency_key, enqueued_at, attempts, attempt_count,
  error_name, error_message, error_stack, error_code, error_status, tier, fingerprint, group_id, died_at,
  replay_count, previous_id, original_body, edits, replayed)
SELECT id, queue, body, headers, idempotency_key, enqueued_at, attempts, attempt_count,
  error_name, error_message, error_stack, error_code, error_status, tier, fingerprint, group_id, died_at,
  replay_count, previous_id, original_body, edits, true
FROM replayed_dead_letters;
INSERT INTO dead_letter_replays (id, queue, replayed_at, replayed_by, replay_job_id, replayed_to, destination)
SELECT id, queue, replayed_at, replayed_by, replay_job_id, replayed_to, destination FROM replayed_dead_letters;
DROP TABLE replayed_dead_letters;

-- The DLQ's keyset-paging indexes hold only what is still dead.
CREATE INDEX dead_letters_queue ON dead_letters (queue, died_at, id) WHERE NOT replayed;
CREATE INDEX dead_letters_tier ON dead_letters (tier, died_at, id) WHERE NOT replayed;
CREATE INDEX dead_letters_group ON dead_letters (group_id, died_at, id) WHERE NOT replayed;
CREATE INDEX dead_letters_died_at ON dead_letters (died_at, id) WHERE NOT replayed;

-- The replay history as it was: every replayed dead letter with its replay.
CREATE VIEW replayed_dead_letters AS
SELECT d.id, r.queue, d.body, d.headers, d.idempotency_key, d.enqueued_at, d.attempts, d.attempt_count,
  d.error_name, d.error_message, d.error_stack, d.error_code, d.error_status, d.tier, d.fingerprint, d.group_id,
  d.died_at, d.replay_count, d.previous_id, d.original_body, d.edits, r.replayed_at, r.replayed_by,
  r.replay_job_id, r.replayed_to, r.destination
FROM dead_letter_replays r JOIN dead_letters d ON d.id = r.id;
