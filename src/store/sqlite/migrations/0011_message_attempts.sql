-- Deadletter SQLite schema, version 11: a message's failed attempts move out of its row into an
-- append-only table, as PostgreSQL's 0007 did. Expand-only: a new table, and `messages.attempts`
-- stays, always '[]' from now on.
--
-- 0007 kept them in the row because a separate table then measured no faster. Since done
-- retention 0 (0010) the table holds only live messages, and the pipeline bench shows where the
-- row costs: a retried message's row grows by an attempt (an error with its stack, ~0.5 KB) at
-- every retry, so after a few it fills a page of its own, and each claim and each retry of it
-- writes that whole 4 KiB page to the WAL again. Most of the WAL a queue with failures wrote
-- (about 8 KB per message in the bench) was these pages. Now a retry appends one small row to
-- the end of this table, and the message's row keeps its size; a death gathers the attempts into
-- its dead letter (whose `attempts` column is unchanged) and deletes them.

-- `seq` is the rowid, named so that VACUUM keeps it: a message's attempts in the order recorded.
CREATE TABLE message_attempts (
  seq INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL,
  attempt TEXT NOT NULL
);

-- A message's attempts, in order: one range per claim, death or deletion.
CREATE INDEX message_attempts_message ON message_attempts (message_id, seq);

INSERT INTO message_attempts (message_id, attempt)
SELECT m.id, a.value
FROM messages AS m CROSS JOIN json_each(m.attempts) AS a
WHERE m.attempts <> '[]'
ORDER BY m.rowid, a.key;

UPDATE messages SET attempts = '[]' WHERE attempts <> '[]';
