-- Deadletter SQLite schema, version 10: done messages are deleted after their queue's done
-- retention. Expand-only: a column with a default and an index.
--
-- Before, a message that succeeded stayed in `messages` (state 'done') forever. The count of
-- done messages lives in queue_counters.done and is not touched by the deletion, so the stats
-- still add up; only the rows go.

-- How long a done message is kept, in ms (default 1 hour; 0: deleted at the next sweep).
ALTER TABLE queues ADD COLUMN done_retention_ms INTEGER NOT NULL DEFAULT 3600000;

-- The done-retention sweep deletes a queue's oldest done messages first, up to a cutoff:
-- one range of this index per queue and batch. Partial, so it holds only done rows and the
-- claim, complete and fail paths of live messages never write to it except on completion.
CREATE INDEX messages_done_at ON messages (queue, done_at) WHERE state = 'done';
