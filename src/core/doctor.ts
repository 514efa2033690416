import type { Group } from './group.ts';
import type { QueueDocs } from './queue-docs.ts';
import type { QueueRecord } from './queue-settings.ts';

/**
 * `dlq doctor`: a deployment checked against the failure patterns of a DLQ (see PRODUCT.md,
 * "Who uses it and what hurts them"). Pure: the engine gathers a {@link DoctorSnapshot}, this
 * file judges it. The thresholds are documented constants.
 */

/** Retention under this many days (and above 0, which keeps forever) is a problem: the evidence goes before anyone looks. */
export const DOCTOR_MIN_RETENTION_DAYS = 7;
/** A group new, acknowledged or regressed whose status has not changed for longer than this is untouched. */
export const DOCTOR_UNTOUCHED_MS = 7 * 86_400_000;
/**
 * A DLQ holding dead letters of at least this many groups, none of them triaged (acknowledged,
 * resolved or ignored), is used as a dump: errors pile up and nobody sorts them.
 */
export const DOCTOR_DUMP_MIN_GROUPS = 10;
/** How many group or dead-letter ids a finding names (its count is always exact). */
const NAMED = 5;

/** Everything the checks look at. */
export interface DoctorSnapshot {
  now: number;
  queues: QueueRecord[];
  /** Documentation by queue name; a queue without any is absent. */
  docs: Map<string, QueueDocs>;
  /** Per queue, the groups that have dead letters from it (any status). */
  groupsByQueue: Map<string, Group[]>;
  /** Per queue, the dead letters at the queue's replay limit (they keep coming back). */
  atReplayLimit: { queue: string; count: number; sampleIds: string[] }[];
  /**
   * The alert rules (queue null: every queue). Absent: the alert check is skipped with a note
   * (a snapshot gathered without the store's rules).
   */
  alertRules?: { queue: string | null; enabled: boolean }[];
}

/**
 * - `problem`: something is wrong now; `dlq doctor` exits 1.
 * - `warning`: worth fixing; the exit stays 0.
 */
export type DoctorSeverity = 'problem' | 'warning';

/** The stable codes of the findings, for scripts. */
export type DoctorCode =
  | 'dlq_disabled'
  | 'retention_short'
  | 'no_owner'
  | 'no_runbook'
  | 'groups_untouched'
  | 'dlq_dump'
  | 'replay_limit_reached'
  | 'no_alert_rules';

/** One thing to fix. */
export interface DoctorFinding {
  severity: DoctorSeverity;
  code: DoctorCode;
  queue: string;
  /** What is wrong, in one sentence. */
  message: string;
  /** What to do, with the command. */
  fix: string;
  /** The groups or dead letters concerned (at most 5 named). */
  ids?: string[];
}

/** The result of `dlq doctor`. */
export interface DoctorReport {
  checkedAt: number;
  queues: number;
  problems: number;
  warnings: number;
  /** Problems first, then by queue and code. */
  findings: DoctorFinding[];
  /** Checks that were skipped and why. */
  notes: string[];
}

/** Runs every check on a snapshot. */
export function runDoctor(snapshot: DoctorSnapshot): DoctorReport {
  const findings: DoctorFinding[] = [];
  for (const queue of snapshot.queues) {
    findings.push(...checkQueue(queue, snapshot));
    const unwatched =
      snapshot.alertRules &&
      !snapshot.alertRules.some((r) => r.enabled && (r.queue === null || r.queue === queue.name));
    if (queue.deadLetter && unwatched) findings.push(noAlertRules(queue.name));
  }
  for (const limit of snapshot.atReplayLimit) {
    if (limit.count === 0) continue;
    findings.push({
      severity: 'warning',
      code: 'replay_limit_reached',
      queue: limit.queue,
      message: `${plural(limit.count, 'dead letter')} came back after replays and reached the queue's replay limit: replays skip them`,
      fix:
        `fix what keeps failing (\`dlq show ${limit.sampleIds[0] ?? '<id>'}\` shows the lineage), then discard them ` +
        `(\`dlq discard --ids <ids> --reason "..."\`) or raise the limit (\`dlq queue update ${limit.queue} --replay-limit <n>\`)`,
      ids: limit.sampleIds.slice(0, NAMED),
    });
  }
  const severityRank = (f: DoctorFinding) => (f.severity === 'problem' ? 0 : 1);
  findings.sort(
    (a, b) =>
      severityRank(a) - severityRank(b) || a.queue.localeCompare(b.queue) || a.code.localeCompare(b.code),
  );
  return {
    checkedAt: snapshot.now,
    queues: snapshot.queues.length,
    problems: findings.filter((f) => f.severity === 'problem').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    findings,
    notes: snapshot.alertRules
      ? []
      : [
          'alert rules are not checked: the snapshot has no alert rules (gather it from the store to check them)',
        ],
  };
}

