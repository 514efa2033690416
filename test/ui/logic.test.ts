import { describe, expect, it } from 'vitest';
import type { Group } from '../../src/core/group.ts';
import { rankQueues } from '../../src/ui/attention.ts';
import { firstLine, formatRelative, formatSpan } from '../../src/ui/format.ts';
import type { QueueStats } from '../../src/ui/model.ts';
import { describeSelector, selectorFromQuery, selectorQuery } from '../../src/ui/selector.ts';
import { bucketize, histogram } from '../../src/ui/series.ts';

/** The dashboard's pure logic, in Node: what the pages compute from the API's answers. */

const NOW = Date.UTC(2026, 10, 25, 12);
const HOUR = 3_600_000;

function stats(queue: string, dead: number, extra: Partial<QueueStats> = {}): QueueStats {
  return {
    queue,
    waiting: 0,
    delayed: 0,
    leased: 0,
    done: 0,
    dead,
    dropped: 0,
    replayed: 0,
    discarded: 0,
    archived: 0,
    oldestDeadAt: dead > 0 ? NOW - HOUR : null,
    retentionDays: 14,
    nextExpiryAt: dead > 0 ? NOW + 13 * 24 * HOUR : null,
    ...extra,
  };
}

function group(id: string, queue: string, status: Group['status'], deadCount = 1): Group {
  return {
    id,
    fingerprint: id,
    errorName: 'Error',
    normalizedMessage: 'boom',
    tier: 'permanent',
    status,
    firstSeen: NOW - HOUR,
    lastSeen: NOW,
    count: deadCount,
    deadCount,
    queues: [queue],
    sampleId: `${id}-sample`,
    statusChangedAt: NOW - HOUR,
  };
}

describe('which queues need attention first', () => {
  it('puts regressions before new groups, new groups before inflow, and quiet queues last', () => {
    const rows = rankQueues(
      [
        stats('quiet', 40),
        stats('inflow', 5),
        stats('new-groups', 2),
        stats('regressed', 1),
        stats('empty', 0),
      ],
      [
        group('g1', 'new-groups', 'new'),
        group('g2', 'new-groups', 'new'),
        group('g3', 'regressed', 'regressed'),
        group('g4', 'quiet', 'acknowledged', 40),
        // A group whose dead letters all left the DLQ does not count.
        group('g5', 'empty', 'new', 0),
      ],
      new Map([
        [
          'inflow',
          [
            { at: NOW - 10 * 60_000, depth: 5, inflow: 3 },
            { at: NOW - 5 * HOUR, depth: 2, inflow: 2 },
          ],
        ],
      ]),
      NOW,
    );
    expect(rows.map((r) => r.stats.queue)).toEqual(['regressed', 'new-groups', 'inflow', 'quiet', 'empty']);
    expect(rows[0]?.reasons).toEqual(['1 regressed group']);
    expect(rows[1]?.reasons).toEqual(['2 untriaged groups']);
    expect(rows[2]).toMatchObject({ inflowHour: 3, inflowDay: 5, reasons: ['3 new in the last hour'] });
    expect(rows[3]?.reasons).toEqual([]);
    expect(rows[4]).toMatchObject({ newGroups: 0, reasons: [] });
  });

  it('puts queues with firing alerts first of all', () => {
    const rows = rankQueues(
      [stats('regressed', 1), stats('alerting', 3)],
      [group('g1', 'regressed', 'regressed')],
      new Map(),
      NOW,
      new Map([['alerting', 2]]),
    );
    expect(rows.map((r) => [r.stats.queue, r.firing])).toEqual([
      ['alerting', 2],
      ['regressed', 0],
    ]);
    expect(rows[0]?.reasons).toEqual(['2 alerts firing']);
  });

  it('warns when the oldest dead letters expire within two days', () => {
    const [row] = rankQueues([stats('short', 3, { nextExpiryAt: NOW + 5 * HOUR })], [], new Map(), NOW);
    expect(row?.reasons).toEqual(['dead letters expire in 5h']);
  });
});

describe('series for the charts', () => {
  it('sums inflow per bucket and carries depth forward over buckets without a sample', () => {
    const samples = [
      { at: NOW - 3.5 * HOUR, value: 2 },
      { at: NOW - 3.2 * HOUR, value: 4 },
      { at: NOW - 0.5 * HOUR, value: 1 },
    ];
    expect(bucketize(samples, NOW - 4 * HOUR, NOW, 4, 'sum')).toEqual([6, 0, 0, 1]);
    expect(bucketize(samples, NOW - 4 * HOUR, NOW, 4, 'last')).toEqual([4, 4, 4, 1]);
  });

  it('counts events per bucket and leaves out those outside the range', () => {
    const { times, counts } = histogram(
      [NOW - 90 * 60_000, NOW - 80 * 60_000, NOW - 1, NOW + 1, NOW - 5 * HOUR],
      NOW - 2 * HOUR,
      NOW,
      2,
    );
    expect(counts).toEqual([2, 1]);
    expect(times).toEqual([NOW - 2 * HOUR, NOW - HOUR]);
  });
});

describe('selectors in URLs and in words', () => {
  it('round-trips every filter through the URL, and drops an unknown tier', () => {
    const query = new URLSearchParams(
      'queue=orders&tier=permanent&group=g1&since=2h&until=2026-01-01&grep=card&where=body.a=1&where=body.b.c=x',
    );
    const selector = selectorFromQuery(query);
    expect(selector).toEqual({
      queue: 'orders',
      tier: 'permanent',
      group: 'g1',
      since: '2h',
      until: '2026-01-01',
      grep: 'card',
      where: ['body.a=1', 'body.b.c=x'],
    });
    expect(selectorFromQuery(new URLSearchParams(selectorQuery(selector)))).toEqual(selector);
    expect(selectorFromQuery(new URLSearchParams('tier=bogus&ids=a,b,,c'))).toEqual({ ids: ['a', 'b', 'c'] });
    expect(selectorQuery({})).toBe('');
    expect(selectorQuery({ ids: ['x', 'y'] })).toBe('?ids=x%2Cy');
  });

  it('says what a selection is', () => {
    expect(describeSelector({})).toBe('every dead letter');
    expect(describeSelector({ ids: ['a'] })).toBe('1 chosen dead letter');
    expect(describeSelector({ queue: 'orders', tier: 'transient', grep: '503' })).toBe(
      'queue orders · tier transient · error contains "503"',
    );
  });
});

describe('formatting for people', () => {
  it('rounds spans and says how long ago or ahead', () => {
    expect(formatSpan(45_000)).toBe('45s');
    expect(formatSpan(12 * 60_000)).toBe('12m');
    expect(formatSpan(3 * HOUR + 5 * 60_000)).toBe('3h 5m');
    expect(formatSpan(4 * 24 * HOUR + 2 * HOUR)).toBe('4d 2h');
    expect(formatRelative(NOW - 2_000, NOW)).toBe('just now');
    expect(formatRelative(NOW - 5 * 60_000, NOW)).toBe('5m ago');
    expect(formatRelative(NOW + 3 * 24 * HOUR, NOW)).toBe('in 3d');
  });

  it('puts a multi-line error on one line and shortens it', () => {
    expect(firstLine('[\n  {\n    "code": "invalid_type"')).toBe('[ { "code": "invalid_type"');
    expect(firstLine('x'.repeat(200), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});
