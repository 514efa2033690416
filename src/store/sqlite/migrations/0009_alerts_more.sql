-- Deadletter SQLite schema, version 9: alert re-notification and alert history pruning.
-- Expand-only: a nullable column and an index.

-- renotify_ms: a still-firing alert of this rule is notified again once this long has passed
-- since its last notification (alerts.last_notified_at). NULL: notified once, when it fires.
ALTER TABLE alert_rules ADD COLUMN renotify_ms INTEGER;

-- The hourly pruning deletes resolved alerts by age, oldest first.
CREATE INDEX alerts_resolved_at ON alerts (resolved_at, id) WHERE state = 'resolved';
