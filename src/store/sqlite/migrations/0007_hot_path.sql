-- Migration 0007 (the message hot path): nothing to do on SQLite.
--
-- PostgreSQL's 0007 moves a message's failed attempts out of its row, because there every
-- UPDATE writes a whole new row version to the write-ahead log. SQLite keeps them in
-- `messages.attempts`: a retry appends the attempt's JSON to the stored text in place (see
-- `messageRetry` in statements.ts) and measured no faster with a separate table, whose reads
-- at every claim of a retried message cost what the smaller row saved.
SELECT 1;
