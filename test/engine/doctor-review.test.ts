import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { createAlertRule } from '../../src/engine/alerts.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { killOne } from '../../src/store/conformance/fixtures.ts';
import { tempDir } from '../support/temp-dir.ts';

const DAY = 86_400_000;
const T = Date.UTC(2026, 2, 1);
let tmp: ReturnType<typeof tempDir>;
let dl: Deadletter;
let clock: ManualClock;

beforeEach(async () => {
  tmp = tempDir();
  clock = new ManualClock(T);
  dl = await Deadletter.open({ store: `sqlite:${join(tmp.dir, 'dl.db')}`, clock, maintenance: false });
});

afterEach(async () => {
  await dl.close();
  tmp.remove();
});

describe('doctor on a real store', () => {
  it('gathers queues, documentation and groups, and clears findings as they are fixed', async () => {
    await dl.createQueue('orders', { retention: '3d' });
    await dl.createQueue('legacy', { deadLetter: false });
    await killOne(dl.store, { queue: 'orders', diedAt: T, groupId: 'g-old' });
    clock.advance(10 * DAY);

    let report = await dl.doctor();
    expect(report.findings.map((f) => [f.queue, f.code])).toEqual([
      ['legacy', 'dlq_disabled'],
      ['orders', 'groups_untouched'],
      ['orders', 'no_owner'],
      ['orders', 'retention_short'],
      ['orders', 'no_alert_rules'],
      ['orders', 'no_runbook'],
    ]);
    expect(report).toMatchObject({ problems: 4, warnings: 2 });
    expect(report.notes).toEqual([]);

    await dl.updateQueue('legacy', { deadLetter: true });
    await dl.updateQueue('orders', { retention: '14d' });
    await dl.setQueueDocs('orders', { owner: 'team', runbook: '# steps' });
    await dl.setQueueDocs('legacy', { owner: 'team', runbook: '# steps' });
    await dl.setGroupStatus('g-old', 'acknowledged');
    // A rule on one queue watches that queue only.
    await createAlertRule(dl.store, {
      input: { name: 'orders', queue: 'orders', kind: 'new_group', channels: [{ type: 'log' }] },
      actor: 'test',
      now: clock.now(),
    });
    report = await dl.doctor();
    expect(report.findings.map((f) => [f.queue, f.code])).toEqual([['legacy', 'no_alert_rules']]);
    await createAlertRule(dl.store, {
      input: { name: 'all', kind: 'depth', threshold: 100, channels: [{ type: 'log' }] },
      actor: 'test',
      now: clock.now(),
    });
    report = await dl.doctor();
    expect(report.findings).toEqual([]);
  });
});

describe('doctor: messages that keep coming back', () => {
  it('warns about dead letters that reached their queue replay limit after replays', async () => {
    await dl.createQueue('orders', { replayLimit: 2 });
    await dl.setQueueDocs('orders', { owner: 'team', runbook: '# steps' });
    await createAlertRule(dl.store, {
      input: { name: 'all', kind: 'depth', threshold: 100, channels: [{ type: 'log' }] },
      actor: 'test',
      now: clock.now(),
    });
    // A message replayed twice already (replay of d-1) dies again: it is at the limit.
    const looping = {
      id: 'loop-1',
      body: {},
      headers: {},
      idempotencyKey: null,
      visibleAt: T,
      replayOf: 'd-1',
      replayCount: 2,
    };
    await dl.store.messageInsertBatch({ queue: 'orders', messages: [looping], now: T });
    const [claimed] = await dl.store.messageClaim({
      queue: 'orders',
      limit: 1,
      now: T,
      leaseMs: 30_000,
      worker: { workerId: 'w', workerVersion: '1', host: 'h' },
    });
    if (!claimed) throw new Error('expected a claim');
    const error = { name: 'TypeError', message: 'still broken' };
    await dl.store.messageFail({
      items: [
        {
          id: claimed.id,
          leaseToken: claimed.leaseToken,
          attempt: {
            workerId: 'w',
            workerVersion: '1',
            host: 'h',
            number: 1,
            startedAt: T,
            durationMs: 1,
            error,
          },
          outcome: 'dead',
          death: {
            tier: 'permanent',
            error,
            fingerprint: 'fp',
            groupId: 'g-loop',
            normalizedMessage: 'still broken',
          },
        },
      ],
      now: T + 1,
    });
    await dl.setGroupStatus('g-loop', 'acknowledged');
    const report = await dl.doctor();
    expect(report).toMatchObject({ problems: 0, warnings: 1 });
    expect(report.findings[0]).toMatchObject({
      code: 'replay_limit_reached',
      queue: 'orders',
      ids: ['loop-1'],
    });
  });
});

describe('review on a real store', () => {
  it('reports inflow, discards by whom and untriaged groups over the window', async () => {
    await dl.createQueue('orders');
    await killOne(dl.store, { queue: 'orders', diedAt: T - 10 * DAY, groupId: 'g-old' });
    const recent: string[] = [];
    for (let i = 0; i < 4; i++) {
      recent.push(await killOne(dl.store, { queue: 'orders', diedAt: T - DAY + i, groupId: 'g-new' }));
    }
    await dl.discard({ ids: recent.slice(0, 2) }, { reason: 'test data', actor: 'ada' });
    const report = await dl.review({ since: T - 7 * DAY, until: T + 1 });
    expect(report.totals).toMatchObject({
      depth: 3,
      inflow: 4,
      newGroups: 1,
      discarded: 2,
      untriagedGroups: 2,
    });
    expect(report.queues[0]).toMatchObject({
      queue: 'orders',
      depth: 3,
      inflow: 4,
      discarded: { count: 2, by: [{ actor: 'ada', reason: 'test data', count: 2 }] },
      untriaged: { count: 2, deadLetters: 3 },
    });
    expect(report.queues[0]?.newGroups.groups.map((g) => g.id)).toEqual(['g-new']);
    await expect(dl.review({ since: T, until: T - 1 })).rejects.toThrow(/--since must be before --until/);
  });
});
