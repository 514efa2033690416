import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkSummary } from '../../src/cli/commands/work.ts';
import type { QueueStats } from '../../src/store/store.ts';
import { type CliFixture, cliFixture } from './harness.ts';

let cli: CliFixture;
beforeAll(() => {
  cli = cliFixture();
  writeFileSync(
    join(cli.dir, 'handler.mjs'),
    `export default async function handle(message) {
  const { kind } = message.body;
  if (kind === 'bug') {
    const account = undefined;
    return account.email;
  }
  if (kind === 'declined') {
    const error = new Error('Your card was declined.');
    error.name = 'PermanentError';
    throw error;
  }
  if (kind === 'flaky' && message.receives < 2) {
    throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  }
}
`,
  );
  const errorsModule = pathToFileURL(resolve('src/core/errors.ts')).href;
  writeFileSync(
    join(cli.dir, 'handler.ts'),
    `import { MalformedError } from ${JSON.stringify(errorsModule)};

interface Order {
  orderId: number;
}

export default function handle(message: { body: Order | string }): void {
  if (typeof message.body === 'string') throw new MalformedError('order is not an object');
}
`,
  );
  writeFileSync(join(cli.dir, 'no-default.mjs'), 'export const handle = () => {};\n');
  writeFileSync(join(cli.dir, 'slow.mjs'), 'export default () => new Promise((r) => setTimeout(r, 20));\n');
});
afterAll(() => cli.remove());

async function statsOf(queue: string): Promise<QueueStats> {
  const row = (await cli.json<QueueStats[]>(['stats'])).find((entry) => entry.queue === queue);
  if (!row) throw new Error(`no stats for ${queue}`);
  return row;
}

function lines(bodies: unknown[]): string {
  return `${bodies.map((body) => JSON.stringify(body)).join('\n')}\n`;
}

describe('dlq work', () => {
  it('runs a .mjs handler until drained: successes done, failures dead', async () => {
    await cli.run(['queue', 'create', 'orders', '--max-receives', '3', '--backoff', 'fixed:0']);
    const bodies = [
      ...Array.from({ length: 10 }, () => ({ kind: 'ok' })),
      ...Array.from({ length: 3 }, () => ({ kind: 'bug' })),
      ...Array.from({ length: 2 }, () => ({ kind: 'declined' })),
      ...Array.from({ length: 4 }, () => ({ kind: 'flaky' })),
    ];
    expect((await cli.run(['send', 'orders'], { stdin: lines(bodies) })).code).toBe(0);
    const summary = await cli.json<WorkSummary>([
      'work',
      'orders',
      '--handler',
      './handler.mjs',
      '--drain',
      '--concurrency',
      '4',
      '--worker-version',
      'v1.2.3',
      '--poll-interval',
      '20ms',
    ]);
    expect(summary.stoppedBy).toBe('drain');
    expect(summary.counters).toMatchObject({ completed: 14, deadLettered: 5, retried: 4 + 3 * 2 });
    expect(await statsOf('orders')).toMatchObject({ waiting: 0, delayed: 0, leased: 0, done: 14, dead: 5 });
  });

  it('records the worker version on the attempts', async () => {
    const page = await cli.json<{ items: { id: string }[] }>([
      'list',
      '--queue',
      'orders',
      '--grep',
      'declined',
    ]);
    expect(page.items).toHaveLength(2);
    const shown = await cli.json<{ deadLetter: { attempts: { workerVersion: string }[] } }>([
      'show',
      page.items[0]?.id ?? '',
    ]);
    expect(shown.deadLetter.attempts.map((attempt) => attempt.workerVersion)).toEqual(['v1.2.3']);
  });

  it('runs a .ts handler module and prints a summary', async () => {
    await cli.run(['queue', 'create', 'typed', '--max-receives', '2']);
    await cli.run(['send', 'typed'], { stdin: lines([{ orderId: 1 }, { orderId: 2 }, 'not an order']) });
    const result = await cli.run([
      'work',
      'typed',
      '--handler',
      'handler.ts',
      '--drain',
      '--poll-interval',
      '20ms',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/stopped \(drain\): claimed 3, completed 2, retried 0, dead-lettered 1/);
    expect(await statsOf('typed')).toMatchObject({ done: 2, dead: 1 });
    const dead = await cli.json<{ items: { tier: string }[] }>(['list', '--queue', 'typed']);
    expect(dead.items.map((item) => item.tier)).toEqual(['malformed']);
  });

  it('stops gracefully on a shutdown request and exits 0', async () => {
    await cli.run(['queue', 'create', 'endless']);
    await cli.run(['send', 'endless'], { stdin: lines(Array.from({ length: 5 }, (_, n) => ({ n }))) });
    const shutdown = new EventEmitter();
    const running = cli.run(
      ['work', 'endless', '--handler', 'slow.mjs', '--poll-interval', '20ms', '--json'],
      {
        shutdown,
      },
    );
    for (let tries = 0; (await statsOf('endless')).done < 5; tries++) {
      if (tries > 200) throw new Error('the worker did not finish the messages');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(shutdown.listenerCount('shutdown')).toBe(1);
    shutdown.emit('shutdown');
    const result = await running;
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ stoppedBy: 'shutdown', counters: { completed: 5 } });
    expect(result.stderr).toMatch(/stopping/);
    expect(shutdown.listenerCount('shutdown')).toBe(0);
  });

  it.each([
    [['work', 'orders', '--handler', 'missing.mjs'], /handler module .*missing\.mjs does not exist/],
    [['work', 'orders', '--handler', 'no-default.mjs'], /has no default export function/],
    [['work', 'nope', '--handler', 'handler.mjs', '--drain'], /unknown queue "nope"/],
    [['work', 'orders', '--handler', 'handler.mjs', '--concurrency', '0'], /--concurrency "0"/],
    [['work', 'orders', '--handler', 'handler.mjs', '--poll-interval', 'often'], /--poll-interval "often"/],
    [['work', 'orders'], /required option '--handler <module>' not specified/],
  ])('refuses %j with exit 2', async (args, reason) => {
    const result = await cli.run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
