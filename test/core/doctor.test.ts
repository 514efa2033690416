import { describe, expect, it } from 'vitest';
import { DOCTOR_DUMP_MIN_GROUPS, type DoctorSnapshot, runDoctor } from '../../src/core/doctor.ts';
import type { Group, GroupStatus } from '../../src/core/group.ts';
import type { QueueDocs } from '../../src/core/queue-docs.ts';
import type { QueueRecord } from '../../src/core/queue-settings.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

function queue(name: string, overrides: Partial<QueueRecord> = {}): QueueRecord {
  return {
    name,
    maxReceives: 5,
    visibilityTimeoutMs: 30_000,
    backoff: { type: 'fixed', delayMs: 0 },
    deadLetter: true,
    retentionDays: 14,
    replayLimit: 3,
    createdAt: NOW - 30 * DAY,
    updatedAt: NOW - 30 * DAY,
    ...overrides,
  };
}

function docs(name: string, overrides: Partial<QueueDocs> = {}): QueueDocs {
  return {
    queue: name,
    owner: 'team',
    contact: '#team',
    source: null,
    purpose: null,
    failureMeaning: null,
    runbook: '# what to do',
    updatedAt: NOW - DAY,
    updatedBy: 'ada',
    ...overrides,
  };
}

let groupCounter = 0;
function group(status: GroupStatus, changedDaysAgo: number, overrides: Partial<Group> = {}): Group {
  groupCounter += 1;
  return {
    id: `g${groupCounter}`,
    fingerprint: `fp${groupCounter}`,
    errorName: 'TypeError',
    normalizedMessage: 'x is undefined',
    tier: 'permanent',
    status,
    firstSeen: NOW - changedDaysAgo * DAY,
    lastSeen: NOW - DAY,
    count: 3,
    deadCount: 3,
    queues: ['orders'],
    sampleId: 'd1',
    statusChangedAt: NOW - changedDaysAgo * DAY,
    ...overrides,
  };
}

/** A healthy deployment of one queue, with `patch` applied. */
function snapshot(patch: Partial<DoctorSnapshot> = {}): DoctorSnapshot {
  return {
    now: NOW,
    queues: [queue('orders')],
    docs: new Map([['orders', docs('orders')]]),
    groupsByQueue: new Map([['orders', [group('acknowledged', 1)]]]),
    atReplayLimit: [],
    alertRules: [{ queue: 'orders', enabled: true }],
    ...patch,
  };
}

const codes = (s: DoctorSnapshot) => runDoctor(s).findings.map((f) => [f.severity, f.code, f.queue]);

