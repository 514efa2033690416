import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/core/doctor.ts';
import type { ReviewReport } from '../../src/core/review.ts';
import { type CliFixture, cliFixture } from './harness.ts';
import { seedDeadLetters } from './seed.ts';

let cli: CliFixture;

beforeEach(async () => {
  cli = cliFixture();
  await cli.run(['queue', 'create', 'orders']);
});
afterEach(() => cli.remove());

describe('dlq doctor', () => {
  it('exits 1 on problems, says what to fix, and 0 once only warnings are left', async () => {
    await cli.run(['queue', 'create', 'legacy', '--no-dead-letter']);
    await cli.run(['queue', 'create', 'fast', '--retention', '2d']);
    const sick = await cli.run(['doctor']);
    expect(sick.code).toBe(1);
    expect(sick.stderr).toMatch(/^dlq: doctor found 4 problems/);
    expect(sick.stdout).toMatch(/warning {2}orders: no enabled alert rule watches this DLQ/);
    expect(sick.stdout).toContain(
      '`dlq alert rule add --name orders-new-bugs --queue orders --kind new_group --slack <url>`',
    );
    expect(sick.stdout).toMatch(/PROBLEM {2}legacy: the DLQ is turned off/);
    expect(sick.stdout).toContain('fix: turn it on: `dlq queue update legacy --dead-letter`');
    expect(sick.stdout).toMatch(/PROBLEM {2}fast: retention is 2d/);
    expect(sick.stdout).not.toMatch(/note: alert rules are not checked/);
    expect(sick.stdout).toMatch(/4 problems, 4 warnings in 3 queues\n$/);

    const json = await cli.run(['doctor', '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as DoctorReport;
    expect(report.findings.map((f) => `${f.severity}:${f.queue}:${f.code}`)).toEqual([
      'problem:fast:no_owner',
      'problem:fast:retention_short',
      'problem:legacy:dlq_disabled',
      'problem:orders:no_owner',
      'warning:fast:no_alert_rules',
      'warning:fast:no_runbook',
      'warning:orders:no_alert_rules',
      'warning:orders:no_runbook',
    ]);
    // One enabled rule on every queue watches them all (a disabled one does not count).
    await cli.run([
      'alert',
      'rule',
      'add',
      '--name',
      'off',
      '--kind',
      'depth',
      '--threshold',
      '1',
      '--log',
      '--disabled',
    ]);
    expect((await cli.run(['doctor'])).stdout).toMatch(/4 problems, 4 warnings in 3 queues\n$/);
    await cli.run([
      'alert',
      'rule',
      'add',
      '--name',
      'all',
      '--kind',
      'depth',
      '--threshold',
      '100',
      '--log',
    ]);

    await cli.run(['queue', 'update', 'legacy', '--dead-letter', '--retention', '14d']);
    await cli.run(['queue', 'update', 'fast', '--retention', '7d']);
    for (const queue of ['orders', 'legacy', 'fast'])
      await cli.run(['docs', 'set', queue, '--owner', 'team']);
    const warned = await cli.run(['doctor']);
    expect(warned.code).toBe(0);
    expect(warned.stdout).toMatch(/no problems, 3 warnings in 3 queues/);

    for (const queue of ['orders', 'legacy', 'fast'])
      await cli.run(['docs', 'set', queue, '--runbook', '# steps']);
    const healthy = await cli.run(['doctor']);
    expect(healthy).toMatchObject({ code: 0, stderr: '' });
    expect(healthy.stdout).toMatch(/all 3 queues look healthy/);
  });

  it('finds groups left untriaged for more than 7 days', async () => {
    await cli.run(['docs', 'set', 'orders', '--owner', 'team', '--runbook', '# steps']);
    await cli.run([
      'alert',
      'rule',
      'add',
      '--name',
      'orders',
      '--queue',
      'orders',
      '--kind',
      'new_group',
      '--log',
    ]);
    await seedDeadLetters(cli.storeUrl, [{ queue: 'orders', groupId: 'g-stale', agoMs: 9 * 86_400_000 }]);
    const result = await cli.run(['doctor', '--json']);
    expect(result.code).toBe(1);
    expect((JSON.parse(result.stdout) as DoctorReport).findings).toMatchObject([
      { code: 'groups_untouched', queue: 'orders', ids: ['g-stale'] },
    ]);
    await cli.run(['group', 'ack', 'g-stale']);
    expect((await cli.run(['doctor'])).code).toBe(0);
  });
});

describe('dlq review', () => {
  beforeEach(async () => {
    await seedDeadLetters(cli.storeUrl, [
      { queue: 'orders', groupId: 'g-old', agoMs: 10 * 86_400_000 },
      { queue: 'orders', groupId: 'g-new', agoMs: 3_600_000 },
      { queue: 'orders', groupId: 'g-new', agoMs: 3_600_000 },
    ]);
    await cli.run(['discard', '--group', 'g-old', '--reason', 'stale test data', '--actor', 'ada']);
  });

  it('prints Markdown by default', async () => {
    const result = await cli.run(['review']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^# Dead-letter review: /);
    expect(result.stdout).toContain('| orders | 2 | 2 | 1 | 1 | 0 | 1 |');
    expect(result.stdout).toContain('- Discarded: 1 (1 by ada: "stale test data")');
    expect(result.stdout).toContain('### Still untriaged: 1 group, 2 dead letters');
  });

  it('prints JSON with --format json or --json, over the window asked for', async () => {
    const report = await cli.json<ReviewReport>(['review']);
    expect(report.totals).toMatchObject({
      depth: 2,
      inflow: 2,
      newGroups: 1,
      discarded: 1,
      untriagedGroups: 1,
    });
    const formatted = await cli.run(['review', '--format', 'json', '--since', '30d']);
    const wide = JSON.parse(formatted.stdout) as ReviewReport;
    expect(wide.totals).toMatchObject({ inflow: 3, newGroups: 2 });
    expect(wide.until - wide.since).toBeGreaterThanOrEqual(30 * 86_400_000 - 1_000);
  });

  it('refuses a bad format or window with exit 2', async () => {
    for (const [args, message] of [
      [['review', '--format', 'xml'], /invalid --format "xml"/],
      [['review', '--since', 'last week'], /invalid --since/],
      [['review', '--since', '1h', '--until', '2d'], /--since must be before --until/],
      [['review', '--json', '--format', 'md'], /--json prints JSON/],
    ] as [string[], RegExp][]) {
      const result = await cli.run(args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
    }
  });
});
