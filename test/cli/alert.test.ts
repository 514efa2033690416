import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertRule } from '../../src/core/alert.ts';
import type { AlertHistoryEntry } from '../../src/engine/alerts.ts';
import { type CliFixture, cliFixture } from './harness.ts';

let cli: CliFixture;

beforeEach(async () => {
  cli = cliFixture();
  await cli.run(['queue', 'create', 'orders']);
});
afterEach(() => cli.remove());

describe('dlq alert', () => {
  it('adds, lists and removes rules, with the audit log recording who', async () => {
    const added = await cli.json<AlertRule>([
      'alert',
      'rule',
      'add',
      '--name',
      'orders-growth',
      '--queue',
      'orders',
      '--kind',
      'growth',
      '--threshold',
      '50',
      '--window',
      '10m',
      '--cooldown',
      '1h',
      '--webhook',
      'http://127.0.0.1:1/a',
      '--slack',
      'https://hooks.example/T/B/x',
      '--log',
      '--actor',
      'alice',
    ]);
    expect(added).toMatchObject({
      name: 'orders-growth',
      queue: 'orders',
      kind: 'growth',
      threshold: 50,
      windowMs: 600_000,
      cooldownMs: 3_600_000,
      enabled: true,
      createdBy: 'alice',
      channels: [
        { type: 'webhook', url: 'http://127.0.0.1:1/a' },
        { type: 'slack', url: 'https://hooks.example/T/B/x' },
        { type: 'log' },
      ],
    });
    const text = await cli.run([
      'alert',
      'rule',
      'add',
      '--name',
      'stale',
      '--kind',
      'oldest',
      '--threshold',
      '2h',
      '--log',
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe('added alert rule "stale": oldest > 2h\n');

    const list = await cli.run(['alert', 'rule', 'list']);
    expect(list.stdout).toMatch(/orders-growth +orders +growth > 50 in 10m +webhook, slack, log +enabled/);
    expect(list.stdout).toMatch(/stale +\(all\) +oldest > 2h +log +enabled/);

    const removed = await cli.run(['alert', 'rule', 'remove', 'orders-growth']);
    expect(removed.stdout).toBe('removed alert rule "orders-growth"\n');
    expect((await cli.json<AlertRule[]>(['alert', 'rule', 'list'])).map((r) => r.name)).toEqual(['stale']);
    const audit = await cli.run(['audit', '--json']);
    expect(audit.stdout).toContain('alert_rule.remove');
    expect(audit.stdout).not.toContain('hooks.example');
  });

  it('refuses bad rules with exit 2 and changes nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['--name', 'x', '--kind', 'depth', '--threshold', '5'], /at least one of --webhook/],
      [['--name', 'x', '--kind', 'size', '--threshold', '5', '--log'], /unknown --kind "size"/],
      [['--name', 'x', '--kind', 'growth', '--threshold', '5', '--log'], /needs a window/],
      [['--name', 'x', '--kind', 'depth', '--log'], /needs a threshold/],
      [['--name', 'x', '--kind', 'depth', '--threshold', 'ten', '--log'], /invalid threshold/],
      [
        ['--name', 'x', '--kind', 'depth', '--threshold', '5', '--webhook', 'file:///etc/passwd'],
        /http or https/,
      ],
      [
        ['--name', 'x', '--queue', 'nope', '--kind', 'depth', '--threshold', '5', '--log'],
        /queue "nope" does not exist/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await cli.run(['alert', 'rule', 'add', ...args]);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr).toMatch(message);
    }
    expect(await cli.json<AlertRule[]>(['alert', 'rule', 'list'])).toEqual([]);
    const dup = ['alert', 'rule', 'add', '--name', 'd', '--kind', 'depth', '--threshold', '1', '--log'];
    expect((await cli.run(dup)).code).toBe(0);
    const again = await cli.run(dup);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/exists/);
    const missing = await cli.run(['alert', 'rule', 'remove', 'nope']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no alert rule "nope"/);
  });

  it('lists an empty history, and refuses a bad --state', async () => {
    expect((await cli.run(['alert', 'list'])).stdout).toBe('no alerts\n');
    expect(await cli.json<AlertHistoryEntry[]>(['alert', 'list', '--state', 'firing'])).toEqual([]);
    const bad = await cli.run(['alert', 'list', '--state', 'loud']);
    expect(bad.code).toBe(2);
  });
});
