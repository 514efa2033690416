import type { Json } from '../../core/message.ts';
import type { QueueRecord } from '../../core/queue-settings.ts';

// The details of the audit entries of queue-settings changes. Written from typed records, so
// every field is JSON already (numbers, booleans, the backoff object).

type Settings = { [key: string]: Json };

/** A queue's settings as an audit entry records them: every field but name and times. */
export function queueSettingsForAudit(queue: QueueRecord): Settings {
  const { name: _name, createdAt: _created, updatedAt: _updated, ...settings } = queue;
  return JSON.parse(JSON.stringify(settings)) as Settings;
}

/** The settings that differ between two versions of a queue, as `from` and `to`. */
export function queueChanges(before: QueueRecord, after: QueueRecord): { from: Settings; to: Settings } {
  const old = queueSettingsForAudit(before);
  const next = queueSettingsForAudit(after);
  const from: Settings = {};
  const to: Settings = {};
  for (const key of new Set([...Object.keys(old), ...Object.keys(next)])) {
    if (JSON.stringify(old[key]) === JSON.stringify(next[key])) continue;
    from[key] = old[key] ?? null;
    to[key] = next[key] ?? null;
  }
  return { from, to };
}
