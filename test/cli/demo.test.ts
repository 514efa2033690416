import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Group } from '../../src/core/group.ts';
import type { DemoReport } from '../../src/engine/demo.ts';
import type { QueueStats } from '../../src/store/store.ts';
import { type CliFixture, cliFixture } from './harness.ts';

let cli: CliFixture;
beforeAll(() => {
  cli = cliFixture();
});
afterAll(() => cli.remove());

describe('dlq demo', () => {
  let report: DemoReport;

  it('runs the mixed workload to the end and reports stats and groups as JSON', async () => {
    const result = await cli.run(['demo', '--json']);
    expect(result.code).toBe(0);
    report = JSON.parse(result.stdout) as DemoReport;
    expect(result.stderr).toMatch(
      /dlq: sent 120 to demo\.emails, 90 to demo\.payments, 90 to demo\.webhooks/,
    );
    const total = (row: QueueStats) => row.done + row.dead + row.dropped;
    expect(report.stats.map((row) => row.queue)).toEqual(['demo.emails', 'demo.payments', 'demo.webhooks']);
    for (const row of report.stats) {
      expect(row).toMatchObject({ waiting: 0, delayed: 0, leased: 0, dropped: 0 });
      expect(total(row)).toBe(report.sent[row.queue]);
      // Most messages succeed.
      expect(row.done).toBeGreaterThan(row.dead * 2);
      expect(row.dead).toBeGreaterThan(0);
    }
  });

  it('finds several groups across tiers, among them the three bugs', async () => {
    const tiers = new Set(report.groups.map((group) => group.tier));
    expect([...tiers].sort()).toEqual(['malformed', 'permanent', 'timeout', 'transient']);
    const errors = report.groups.map((group) => `${group.errorName}: ${group.normalizedMessage}`);
    expect(errors.some((error) => /^TypeError: Cannot read properties of undefined/.test(error))).toBe(true);
    expect(errors.some((error) => /duplicate key value violates unique constraint/.test(error))).toBe(true);
    expect(errors.some((error) => /^PermanentError: .*declined/.test(error))).toBe(true);
    expect(errors.some((error) => /^LeaseExpiredError/.test(error))).toBe(true);
    expect(report.groups.length).toBeGreaterThanOrEqual(7);
    const dead = report.stats.reduce((sum, row) => sum + row.dead, 0);
    expect(report.groups.reduce((sum, group) => sum + group.count, 0)).toBe(dead);
  });

  it('leaves its results for dlq list and dlq groups', async () => {
    const groups = await cli.json<Group[]>(['groups', '--queue', 'demo.webhooks']);
    expect(groups.map((group) => group.tier)).toContain('timeout');
    const page = await cli.json<{ items: unknown[] }>(['list', '--tier', 'timeout', '--limit', '1000']);
    expect(page.items.length).toBe(groups.find((group) => group.tier === 'timeout')?.count);
  });

  it('runs again on the same store, with human output', async () => {
    const result = await cli.run(['demo', '--messages', '40', '--seed', '3']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /per-queue stats\nQUEUE +WAITING +DELAYED +LEASED +DONE +DEAD +DROPPED +REPLAYED +DISCARDED +ARCHIVED +OLDEST DEAD +NEXT EXPIRY\n/,
    );
    expect(result.stdout).toMatch(/groups found \(\d+\)\nGROUP +STATUS +TIER +COUNT/);
    expect(result.stdout).toMatch(/next steps:\n {2}dlq groups/);
  });
});
