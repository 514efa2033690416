import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ShownRecord } from '../../src/cli/commands/show.ts';
import type { AuditEntry } from '../../src/core/audit.ts';
import type { QueueDocs } from '../../src/core/queue-docs.ts';
import type { DeadLetterEditResult } from '../../src/engine/dead-letter-edit.ts';
import { type CliFixture, cliFixture } from './harness.ts';
import { seedDeadLetters } from './seed.ts';

interface AuditPage {
  items: AuditEntry[];
  nextCursor: string | null;
}

let cli: CliFixture;

beforeEach(async () => {
  cli = cliFixture();
  await cli.run(['queue', 'create', 'orders', '--actor', 'ada']);
});
afterEach(() => cli.remove());

describe('dlq edit', () => {
  it('replaces the body from --body or stdin, keeping the original and the history', async () => {
    const [id] = (await seedDeadLetters(cli.storeUrl, [
      { queue: 'orders', body: { amount: '12,50', currency: 'EUR' } },
    ])) as [string];
    const human = await cli.run(['edit', id, '--body', '{"amount":1250,"currency":"EUR"}', '--actor', 'bob']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`edited dead letter ${id} (edit 1; the body it died with is kept)`);
    expect(human.stdout).toContain('  ~ amount: "12,50" → 1250');

    const piped = await cli.json<DeadLetterEditResult>(['edit', id], {
      stdin: '{"amount": 1250, "currency": "USD"}\n',
    });
    expect(piped.changes).toEqual([{ path: 'currency', kind: 'changed', before: 'EUR', after: 'USD' }]);

    const shown = await cli.json<ShownRecord>(['show', id]);
    if (shown.kind !== 'dead-letter') throw new Error('expected a dead letter');
    expect(shown.deadLetter.body).toEqual({ amount: 1250, currency: 'USD' });
    expect(shown.deadLetter.originalBody).toEqual({ amount: '12,50', currency: 'EUR' });
    expect(shown.deadLetter.edits?.map((e) => e.actor)).toEqual(['bob', expect.any(String)]);
    expect((await cli.run(['show', id])).stdout).toMatch(/original body \(as it died\)/);

    const audit = await cli.json<AuditPage>(['audit', '--action', 'dead_letter.edit']);
    expect(audit.items.map((e) => [e.targetId, e.details.edit])).toEqual([
      [id, 2],
      [id, 1],
    ]);
  });

  it('refuses bad input with exit 2 and changes nothing', async () => {
    const [id, gone] = (await seedDeadLetters(cli.storeUrl, [{ queue: 'orders' }, { queue: 'orders' }])) as [
      string,
      string,
    ];
    await cli.run(['discard', '--ids', gone, '--reason', 'junk', '--actor', 'eve']);
    const cases: [string[], RegExp, string?][] = [
      [['edit', id, '--body', '{"a":'], /--body is not valid JSON/],
      [['edit', id], /stdin is empty|give the new body/],
      [['edit', id], /stdin is not valid JSON/, 'not json'],
      [['edit', 'nope', '--body', '{}'], /unknown dead letter "nope"/],
      [['edit', gone, '--body', '{}'], /was discarded by eve at .*: junk/],
    ];
    for (const [args, message, stdin] of cases) {
      const result = await cli.run(args, stdin === undefined ? {} : { stdin });
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
    }
    const shown = await cli.json<ShownRecord>(['show', id]);
    expect(shown.kind === 'dead-letter' && shown.deadLetter.edits).toEqual([]);
  });
});