describe('doctor', () => {
  it('finds nothing wrong with a healthy deployment', () => {
    const report = runDoctor(snapshot());
    expect(report).toMatchObject({ queues: 1, problems: 0, warnings: 0, findings: [], notes: [] });
  });

  it('warns about a DLQ that no enabled alert rule watches, and skips the check without rules', () => {
    const two = [queue('orders'), queue('emails'), queue('legacy', { deadLetter: false })];
    const docsOf = new Map(['orders', 'emails', 'legacy'].map((q) => [q, docs(q)]));
    const base = { queues: two, docs: docsOf, groupsByQueue: new Map() };
    expect(codes(snapshot({ ...base, alertRules: [{ queue: 'orders', enabled: true }] }))).toEqual([
      ['problem', 'dlq_disabled', 'legacy'],
      ['warning', 'no_alert_rules', 'emails'],
    ]);
    expect(codes(snapshot({ ...base, alertRules: [{ queue: null, enabled: false }] }))).toEqual([
      ['problem', 'dlq_disabled', 'legacy'],
      ['warning', 'no_alert_rules', 'emails'],
      ['warning', 'no_alert_rules', 'orders'],
    ]);
    expect(codes(snapshot({ ...base, alertRules: [{ queue: null, enabled: true }] }))).toEqual([
      ['problem', 'dlq_disabled', 'legacy'],
    ]);
    const fix = runDoctor(snapshot({ alertRules: [] })).findings[0]?.fix;
    expect(fix).toContain('dlq alert rule add --name orders-new-bugs --queue orders --kind new_group');
    const { alertRules: _skipped, ...unchecked } = snapshot();
    expect(runDoctor(unchecked).notes.join(' ')).toMatch(/alert rules are not checked/);
  });

  it('flags a queue whose DLQ is turned off, and nothing else about it', () => {
    const report = runDoctor(snapshot({ queues: [queue('orders', { deadLetter: false })], docs: new Map() }));
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({ severity: 'problem', code: 'dlq_disabled', queue: 'orders' });
    expect(report.findings[0]?.fix).toContain('dlq queue update orders --dead-letter');
  });

  it('flags retention under 7 days but not 7 days or 0 (forever)', () => {
    expect(codes(snapshot({ queues: [queue('orders', { retentionDays: 3 })] }))).toEqual([
      ['problem', 'retention_short', 'orders'],
    ]);
    expect(
      runDoctor(snapshot({ queues: [queue('orders', { retentionDays: 0.5 })] })).findings[0]?.message,
    ).toMatch(/retention is 12h/);
    expect(codes(snapshot({ queues: [queue('orders', { retentionDays: 7 })] }))).toEqual([]);
    expect(codes(snapshot({ queues: [queue('orders', { retentionDays: 0 })] }))).toEqual([]);
  });

  it('asks for an owner (problem) and a runbook (warning)', () => {
    expect(codes(snapshot({ docs: new Map() }))).toEqual([
      ['problem', 'no_owner', 'orders'],
      ['warning', 'no_runbook', 'orders'],
    ]);
    expect(codes(snapshot({ docs: new Map([['orders', docs('orders', { runbook: null })]]) }))).toEqual([
      ['warning', 'no_runbook', 'orders'],
    ]);
  });

  it('flags groups new, acknowledged or regressed untouched for more than 7 days, if they hold dead letters', () => {
    const old = group('new', 12);
    const groups = [
      old,
      group('acknowledged', 8),
      group('regressed', 9),
      group('new', 6),
      group('resolved', 30),
      group('ignored', 30),
      group('new', 20, { deadCount: 0 }),
    ];
    const report = runDoctor(snapshot({ groupsByQueue: new Map([['orders', groups]]) }));
    expect(report.findings).toHaveLength(1);
    const [finding] = report.findings;
    expect(finding).toMatchObject({ severity: 'problem', code: 'groups_untouched', queue: 'orders' });
    expect(finding?.ids).toEqual([old.id, groups[2]?.id, groups[1]?.id]);
    expect(finding?.message).toMatch(
      /^3 groups with dead letters have not been triaged for more than 7 days/,
    );
    expect(finding?.fix).toContain(`dlq group show ${old.id}`);
  });

  it(`calls a DLQ a dump at ${DOCTOR_DUMP_MIN_GROUPS} groups with none triaged`, () => {
    const fresh = (n: number) => Array.from({ length: n }, () => group('new', 1));
    const dump = (groups: Group[]) => snapshot({ groupsByQueue: new Map([['orders', groups]]) });
    expect(codes(dump(fresh(DOCTOR_DUMP_MIN_GROUPS)))).toEqual([['problem', 'dlq_dump', 'orders']]);
    expect(codes(dump(fresh(DOCTOR_DUMP_MIN_GROUPS - 1)))).toEqual([]);
    expect(codes(dump([...fresh(DOCTOR_DUMP_MIN_GROUPS), group('ignored', 1)]))).toEqual([]);
  });

  it('warns about dead letters at the replay limit, naming some', () => {
    const report = runDoctor(
      snapshot({ atReplayLimit: [{ queue: 'orders', count: 4, sampleIds: ['d9', 'd8'] }] }),
    );
    expect(report).toMatchObject({ problems: 0, warnings: 1 });
    expect(report.findings[0]).toMatchObject({ code: 'replay_limit_reached', ids: ['d9', 'd8'] });
    expect(report.findings[0]?.message).toMatch(/^4 dead letters came back after replays/);
  });

  it('lists problems first, then warnings, by queue', () => {
    const report = runDoctor(
      snapshot({
        queues: [queue('b'), queue('a', { retentionDays: 1 }), queue('c', { deadLetter: false })],
        docs: new Map([
          ['a', docs('a', { runbook: null })],
          ['b', docs('b', { runbook: null })],
        ]),
        groupsByQueue: new Map(),
        alertRules: [{ queue: null, enabled: true }],
      }),
    );
    expect(report.findings.map((f) => [f.severity, f.queue, f.code])).toEqual([
      ['problem', 'a', 'retention_short'],
      ['problem', 'c', 'dlq_disabled'],
      ['warning', 'a', 'no_runbook'],
      ['warning', 'b', 'no_runbook'],
    ]);
    expect(report).toMatchObject({ queues: 3, problems: 2, warnings: 2 });
  });
});
