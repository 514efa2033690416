import type { Group } from './group.ts';

/**
 * `dlq review`: what happened to each DLQ over a window, for a weekly look or a webhook.
 * Pure: the engine gathers a {@link ReviewSnapshot}; {@link buildReview} shapes the report and
 * {@link renderReviewMarkdown} writes it for people.
 */

/** How many groups the report lists per section (counts are always exact). */
export const REVIEW_TOP_GROUPS = 5;

/** What the engine gathers for one queue. */
export interface ReviewQueueSnapshot {
  queue: string;
  /** Dead letters in the DLQ now. */
  depth: number;
  oldestDeadAt: number | null;
  /** Dead letters that died in the window: still dead, replayed or discarded since. */
  died: { dead: number; replayed: number; discarded: number };
  /** Replayed and discarded in the window, per actor (discards per reason too). */
  outcomes: {
    replayed: { actor: string; count: number }[];
    discarded: { actor: string; reason: string; count: number }[];
  };
  /** Dead letters archived by retention in the window (from the audit log). */
  archived: number;
  /** The groups with dead letters from this queue (any status). */
  groups: Group[];
}

export interface ReviewSnapshot {
  since: number;
  until: number;
  queues: ReviewQueueSnapshot[];
}

/** A group as the review lists it. */
export interface ReviewGroup {
  id: string;
  status: Group['status'];
  tier: Group['tier'];
  errorName: string;
  normalizedMessage: string;
  /** Dead letters of the group in the DLQ now. */
  deadCount: number;
  firstSeen: number;
  lastSeen: number;
}

/** One queue's part of the review. */
export interface ReviewQueue {
  queue: string;
  depth: number;
  oldestDeadAt: number | null;
  /** Dead letters that died in the window. */
  inflow: number;
  /** Groups first seen in the window: up to {@link REVIEW_TOP_GROUPS}, and how many there were. */
  newGroups: { count: number; groups: ReviewGroup[] };
  /** The groups with the most dead letters in the DLQ. */
  topGroups: ReviewGroup[];
  replayed: { count: number; by: { actor: string; count: number }[] };
  discarded: { count: number; by: { actor: string; reason: string; count: number }[] };
  archived: number;
  /** Groups with dead letters that nobody triaged yet (new or regressed), largest first. */
  untriaged: { count: number; deadLetters: number; groups: ReviewGroup[] };
}

/** The review report, as `dlq review --format json` prints it. */
export interface ReviewReport {
  since: number;
  until: number;
  totals: {
    depth: number;
    inflow: number;
    newGroups: number;
    replayed: number;
    discarded: number;
    archived: number;
    untriagedGroups: number;
  };
  /** Queues in name order. */
  queues: ReviewQueue[];
}

function toReviewGroup(group: Group): ReviewGroup {
  return {
    id: group.id,
    status: group.status,
    tier: group.tier,
    errorName: group.errorName,
    normalizedMessage: group.normalizedMessage,
    deadCount: group.deadCount,
    firstSeen: group.firstSeen,
    lastSeen: group.lastSeen,
  };
}

const sum = (values: number[]) => values.reduce((n, v) => n + v, 0);
const byDeadCount = (a: Group, b: Group) => b.deadCount - a.deadCount || b.lastSeen - a.lastSeen;

/** Shapes the report of a snapshot. */
export function buildReview(snapshot: ReviewSnapshot): ReviewReport {
  const queues = [...snapshot.queues]
    .sort((a, b) => a.queue.localeCompare(b.queue))
    .map((q): ReviewQueue => {
      const fresh = q.groups
        .filter((g) => g.firstSeen >= snapshot.since && g.firstSeen < snapshot.until)
        .sort((a, b) => b.firstSeen - a.firstSeen);
      const withDead = q.groups.filter((g) => g.deadCount > 0).sort(byDeadCount);
      const untriaged = withDead.filter((g) => g.status === 'new' || g.status === 'regressed');
      return {
        queue: q.queue,
        depth: q.depth,
        oldestDeadAt: q.oldestDeadAt,
        inflow: q.died.dead + q.died.replayed + q.died.discarded,
        newGroups: { count: fresh.length, groups: fresh.slice(0, REVIEW_TOP_GROUPS).map(toReviewGroup) },
        topGroups: withDead.slice(0, REVIEW_TOP_GROUPS).map(toReviewGroup),
        replayed: { count: sum(q.outcomes.replayed.map((r) => r.count)), by: q.outcomes.replayed },
        discarded: { count: sum(q.outcomes.discarded.map((r) => r.count)), by: q.outcomes.discarded },
        archived: q.archived,
        untriaged: {
          count: untriaged.length,
          deadLetters: sum(untriaged.map((g) => g.deadCount)),
          groups: untriaged.slice(0, REVIEW_TOP_GROUPS).map(toReviewGroup),
        },
      };
    });
  // A group with dead letters from two queues is listed under both; totals count it once.
  const untriagedIds = new Set(
    snapshot.queues.flatMap((q) =>
      q.groups
        .filter((g) => g.deadCount > 0 && (g.status === 'new' || g.status === 'regressed'))
        .map((g) => g.id),
    ),
  );
  const newIds = new Set(
    snapshot.queues.flatMap((q) =>
      q.groups.filter((g) => g.firstSeen >= snapshot.since && g.firstSeen < snapshot.until).map((g) => g.id),
    ),
  );
  return {
    since: snapshot.since,
    until: snapshot.until,
    totals: {
      depth: sum(queues.map((q) => q.depth)),
      inflow: sum(queues.map((q) => q.inflow)),
      newGroups: newIds.size,
      replayed: sum(queues.map((q) => q.replayed.count)),
      discarded: sum(queues.map((q) => q.discarded.count)),
      archived: sum(queues.map((q) => q.archived)),
      untriagedGroups: untriagedIds.size,
    },
    queues,
  };
}

