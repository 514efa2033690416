import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShownRecord } from '../../src/cli/commands/show.ts';
import type { DeadLetterSummary } from '../../src/core/dead-letter.ts';
import type { Group } from '../../src/core/group.ts';
import { TIERS } from '../../src/core/tier.ts';
import { type CliFixture, cliFixture } from './harness.ts';

interface Page {
  items: DeadLetterSummary[];
  nextCursor: string | null;
}

let cli: CliFixture;

/**
 * Dead letters of three kinds: 6 TypeErrors (a bug, retried then permanent), 3 declared
 * permanent failures, 2 malformed bodies; plus 4 successes.
 */
beforeAll(async () => {
  cli = cliFixture();
  writeFileSync(
    join(cli.dir, 'handler.mjs'),
    `export default async function handle(message) {
  const { kind, order } = message.body;
  if (kind === 'bug') return message.body.customer.email;
  if (kind === 'declined') {
    const error = new Error('card declined for order ' + order);
    error.name = 'PermanentError';
    error.code = 'card_declined';
    error.status = 402;
    throw error;
  }
  if (kind === 'malformed') JSON.parse('{"order": ' + order);
}
`,
  );
  await cli.run(['queue', 'create', 'orders', '--max-receives', '2', '--backoff', 'fixed:0']);
  await cli.run(['queue', 'create', 'refunds', '--max-receives', '1']);
  const orders = [
    ...Array.from({ length: 4 }, (_, order) => ({ kind: 'ok', order })),
    ...Array.from({ length: 4 }, (_, order) => ({ kind: 'bug', order })),
    ...Array.from({ length: 3 }, (_, order) => ({ kind: 'declined', order })),
    ...Array.from({ length: 2 }, (_, order) => ({ kind: 'malformed', order })),
  ];
  const stdin = orders.map((body) => JSON.stringify(body)).join('\n');
  expect((await cli.run(['send', 'orders', '--header', 'tenant=acme'], { stdin })).code).toBe(0);
  await cli.run(['send', 'refunds'], { stdin: '{"kind":"bug"}\n{"kind":"bug"}\n' });
  for (const queue of ['orders', 'refunds']) {
    const worked = await cli.run([
      'work',
      queue,
      '--handler',
      'handler.mjs',
      '--drain',
      '--poll-interval',
      '20ms',
    ]);
    expect(worked.code).toBe(0);
  }
});
afterAll(() => cli.remove());

