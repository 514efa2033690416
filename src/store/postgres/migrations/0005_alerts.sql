-- Deadletter PostgreSQL schema, version 5 (as SQLite's 0005_alerts.sql): alerts.
-- Expand-only: three new tables.

-- Alert rules: one condition on one queue (queue NULL: every queue) and where to notify.
-- kind: depth | growth | oldest | new_group | regressed_group. threshold: a count of dead
-- letters (depth, growth, new_group, regressed_group) or a duration in ms (oldest).
-- window_ms: the growth window, or how recent a new group must be (NULL: any since the rule).
-- channels: JSON array of {"type": "webhook" | "slack" | "log", "url"?}.
CREATE TABLE alert_rules (
  id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL UNIQUE,
  queue TEXT COLLATE "C",
  kind TEXT NOT NULL,
  threshold BIGINT NOT NULL,
  window_ms BIGINT,
  cooldown_ms BIGINT NOT NULL,
  channels TEXT NOT NULL,
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL
);

-- Alerts: one row per firing of a rule on a queue (and group). key = rule, queue and group;
-- at most one firing alert per key. A resolved alert stays as history.
CREATE TABLE alerts (
  id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  rule_id TEXT COLLATE "C" NOT NULL,
  rule_name TEXT NOT NULL,
  queue TEXT COLLATE "C" NOT NULL,
  group_id TEXT COLLATE "C",
  key TEXT COLLATE "C" NOT NULL,
  state TEXT NOT NULL,
  fired_at BIGINT NOT NULL,
  resolved_at BIGINT,
  last_notified_at BIGINT,
  value BIGINT NOT NULL,
  details TEXT NOT NULL
);
CREATE UNIQUE INDEX alerts_firing_key ON alerts (key) WHERE state = 'firing';
-- The cooldown looks up the last resolve of a key; the history lists newest first.
CREATE INDEX alerts_key_resolved ON alerts (key, resolved_at);
CREATE INDEX alerts_fired ON alerts (fired_at, id);

-- The outbox of notifications: written in the transaction that fires or resolves an alert
-- (or by the review schedule), sent by the delivery service, so a crash loses none.
-- payload is the exact JSON body to send (rendered once).
CREATE TABLE alert_deliveries (
  id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
  alert_id TEXT COLLATE "C",
  event TEXT NOT NULL,
  channel TEXT NOT NULL,
  url TEXT,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  next_attempt_at BIGINT NOT NULL,
  last_error TEXT,
  delivered_at BIGINT
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX alert_deliveries_alert ON alert_deliveries (alert_id);
CREATE INDEX alert_deliveries_event ON alert_deliveries (event, created_at);
