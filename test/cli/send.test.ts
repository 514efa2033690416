import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueStats } from '../../src/store/store.ts';
import { type CliFixture, cliFixture } from './harness.ts';

let cli: CliFixture;
beforeAll(async () => {
  cli = cliFixture();
  expect((await cli.run(['queue', 'create', 'jobs'])).code).toBe(0);
});
afterAll(() => cli.remove());

async function statsOf(queue: string): Promise<QueueStats> {
  const stats = await cli.json<QueueStats[]>(['stats']);
  const row = stats.find((entry) => entry.queue === queue);
  if (!row) throw new Error(`no stats for ${queue}`);
  return row;
}

interface SendResult {
  id: string;
  deduplicated: boolean;
}

interface ShownMessage {
  kind: string;
  message: { body: unknown; headers: Record<string, string>; idempotencyKey: string | null; state: string };
}

describe('dlq send', () => {
  it('sends one --body and prints its id', async () => {
    const result = await cli.run(['send', 'jobs', '--body', '{"to":"a@example.com"}']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    expect((await statsOf('jobs')).waiting).toBe(1);
  });

  it('sends headers and an idempotency key, deduplicating a second send', async () => {
    const args = ['send', 'jobs', '--body', '{"n":1}', '--header', 'trace=abc', '--header', 'source=cli'];
    const [first] = await cli.json<SendResult[]>([...args, '--idempotency-key', 'order-1']);
    const [second] = await cli.json<SendResult[]>([...args, '--idempotency-key', 'order-1']);
    expect(first?.deduplicated).toBe(false);
    expect(second).toEqual({ id: first?.id, deduplicated: true });
    const shown = await cli.json<ShownMessage>(['show', first?.id ?? '']);
    expect(shown.kind).toBe('message');
    expect(shown.message).toMatchObject({
      body: { n: 1 },
      headers: { trace: 'abc', source: 'cli' },
      idempotencyKey: 'order-1',
      state: 'waiting',
    });
    const human = await cli.run(['show', first?.id ?? '']);
    expect(human.stdout).toMatch(/^message .* \(not dead\)/);
    expect(human.stdout).toMatch(/trace: abc/);
  });

  it('delays messages with --delay', async () => {
    const before = await statsOf('jobs');
    expect((await cli.run(['send', 'jobs', '--body', '"later"', '--delay', '1h'])).code).toBe(0);
    const after = await statsOf('jobs');
    expect(after.delayed).toBe(before.delayed + 1);
    expect(after.waiting).toBe(before.waiting);
  });

  it('sends one message per stdin line in one batch, skipping blank lines', async () => {
    const before = await statsOf('jobs');
    const stdin = '{"n":1}\n\n  \n{"n":2}\r\n[1,2,3]\n"text"\n';
    const results = await cli.json<SendResult[]>(['send', 'jobs'], { stdin });
    expect(results).toHaveLength(4);
    expect(new Set(results.map((entry) => entry.id)).size).toBe(4);
    expect((await statsOf('jobs')).waiting).toBe(before.waiting + 4);
  });

  it('refuses stdin with one invalid line, naming it, and sends nothing', async () => {
    const before = await statsOf('jobs');
    const result = await cli.run(['send', 'jobs'], { stdin: '{"n":1}\n{"n":2}\n\n{"n":\n{"n":4}\n' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^dlq: line 4 of stdin is not valid JSON .*nothing was sent\n$/);
    expect(result.stdout).toBe('');
    expect(await statsOf('jobs')).toEqual(before);
  });

  it('refuses an invalid --body (exit 2) and sends nothing', async () => {
    const before = await statsOf('jobs');
    const result = await cli.run(['send', 'jobs', '--body', '{to: a}']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^dlq: --body is not valid JSON/);
    expect(await statsOf('jobs')).toEqual(before);
  });

  it('refuses an unknown queue (exit 2)', async () => {
    const result = await cli.run(['send', 'nope', '--body', '{}']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('dlq: unknown queue "nope"\n');
  });

  it('refuses a bad --delay or --header (exit 2)', async () => {
    const delay = await cli.run(['send', 'jobs', '--body', '{}', '--delay', 'tomorrow']);
    expect(delay.code).toBe(2);
    expect(delay.stderr).toMatch(/--delay "tomorrow"/);
    const header = await cli.run(['send', 'jobs', '--body', '{}', '--header', 'novalue']);
    expect(header.code).toBe(2);
    expect(header.stderr).toMatch(/--header "novalue": use name=value/);
  });

  it('refuses an idempotency key for many lines, and empty stdin', async () => {
    const many = await cli.run(['send', 'jobs', '--idempotency-key', 'k'], { stdin: '1\n2\n' });
    expect(many.code).toBe(2);
    expect(many.stderr).toMatch(/--idempotency-key names one message/);
    const empty = await cli.run(['send', 'jobs'], { stdin: '\n\n' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/nothing to send/);
    const none = await cli.run(['send', 'jobs']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/give a body with --body/);
  });

  it('refuses a body over the size limit as a whole batch (exit 2)', async () => {
    const before = await statsOf('jobs');
    const big = JSON.stringify({ blob: 'x'.repeat(1024 * 1024 + 10) });
    const result = await cli.run(['send', 'jobs'], { stdin: `{"n":1}\n${big}\n` });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/message 2/);
    expect(await statsOf('jobs')).toEqual(before);
  });
});
