-- Deadletter PostgreSQL schema, version 7 (SQLite's 0007_hot_path.sql is the lead's, for the
-- same hot path): a message's failed attempts move out of its row into an append-only table.
--
-- PostgreSQL writes a whole new row version on every UPDATE, and WAL-logs it. With the
-- attempts in the row, each claim of a failing message copied its attempts so far (each one
-- an error with its stack), and each retry rewrote the whole array to add one: most of the
-- write-ahead log of a busy queue with failures, and with `synchronous_commit` on, commits
-- wait for that log. Now a retry inserts one attempt and a claim copies none; a death gathers
-- them into its dead letter (whose `attempts` column is unchanged) and deletes them.
-- `messages.attempts` stays, always '[]' from now on.
CREATE TABLE message_attempts (
  message_id TEXT COLLATE "C" NOT NULL,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  attempt JSON NOT NULL,
  PRIMARY KEY (message_id, seq)
);

INSERT INTO message_attempts (message_id, attempt)
SELECT m.id, a.value
FROM messages m CROSS JOIN LATERAL json_array_elements(m.attempts) WITH ORDINALITY AS a(value, n)
WHERE m.attempts::text <> '[]'
ORDER BY m.id, a.n;

UPDATE messages SET attempts = '[]' WHERE attempts::text <> '[]';
