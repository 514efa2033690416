-- Deadletter PostgreSQL schema, version 11: nothing to do here.
--
-- SQLite's 0011 moves a message's failed attempts out of its row into `message_attempts`,
-- which this store did in its 0007. The number is kept so that both stores stay in lockstep.
SELECT 1;