/** A DLQ that no enabled alert rule watches: it fills up and nobody hears of it. */
function noAlertRules(queue: string): DoctorFinding {
  return {
    severity: 'warning',
    code: 'no_alert_rules',
    queue,
    message: 'no enabled alert rule watches this DLQ: dead letters can pile up without anyone being told',
    fix:
      `add one, e.g. \`dlq alert rule add --name ${queue}-new-bugs --queue ${queue} --kind new_group --slack <url>\` ` +
      `and \`dlq alert rule add --name ${queue}-depth --queue ${queue} --kind depth --threshold 100 --webhook <url>\``,
  };
}

function checkQueue(queue: QueueRecord, snapshot: DoctorSnapshot): DoctorFinding[] {
  const name = queue.name;
  if (!queue.deadLetter) {
    // Without a DLQ there is nothing to document or triage: the one thing to fix is the DLQ.
    return [
      {
        severity: 'problem',
        code: 'dlq_disabled',
        queue: name,
        message: 'the DLQ is turned off: failures that will not be retried are dropped and lost',
        fix: `turn it on: \`dlq queue update ${name} --dead-letter\``,
      },
    ];
  }
  const findings: DoctorFinding[] = [];
  if (queue.retentionDays > 0 && queue.retentionDays < DOCTOR_MIN_RETENTION_DAYS) {
    findings.push({
      severity: 'problem',
      code: 'retention_short',
      queue: name,
      message: `retention is ${formatDays(queue.retentionDays)}: dead letters may be archived before anyone looks at them`,
      fix: `keep them at least ${DOCTOR_MIN_RETENTION_DAYS} days: \`dlq queue update ${name} --retention 14d\``,
    });
  }
  const docs = snapshot.docs.get(name);
  if (!docs?.owner) {
    findings.push({
      severity: 'problem',
      code: 'no_owner',
      queue: name,
      message: 'the DLQ has no owner: nobody is responsible for its failures',
      fix: `name one: \`dlq docs set ${name} --owner <team> --contact <channel>\``,
    });
  }
  if (!docs?.runbook) {
    findings.push({
      severity: 'warning',
      code: 'no_runbook',
      queue: name,
      message: 'the DLQ has no triage runbook: whoever is on call must guess what to do',
      fix: `write one: \`dlq docs set ${name} --runbook-file runbook.md\``,
    });
  }
  const groups = (snapshot.groupsByQueue.get(name) ?? []).filter((group) => group.deadCount > 0);
  const untouched = groups
    .filter(
      (group) =>
        (group.status === 'new' || group.status === 'acknowledged' || group.status === 'regressed') &&
        snapshot.now - group.statusChangedAt > DOCTOR_UNTOUCHED_MS,
    )
    .sort((a, b) => a.statusChangedAt - b.statusChangedAt);
  if (untouched.length > 0) {
    const oldest = untouched[0] as Group;
    findings.push({
      severity: 'problem',
      code: 'groups_untouched',
      queue: name,
      message:
        `${plural(untouched.length, 'group')} with dead letters ${untouched.length === 1 ? 'has' : 'have'} not been ` +
        `triaged for more than ${DOCTOR_UNTOUCHED_MS / 86_400_000} days (the oldest, ${oldest.id}, ` +
        `${oldest.status} for ${formatDays((snapshot.now - oldest.statusChangedAt) / 86_400_000)}, last seen ` +
        `${formatDays((snapshot.now - oldest.lastSeen) / 86_400_000)} ago)`,
      fix:
        `look at each (\`dlq group show ${oldest.id}\`), then replay, discard (\`dlq discard --group ${oldest.id} --reason "..."\`), ` +
        `resolve or ignore it (\`dlq group resolve|ignore ${oldest.id}\`)`,
      ids: untouched.slice(0, NAMED).map((group) => group.id),
    });
  }
  const triaged = groups.filter(
    (group) => group.status === 'acknowledged' || group.status === 'resolved' || group.status === 'ignored',
  );
  if (groups.length >= DOCTOR_DUMP_MIN_GROUPS && triaged.length === 0) {
    findings.push({
      severity: 'problem',
      code: 'dlq_dump',
      queue: name,
      message:
        `the DLQ looks like a dump: dead letters of ${groups.length} different groups and none of them triaged ` +
        `(at least ${DOCTOR_DUMP_MIN_GROUPS} groups, none acknowledged, resolved or ignored)`,
      fix:
        `triage the largest groups first (\`dlq groups --queue ${name}\`, \`dlq group ack <id>\`), ` +
        `discard what nobody needs (\`dlq discard --group <id> --reason "..."\`) and give the queue an owner`,
      ids: [...groups]
        .sort((a, b) => b.deadCount - a.deadCount)
        .slice(0, NAMED)
        .map((group) => group.id),
    });
  }
  return findings;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Days in a short human form: `3d`, `1.5d`, `12h`. */
function formatDays(days: number): string {
  if (days < 1) return `${Math.max(0, Math.round(days * 24))}h`;
  return `${Number.isInteger(days) ? days : Math.floor(days * 10) / 10}d`;
}
