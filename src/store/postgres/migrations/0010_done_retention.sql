-- Deadletter PostgreSQL schema, version 10: done messages are deleted after their queue's done
-- retention. Expand-only: a column with a constant default (no table rewrite) and an index.
--
-- Before, a message that succeeded stayed in `messages` (state 'done') forever. The count of
-- done messages lives in queue_counters and is not touched by the deletion, so the stats still
-- add up; only the rows go (with their failed attempts in message_attempts).
--
-- The index is built with a plain CREATE INDEX (migrations run in a transaction), which blocks
-- writes to `messages` while it is built: on a table that already holds many done rows, run
-- `dlq migrate` in a quiet moment.

-- How long a done message is kept, in ms (default 1 hour; 0: deleted at the next sweep).
ALTER TABLE queues ADD COLUMN done_retention_ms BIGINT NOT NULL DEFAULT 3600000;

-- The done-retention sweep deletes a queue's oldest done messages first, up to a cutoff: one
-- range of this index per queue and batch. Partial, so it holds only done rows.
CREATE INDEX messages_done_at ON messages (queue, done_at) WHERE state = 'done';
