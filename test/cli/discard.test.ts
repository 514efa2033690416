import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ShownRecord } from '../../src/cli/commands/show.ts';
import { runCli } from '../../src/cli/run-cli.ts';
import type { AuditEntry } from '../../src/core/audit.ts';
import type { QueueStatsReport } from '../../src/engine/deadletter.ts';
import type { DiscardReport } from '../../src/engine/discard.ts';
import { type CliFixture, cliFixture } from './harness.ts';
import { seedDeadLetters } from './seed.ts';

let cli: CliFixture;
let ids: string[];

beforeEach(async () => {
  cli = cliFixture();
  await cli.run(['queue', 'create', 'orders']);
  await cli.run(['queue', 'create', 'emails']);
  ids = await seedDeadLetters(cli.storeUrl, [
    { queue: 'orders', groupId: 'g-bug', body: { customer: { country: 'DE' } } },
    { queue: 'orders', groupId: 'g-bug', body: { customer: { country: 'FR' } } },
    { queue: 'orders', groupId: 'g-bug', body: { customer: { country: 'DE' } } },
    { queue: 'orders', groupId: 'g-bad-json', tier: 'malformed' },
    { queue: 'emails', groupId: 'g-bug' },
  ]);
});
afterEach(() => cli.remove());

async function statsOf(queue: string): Promise<QueueStatsReport> {
  const row = (await cli.json<QueueStatsReport[]>(['stats'])).find((s) => s.queue === queue);
  if (!row) throw new Error(`no stats for ${queue}`);
  return row;
}