describe('dlq docs', () => {
  it('sets fields, reads the runbook from a file or stdin, and shows them', async () => {
    writeFileSync(join(cli.dir, 'runbook.md'), '# Orders\n\n1. `dlq groups --queue orders`\n');
    const set = await cli.run([
      'docs',
      'set',
      'orders',
      '--owner',
      'checkout team',
      '--contact',
      '#checkout-oncall',
      '--failure-meaning',
      'an order was not confirmed',
      '--runbook-file',
      'runbook.md',
    ]);
    expect(set).toMatchObject({ code: 0 });
    expect(set.stdout).toMatch(
      /updated the documentation of orders: owner, contact, failure meaning, runbook/,
    );
    const docs = await cli.json<QueueDocs>(['docs', 'show', 'orders']);
    expect(docs).toMatchObject({
      owner: 'checkout team',
      contact: '#checkout-oncall',
      failureMeaning: 'an order was not confirmed',
      runbook: '# Orders\n\n1. `dlq groups --queue orders`',
      source: null,
    });
    await cli.run(['docs', 'set', 'orders', '--runbook', '-'], { stdin: '# New runbook\n' });
    const human = await cli.run(['docs', 'show', 'orders']);
    expect(human.stdout).toMatch(/owner: +checkout team/);
    expect(human.stdout).toMatch(/runbook:\n# New runbook/);
    const audit = await cli.json<AuditPage>(['audit', '--action', 'queue.docs']);
    expect(audit.items).toHaveLength(2);
  });

  it('says when a queue has no documentation, and refuses bad input with exit 2', async () => {
    expect((await cli.run(['docs', 'show', 'orders'])).stdout).toMatch(
      /no documentation for orders yet: dlq docs set orders/,
    );
    const cases: [string[], RegExp][] = [
      [['docs', 'show', 'nope'], /unknown queue "nope"/],
      [['docs', 'set', 'nope', '--owner', 'x'], /does not exist|unknown queue/],
      [['docs', 'set', 'orders'], /nothing to set/],
      [['docs', 'set', 'orders', '--runbook-file', 'missing.md'], /cannot read --runbook-file missing.md/],
      [['docs', 'set', 'orders', '--runbook', 'x', '--runbook-file', 'y.md'], /give the runbook once/],
    ];
    for (const [args, message] of cases) {
      const result = await cli.run(args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
    }
  });
});

describe('dlq audit', () => {
  it('lists every change with its actor, filtered and paged', async () => {
    await cli.run(['queue', 'update', 'orders', '--retention', '21d', '--actor', 'bob']);
    await seedDeadLetters(cli.storeUrl, [{ queue: 'orders', groupId: 'g1' }]);
    await cli.run(['group', 'ack', 'g1'], { env: { DEADLETTER_ACTOR: 'carol' } });

    const all = await cli.json<AuditPage>(['audit']);
    expect(all.items.map((e) => [e.action, e.actor, e.targetId])).toEqual([
      ['group.status', 'carol', 'g1'],
      ['queue.update', 'bob', 'orders'],
      ['queue.create', 'ada', 'orders'],
    ]);
    expect(all.items[1]?.details).toEqual({ from: { retentionDays: 14 }, to: { retentionDays: 21 } });
    expect((await cli.json<AuditPage>(['audit', '--actor', 'bob'])).items.map((e) => e.action)).toEqual([
      'queue.update',
    ]);
    expect((await cli.json<AuditPage>(['audit', '--target', 'g1'])).items).toHaveLength(1);
    const page = await cli.json<AuditPage>(['audit', '--limit', '2']);
    expect(page.items).toHaveLength(2);
    const rest = await cli.json<AuditPage>(['audit', '--limit', '2', '--cursor', page.nextCursor as string]);
    expect(rest).toMatchObject({ nextCursor: null, items: [{ action: 'queue.create' }] });

    const table = await cli.run(['audit']);
    expect(table.stdout.split('\n')[0]).toMatch(/^AT +ACTOR +ACTION +TARGET +DETAILS$/);
    expect(table.stdout).toMatch(/carol +group\.status +group g1 +new → acknowledged/);
    expect((await cli.run(['audit', '--since', '2000-01-01', '--until', '2000-01-02'])).stdout).toBe(
      'no audit entries\n',
    );
  });

  it('refuses bad filters with exit 2', async () => {
    for (const [args, message] of [
      [['audit', '--action', 'explode'], /unknown --action "explode"/],
      [['audit', '--limit', '0'], /invalid --limit/],
      [['audit', '--since', 'yesterday'], /invalid --since/],
      [['audit', '--cursor', 'abc'], /invalid cursor/],
    ] as [string[], RegExp][]) {
      const result = await cli.run(args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
    }
  });
});
