import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Group, GroupMergeResult } from '../../src/core/group.ts';
import type { GroupRule } from '../../src/core/group-rule.ts';
import { type CliFixture, cliFixture } from './harness.ts';
import { seedDeadLetters } from './seed.ts';

let cli: CliFixture;

beforeEach(async () => {
  cli = cliFixture();
  await cli.run(['queue', 'create', 'orders']);
  await cli.run(['queue', 'create', 'emails']);
  await seedDeadLetters(cli.storeUrl, [
    { queue: 'orders', groupId: 'g-card' },
    { queue: 'orders', groupId: 'g-card' },
    { queue: 'orders', groupId: 'g-upstream' },
    { queue: 'emails', groupId: 'g-address' },
  ]);
});
afterEach(() => cli.remove());

describe('dlq group merge', () => {
  it('shows counts on a dry run, merges, and shows the merged groups on the target', async () => {
    const dry = await cli.json<GroupMergeResult>([
      'group',
      'merge',
      'g-card',
      'g-upstream',
      'g-address',
      '--dry-run',
    ]);
    expect(dry).toMatchObject({ dryRun: true, moved: 2, target: { id: 'g-card', count: 4 } });
    expect((await cli.json<Group[]>(['groups'])).map((g) => g.id)).toHaveLength(3);

    const human = await cli.run(['group', 'merge', 'g-card', 'g-upstream', 'g-address']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('merged 2 groups into g-card: 2 dead letters moved');
    expect((await cli.json<Group[]>(['groups'])).map((g) => g.id)).toEqual(['g-card']);
    const listed = await cli.json<{ items: unknown[] }>(['list', '--group', 'g-card']);
    expect(listed.items).toHaveLength(4);
    const gone = await cli.run(['list', '--group', 'g-upstream']);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain('group "g-upstream" was merged into "g-card"');
    const shown = await cli.run(['group', 'show', 'g-card']);
    expect(shown.stdout).toMatch(/merged in\s+g-address/);
    expect(shown.stdout).toMatch(/merged in\s+g-upstream/);
  });

  it('exits 2 with a one-line reason for bad merges', async () => {
    const self = await cli.run(['group', 'merge', 'g-card', 'g-card']);
    expect(self.code).toBe(2);
    expect(self.stderr).toContain('cannot merge group "g-card" into itself');
    expect((await cli.run(['group', 'merge', 'nope', 'g-card'])).code).toBe(2);
    expect((await cli.run(['group', 'merge', 'g-card'])).code).toBe(2);
    await cli.run(['group', 'merge', 'g-card', 'g-upstream']);
    const again = await cli.run(['group', 'merge', 'g-address', 'g-upstream']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('group "g-upstream" was already merged into "g-card"');
  });
});

describe('dlq group rule', () => {
  it('adds, lists and removes rules', async () => {
    const added = await cli.json<GroupRule>([
      'group',
      'rule',
      'add',
      '--name',
      'card-declined',
      '--queue',
      'orders',
      '--error-name',
      'StripeCardError',
      '--message-matches',
      '/declined/i',
      '--code',
      'card_declined',
      '--code',
      'expired_card',
      '--status',
      '400-499',
      '--fingerprint',
      'stripe-card',
    ]);
    expect(added).toMatchObject({
      name: 'card-declined',
      queue: 'orders',
      match: {
        name: 'StripeCardError',
        message: { regex: 'declined', flags: 'i' },
        code: ['card_declined', 'expired_card'],
        status: { min: 400, max: 499 },
      },
      fingerprint: 'stripe-card',
    });
    const table = await cli.run(['group', 'rule', 'list']);
    expect(table.stdout).toContain('card-declined');
    expect(table.stdout).toContain('name = "StripeCardError", message ~ /declined/i');
    expect(await cli.json<GroupRule[]>(['group', 'rule', 'list'])).toEqual([added]);
    const removed = await cli.run(['group', 'rule', 'remove', 'card-declined']);
    expect(removed.code).toBe(0);
    expect(await cli.json<GroupRule[]>(['group', 'rule', 'list'])).toEqual([]);
  });

  it('exits 2 for a bad regex, a rule without a condition, a bad status or an unknown rule', async () => {
    const add = (...args: string[]) =>
      cli.run(['group', 'rule', 'add', '--name', 'r', '--fingerprint', 'fp', ...args]);
    const regex = await add('--message-matches', '(unclosed');
    expect(regex.code).toBe(2);
    expect(regex.stderr).toContain('invalid message regex');
    expect((await add()).code).toBe(2);
    expect((await add('--status', 'teapot')).code).toBe(2);
    expect((await cli.run(['group', 'rule', 'remove', 'nope'])).code).toBe(2);
    expect(await cli.json<GroupRule[]>(['group', 'rule', 'list'])).toEqual([]);
  });
});