describe('dlq discard', () => {
  it('shows what would go with --dry-run and changes nothing', async () => {
    const plan = await cli.json<DiscardReport>(['discard', '--queue', 'orders', '--dry-run']);
    expect(plan).toMatchObject({
      dryRun: true,
      matched: 4,
      discarded: 0,
      byGroup: [
        { groupId: 'g-bug', count: 3 },
        { groupId: 'g-bad-json', count: 1 },
      ],
      byTier: [
        { tier: 'permanent', count: 3 },
        { tier: 'malformed', count: 1 },
      ],
    });
    const human = await cli.run([
      'discard',
      '--queue',
      'orders',
      '--where',
      'body.customer.country=DE',
      '--dry-run',
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^would discard 2 dead letters \(dry run: nothing was changed\)/);
    expect(human.stdout).toContain(ids[0]);
    expect((await statsOf('orders')).dead).toBe(4);
  });

  it('discards with a reason, keeps tombstones, writes the audit entry as the actor, and shows the tombstone', async () => {
    const result = await cli.run([
      'discard',
      '--queue',
      'orders',
      '--where',
      'body.customer.country=DE',
      '--reason',
      'test orders from the DE staging shop',
      '--actor',
      'ada',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^discarded 2 dead letters: "test orders from the DE staging shop"/);
    expect(await statsOf('orders')).toMatchObject({ dead: 2, discarded: 2 });

    const [entry] = (await cli.json<{ items: AuditEntry[] }>(['audit', '--action', 'discard'])).items;
    expect(entry).toMatchObject({
      actor: 'ada',
      action: 'discard',
      targetId: 'orders',
      details: { reason: 'test orders from the DE staging shop', count: 2 },
    });
    expect([...((entry?.details.ids ?? []) as string[])].sort()).toEqual([ids[0], ids[2]].sort());

    const shown = await cli.json<ShownRecord>(['show', ids[0] as string]);
    expect(shown).toMatchObject({
      kind: 'tombstone',
      tombstone: { id: ids[0], queue: 'orders', groupId: 'g-bug', actor: 'ada' },
    });
    const human = await cli.run(['show', ids[0] as string]);
    expect(human.stdout).toMatch(/was discarded by ada at .*: test orders from the DE staging shop/);
  });

  it('resolves a group discarded whole', async () => {
    const report = await cli.json<DiscardReport>(['discard', '--group', 'g-bug', '--reason', 'fixed in 2.3']);
    expect(report).toMatchObject({ discarded: 4, resolvedGroup: 'g-bug' });
    const group = await cli.json<{ status: string; deadCount: number }>(['group', 'show', 'g-bug']);
    expect(group).toMatchObject({ status: 'resolved', deadCount: 0 });
  });

  it('refuses bad input with exit 2 and changes nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['discard', '--queue', 'orders'], /a discard needs a reason/],
      [['discard', '--queue', 'orders', '--reason', ' '], /a discard needs a reason/],
      [['discard', '--reason', 'everything'], /select the dead letters to discard/],
      [['discard', '--group', 'nope', '--reason', 'r'], /unknown group "nope"/],
      [['discard', '--queue', 'nope', '--reason', 'r'], /unknown queue "nope"/],
      [
        ['discard', '--ids', `${ids[0]},missing-1`, '--reason', 'r'],
        /a dead letter is not in the DLQ: missing-1/,
      ],
      [['discard', '--where', 'customer=DE', '--reason', 'r'], /invalid --where/],
      [['discard', '--tier', 'bogus', '--reason', 'r'], /unknown tier "bogus"/],
      [
        ['discard', '--grep', 'no such error', '--reason', 'r'],
        /no dead letter matches the selection: nothing was discarded/,
      ],
      [['discard', '--queue', 'orders', '--reason', 'r', '--batch-size', '0'], /invalid --batch-size/],
    ];
    for (const [args, message] of cases) {
      const result = await cli.run(args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe('');
    }
    expect(await statsOf('orders')).toMatchObject({ dead: 4, discarded: 0 });
    expect((await cli.json<{ items: AuditEntry[] }>(['audit', '--action', 'discard'])).items).toEqual([]);
  });

  it('says when a dry run matches nothing, and refuses a discarded id naming who discarded it', async () => {
    const none = await cli.run(['discard', '--grep', 'no such error', '--dry-run']);
    expect(none).toMatchObject({ code: 0 });
    expect(none.stdout).toMatch(/no dead letter matches the selection: nothing would be discarded/);
    await cli.run(['discard', '--ids', ids[4] as string, '--reason', 'spam', '--actor', 'eve']);
    const again = await cli.run(['discard', '--ids', ids[4] as string, '--reason', 'again']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/not in the DLQ: .* \(discarded by eve at .*: spam\)/);
  });

  it('needs --yes above 100 dead letters', async () => {
    await seedDeadLetters(
      cli.storeUrl,
      Array.from({ length: 101 }, () => ({ queue: 'emails', groupId: 'g-many' })),
    );
    const refused = await cli.run(['discard', '--group', 'g-many', '--reason', 'noise']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/101 dead letters would be discarded: add --yes/);
    expect((await statsOf('emails')).dead).toBe(102);
    const done = await cli.json<DiscardReport>([
      'discard',
      '--group',
      'g-many',
      '--reason',
      'noise',
      '--yes',
      '--batch-size',
      '40',
    ]);
    expect(done).toMatchObject({ discarded: 101, skipped: 0 });
    expect((await cli.json<{ items: AuditEntry[] }>(['audit', '--action', 'discard'])).items).toHaveLength(3);
  });

  it('draws a progress bar on a terminal stderr only', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const stderr = Object.assign(
      { write: (text: string) => err.push(text) > 0 },
      { isTTY: true, columns: 100 },
    );
    const code = await runCli(['discard', '--queue', 'orders', '--reason', 'r'], {
      stdout: { write: (text: string) => out.push(text) > 0 },
      stderr,
      env: { DEADLETTER_STORE: cli.storeUrl },
      cwd: cli.dir,
    });
    expect(code).toBe(0);
    expect(err.join('')).toMatch(/discarding \[/);
    expect(out.join('')).toMatch(/^discarded 4 dead letters/);
    // Not a terminal (the harness's captures): no bar.
    const piped = await cli.run(['discard', '--queue', 'emails', '--reason', 'r']);
    expect(piped.stderr).toBe('');
  });
});
