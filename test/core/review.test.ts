import { describe, expect, it } from 'vitest';
import type { Group, GroupStatus } from '../../src/core/group.ts';
import {
  buildReview,
  type ReviewQueueSnapshot,
  type ReviewSnapshot,
  renderReviewMarkdown,
} from '../../src/core/review.ts';

const DAY = 86_400_000;
const UNTIL = Date.UTC(2026, 5, 8);
const SINCE = UNTIL - 7 * DAY;

function group(id: string, status: GroupStatus, deadCount: number, firstSeen: number): Group {
  return {
    id,
    fingerprint: `fp-${id}`,
    errorName: 'TypeError',
    normalizedMessage: `cannot read | ${id}`,
    tier: 'permanent',
    status,
    firstSeen,
    lastSeen: UNTIL - DAY,
    count: deadCount + 1,
    deadCount,
    queues: ['orders'],
    sampleId: 'd1',
    statusChangedAt: firstSeen,
  };
}

function queue(name: string, overrides: Partial<ReviewQueueSnapshot> = {}): ReviewQueueSnapshot {
  return {
    queue: name,
    depth: 0,
    oldestDeadAt: null,
    died: { dead: 0, replayed: 0, discarded: 0 },
    outcomes: { replayed: [], discarded: [] },
    archived: 0,
    groups: [],
    ...overrides,
  };
}

function snapshot(queues: ReviewQueueSnapshot[]): ReviewSnapshot {
  return { since: SINCE, until: UNTIL, queues };
}

describe('review', () => {
  const shared = group('shared', 'new', 2, SINCE + DAY);
  const orders = queue('orders', {
    depth: 42,
    oldestDeadAt: SINCE - 3 * DAY,
    died: { dead: 30, replayed: 5, discarded: 7 },
    outcomes: {
      replayed: [{ actor: 'ada', count: 5 }],
      discarded: [
        { actor: 'bob', reason: 'test data', count: 6 },
        { actor: 'ada', reason: 'dup', count: 1 },
      ],
    },
    archived: 3,
    groups: [
      group('old-big', 'acknowledged', 20, SINCE - 10 * DAY),
      group('fresh', 'new', 15, SINCE + 2 * DAY),
      shared,
      group('regressed', 'regressed', 5, SINCE - 20 * DAY),
      group('gone', 'new', 0, SINCE + 3 * DAY),
      group('ignored', 'ignored', 4, SINCE - DAY),
    ],
  });
  const emails = queue('emails', {
    groups: [shared],
    depth: 2,
    died: { dead: 2, replayed: 0, discarded: 0 },
  });

  it('builds per-queue depth, inflow, new, top and untriaged groups, and who replayed or discarded', () => {
    const report = buildReview(snapshot([orders, emails, queue('quiet')]));
    expect(report.queues.map((q) => q.queue)).toEqual(['emails', 'orders', 'quiet']);
    const o = report.queues[1];
    expect(o).toMatchObject({
      depth: 42,
      inflow: 42,
      archived: 3,
      replayed: { count: 5, by: [{ actor: 'ada', count: 5 }] },
      discarded: { count: 7 },
    });
    expect(o?.newGroups.count).toBe(3);
    expect(o?.newGroups.groups.map((g) => g.id)).toEqual(['gone', 'fresh', 'shared']);
    expect(o?.topGroups.map((g) => g.id)).toEqual(['old-big', 'fresh', 'regressed', 'ignored', 'shared']);
    expect(o?.untriaged).toMatchObject({ count: 3, deadLetters: 22 });
    expect(o?.untriaged.groups.map((g) => g.id)).toEqual(['fresh', 'regressed', 'shared']);
    expect(report.totals).toEqual({
      depth: 44,
      inflow: 44,
      newGroups: 3,
      replayed: 5,
      discarded: 7,
      archived: 3,
      untriagedGroups: 3,
    });
  });

  it('renders Markdown with a summary table and a section per queue', () => {
    const md = renderReviewMarkdown(buildReview(snapshot([orders, queue('quiet')])));
    expect(md).toMatch(/^# Dead-letter review: 2026-06-01 00:00 UTC to 2026-06-08 00:00 UTC\n/);
    expect(md).toContain('| orders | 42 | 42 | 3 | 3 | 5 | 7 | 10d |');
    expect(md).toContain('## orders');
    expect(md).toContain('- Replayed: 5 (5 by ada)');
    expect(md).toContain('- Discarded: 7 (6 by bob: "test data"; 1 by ada: "dup")');
    expect(md).toContain('### Still untriaged: 3 groups, 22 dead letters');
    // A `|` inside a cell is escaped so the table keeps its columns.
    expect(md).toContain('TypeError: cannot read \\| fresh');
    expect(md).toContain('## quiet\n\nNothing in the DLQ and nothing happened in this window.');
  });

  it('says so when there are no queues', () => {
    expect(renderReviewMarkdown(buildReview(snapshot([])))).toContain('No queues yet.');
  });
});