/** An epoch-ms time as `2026-01-01 10:00 UTC`. */
function day(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** How long before `until` a time was, in its largest unit: `3d` (from 48 hours), `5h`, `12m`. */
function age(ms: number, until: number): string {
  const minutes = Math.max(0, Math.floor((until - ms) / 60_000));
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  return hours >= 48 ? `${Math.floor(hours / 24)}d` : `${hours}h`;
}

/** Markdown table cells cannot hold `|` or newlines; long text ends in `…`. */
function cell(text: string, max = 500): string {
  const chars = [...text.replace(/\s*\n\s*/g, ' ')];
  const short = chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
  return short.replace(/\|/g, '\\|');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function groupTable(groups: ReviewGroup[], until: number): string[] {
  return [
    '| group | status | tier | dead | first seen | error |',
    '|---|---|---|--:|---|---|',
    ...groups.map(
      (g) =>
        `| \`${g.id}\` | ${g.status} | ${g.tier} | ${g.deadCount} | ${age(g.firstSeen, until)} ago | ` +
        `${cell(`${g.errorName}: ${g.normalizedMessage}`, 120)} |`,
    ),
  ];
}

/** The report as Markdown: a summary table, then one section per queue. */
export function renderReviewMarkdown(report: ReviewReport): string {
  const t = report.totals;
  const lines: string[] = [
    `# Dead-letter review: ${day(report.since)} to ${day(report.until)}`,
    '',
    `${plural(t.inflow, 'dead letter')} arrived; ${t.depth} in the DLQs now. ${plural(t.newGroups, 'new group')}, ` +
      `${plural(t.untriagedGroups, 'group')} untriaged. Replayed ${t.replayed}, discarded ${t.discarded}, archived ${t.archived}.`,
    '',
  ];
  if (report.queues.length === 0) return [...lines, 'No queues yet.', ''].join('\n');
  lines.push(
    '| queue | depth | inflow | new groups | untriaged | replayed | discarded | oldest |',
    '|---|--:|--:|--:|--:|--:|--:|---|',
    ...report.queues.map(
      (q) =>
        `| ${q.queue} | ${q.depth} | ${q.inflow} | ${q.newGroups.count} | ${q.untriaged.count} | ` +
        `${q.replayed.count} | ${q.discarded.count} | ${q.oldestDeadAt === null ? '-' : `${age(q.oldestDeadAt, report.until)}`} |`,
    ),
    '',
  );
  for (const q of report.queues) {
    lines.push(`## ${q.queue}`, '');
    const quiet =
      q.depth === 0 &&
      q.inflow === 0 &&
      q.replayed.count === 0 &&
      q.discarded.count === 0 &&
      q.archived === 0;
    if (quiet) {
      lines.push('Nothing in the DLQ and nothing happened in this window.', '');
      continue;
    }
    lines.push(
      `- Depth: ${q.depth}${q.oldestDeadAt === null ? '' : ` (oldest died ${day(q.oldestDeadAt)})`}`,
      `- Inflow: ${plural(q.inflow, 'dead letter')} in the window`,
    );
    if (q.replayed.count > 0) {
      lines.push(
        `- Replayed: ${q.replayed.count} (${q.replayed.by.map((r) => `${r.count} by ${r.actor}`).join(', ')})`,
      );
    }
    if (q.discarded.count > 0) {
      lines.push(
        `- Discarded: ${q.discarded.count} (${q.discarded.by
          .map((d) => `${d.count} by ${d.actor}: "${cell(d.reason)}"`)
          .join('; ')})`,
      );
    }
    if (q.archived > 0) lines.push(`- Archived by retention: ${q.archived}`);
    lines.push('');
    if (q.untriaged.count > 0) {
      lines.push(
        `### Still untriaged: ${plural(q.untriaged.count, 'group')}, ${plural(q.untriaged.deadLetters, 'dead letter')}`,
        '',
        ...groupTable(q.untriaged.groups, report.until),
        '',
      );
    }
    if (q.newGroups.count > 0) {
      lines.push(
        `### New groups: ${q.newGroups.count}`,
        '',
        ...groupTable(q.newGroups.groups, report.until),
        '',
      );
    }
    if (q.topGroups.length > 0) {
      lines.push('### Top groups', '', ...groupTable(q.topGroups, report.until), '');
    }
  }
  return lines.join('\n');
}