describe('dlq list', () => {
  it('lists every dead letter, newest first, as JSON', async () => {
    const page = await cli.json<Page>(['list']);
    expect(page.items).toHaveLength(11);
    expect(page.nextCursor).toBeNull();
    const diedAt = page.items.map((item) => item.diedAt);
    expect([...diedAt].sort((a, b) => b - a)).toEqual(diedAt);
  });

  it('filters by queue, tier, group and error text', async () => {
    expect((await cli.json<Page>(['list', '--queue', 'refunds'])).items).toHaveLength(2);
    expect((await cli.json<Page>(['list', '--tier', 'malformed'])).items).toHaveLength(2);
    const declined = await cli.json<Page>(['list', '--grep', 'CARD DECLINED']);
    expect(declined.items).toHaveLength(3);
    expect(declined.items.every((item) => item.tier === 'permanent')).toBe(true);
    const groupId = declined.items[0]?.groupId ?? '';
    expect((await cli.json<Page>(['list', '--group', groupId])).items).toHaveLength(3);
  });

  it('filters by time: relative durations and ISO times', async () => {
    expect((await cli.json<Page>(['list', '--since', '1h'])).items).toHaveLength(11);
    expect((await cli.json<Page>(['list', '--until', '1h'])).items).toHaveLength(0);
    expect(
      (await cli.json<Page>(['list', '--since', '2000-01-01T00:00:00Z', '--until', '2999-01-01'])).items,
    ).toHaveLength(11);
    expect((await cli.json<Page>(['list', '--since', '2999-01-01'])).items).toHaveLength(0);
  });

  it('pages with --limit and --cursor, without gaps or repeats', async () => {
    const all = (await cli.json<Page>(['list'])).items.map((item) => item.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const args: string[] = ['list', '--limit', '4', ...(cursor ? ['--cursor', cursor] : [])];
      const page: Page = await cli.json<Page>(args);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
  });

  it('prints a table with the next-cursor hint', async () => {
    const result = await cli.run(['list', '--limit', '3']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+QUEUE\s+TIER\s+GROUP\s+DIED\s+ATTEMPTS\s+ERROR$/);
    expect(lines).toHaveLength(1 + 3 + 2);
    expect(lines.at(-1)).toMatch(/^more: dlq list --cursor \S+/);
  });

  it.each([
    [['list', '--tier', 'fatal'], new RegExp(`unknown tier "fatal": use one of ${TIERS.join(', ')}`)],
    [['list', '--since', 'yesterday'], /invalid --since "yesterday"/],
    [['list', '--until', '12'], /invalid --until "12"/],
    [['list', '--limit', '5000'], /invalid --limit "5000"/],
    [['list', '--cursor', 'garbage'], /invalid cursor/],
    [['list', '--colour'], /unknown option '--colour'/],
  ])('refuses %j with exit 2', async (args, reason) => {
    const result = await cli.run(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(reason);
  });
});

describe('dlq show', () => {
  it('shows a dead letter with its context as JSON', async () => {
    const [item] = (await cli.json<Page>(['list', '--grep', "reading 'email'", '--queue', 'orders'])).items;
    const shown = await cli.json<ShownRecord>(['show', item?.id ?? '']);
    if (shown.kind !== 'dead-letter') throw new Error('expected a dead letter');
    expect(shown.deadLetter.attempts).toHaveLength(2);
    expect(shown.deadLetter.headers).toEqual({ tenant: 'acme' });
    expect(shown.group?.id).toBe(item?.groupId);
  });

  it('shows the context for people: error, attempts, headers, body and stack', async () => {
    const [item] = (await cli.json<Page>(['list', '--grep', 'declined', '--limit', '1'])).items;
    const result = await cli.run(['show', item?.id ?? '']);
    expect(result.code).toBe(0);
    const text = result.stdout;
    expect(text).toMatch(new RegExp(`^dead letter ${item?.id}\\n`));
    expect(text).toMatch(/\n {2}queue +orders\n/);
    expect(text).toMatch(/\n {2}tier +permanent\n/);
    expect(text).toMatch(/\n {2}died +\d{4}-\d\d-\d\dT[\d:]+Z \(.*\)\n/);
    expect(text).toMatch(
      /\nerror\n {2}PermanentError: card declined for order \d\n {2}code card_declined, status 402\n/,
    );
    expect(text).toMatch(/\nattempts \(1\)\n {2}#1 +\S+ +\S+\n {4}worker \S+ \(version unknown\) on \S+\n/);
    expect(text).toMatch(/\nheaders\n {2}tenant: acme\n/);
    expect(text).toMatch(/\nbody\n {2}\{\n {4}"kind": "declined",/);
    expect(text).toMatch(/\nstack \(final error\)\n {2}at .*handle.* \(.*handler\.mjs:\d+:\d+\)/);
  });

  it('shows a live message when the id is not dead', async () => {
    const [sent] = await cli.json<{ id: string }[]>(['send', 'refunds', '--body', '{"kind":"ok"}']);
    const shown = await cli.json<ShownRecord>(['show', sent?.id ?? '']);
    expect(shown).toMatchObject({ kind: 'message', message: { id: sent?.id, state: 'waiting' } });
  });

  it('refuses an unknown id (exit 2)', async () => {
    const result = await cli.run(['show', '01900000-0000-7000-8000-000000000000']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'dlq: no dead letter or message with id "01900000-0000-7000-8000-000000000000" ' +
        "(unknown, or a message that succeeded and was pruned after its queue's done retention)\n",
    );
  });
});

describe('dlq groups and dlq group', () => {
  it('lists groups by count, with their tier and queues', async () => {
    const groups = await cli.json<Group[]>(['groups']);
    expect(groups.map((group) => [group.tier, group.count])).toEqual([
      ['permanent', 6],
      ['permanent', 3],
      ['malformed', 2],
    ]);
    expect(groups[0]?.queues.sort()).toEqual(['orders', 'refunds']);
    expect(groups[0]?.errorName).toBe('TypeError');
  });

  it('filters by queue, tier and status, and sorts by last seen', async () => {
    expect((await cli.json<Group[]>(['groups', '--queue', 'refunds'])).map((group) => group.count)).toEqual([
      6,
    ]);
    expect((await cli.json<Group[]>(['groups', '--tier', 'malformed'])).map((group) => group.count)).toEqual([
      2,
    ]);
    const byLastSeen = await cli.json<Group[]>(['groups', '--sort', 'last-seen']);
    const lastSeen = byLastSeen.map((group) => group.lastSeen);
    expect([...lastSeen].sort((a, b) => b - a)).toEqual(lastSeen);
    expect(await cli.json<Group[]>(['groups', '--limit', '1'])).toHaveLength(1);
  });

  it('acks, resolves and ignores groups', async () => {
    const [bug, declined, malformed] = await cli.json<Group[]>(['groups']);
    const acked = await cli.run(['group', 'ack', bug?.id ?? '']);
    expect(acked.code).toBe(0);
    expect(acked.stdout).toBe(`group ${bug?.id} is now acknowledged\n`);
    expect(await cli.json<Group>(['group', 'resolve', declined?.id ?? ''])).toMatchObject({
      status: 'resolved',
    });
    expect(await cli.json<Group>(['group', 'ignore', malformed?.id ?? ''])).toMatchObject({
      status: 'ignored',
    });
    const acknowledged = await cli.json<Group[]>(['groups', '--status', 'acknowledged']);
    expect(acknowledged.map((group) => group.id)).toEqual([bug?.id]);
    const shown = await cli.run(['group', 'show', declined?.id ?? '']);
    expect(shown.stdout).toMatch(/\n {2}status +resolved/);
    expect(shown.stdout).toMatch(/\n {2}count +3 ever, 3 in the DLQ now/);
  });

  it('prints a table of groups', async () => {
    const result = await cli.run(['groups']);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^GROUP\s+STATUS\s+TIER\s+COUNT\s+IN DLQ\s+LAST SEEN\s+QUEUES\s+ERROR$/);
    expect(lines[1]).toMatch(/\sacknowledged\s+permanent\s+6\s+6\s+.*\sorders,refunds\s+TypeError: /);
  });

  it.each([
    [['groups', '--status', 'open'], /unknown group status "open": use one of new, acknowledged/],
    [['groups', '--tier', 'bad'], /unknown tier "bad"/],
    [['groups', '--sort', 'size'], /unknown --sort "size": use count or last-seen/],
    [['group', 'ack', 'g_nope'], /group/],
    [['group', 'close', 'g_nope'], /unknown command 'close'/],
  ])('refuses %j with exit 2', async (args, reason) => {
    const result = await cli.run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(reason);
  });
});
