import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueRecord } from '../../src/core/queue-settings.ts';
import type { QueueStats } from '../../src/store/store.ts';
import { type CliFixture, cliFixture } from './harness.ts';

let cli: CliFixture;
beforeAll(() => {
  cli = cliFixture();
});
afterAll(() => cli.remove());

describe('dlq migrate', () => {
  it('creates the store, then reports that the schema is current', async () => {
    const first = await cli.json<{ from: number; to: number; applied: string[] }>(['migrate']);
    expect(first.from).toBe(0);
    expect(first.to).toBeGreaterThanOrEqual(1);
    expect(first.applied[0]).toBe('0001_init');
    const again = await cli.run(['migrate']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/is current, nothing to do/);
  });
});

describe('dlq queue', () => {
  it('creates a queue with the given settings', async () => {
    const record = await cli.json<QueueRecord>([
      'queue',
      'create',
      'emails',
      '--max-receives',
      '3',
      '--visibility-timeout',
      '45s',
      '--backoff',
      'exponential:2s:1m',
      '--retention',
      '21d',
    ]);
    expect(record).toMatchObject({
      name: 'emails',
      maxReceives: 3,
      visibilityTimeoutMs: 45_000,
      backoff: { type: 'exponential', baseMs: 2_000, capMs: 60_000 },
      deadLetter: true,
      retentionDays: 21,
    });
  });

  it('prints a readable line without --json', async () => {
    const result = await cli.run(['queue', 'create', 'payments']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^created queue payments: max receives 5, visibility timeout 30s/);
    expect(result.stderr).toBe('');
  });

  it('refuses a name that exists (exit 2, conflict)', async () => {
    const result = await cli.run(['queue', 'create', 'emails']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^dlq: .*emails.*\n$/);
    expect(result.stdout).toBe('');
  });

  it('updates only the given settings, including --no-dead-letter, with a warning', async () => {
    const result = await cli.run([
      'queue',
      'update',
      'emails',
      '--no-dead-letter',
      '--backoff',
      'fixed:0',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const record = JSON.parse(result.stdout) as QueueRecord;
    expect(record).toMatchObject({
      maxReceives: 3,
      deadLetter: false,
      backoff: { type: 'fixed', delayMs: 0 },
    });
    expect(result.stderr).toMatch(/dlq: warning: queue emails has no DLQ/);
    const back = await cli.json<QueueRecord>(['queue', 'update', 'emails', '--dead-letter']);
    expect(back.deadLetter).toBe(true);
  });

  it('warns on retention under 7 days, on stderr only', async () => {
    const result = await cli.run(['queue', 'update', 'payments', '--retention', '3d', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ retentionDays: 3 });
    expect(result.stderr).toMatch(
      /dead letters will leave the DLQ for the archive before most teams look at them/,
    );
  });

  it('refuses an update of an unknown queue (exit 2)', async () => {
    const result = await cli.run(['queue', 'update', 'nope', '--max-receives', '2']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^dlq: .*queue "nope".*\n$/);
  });

  it('sets how long done messages are kept (--done-retention), 0 deleting them at once', async () => {
    const updated = await cli.json<QueueRecord>(['queue', 'update', 'payments', '--done-retention', '10m']);
    expect(updated.doneRetentionMs).toBe(600_000);
    const eager = await cli.run(['queue', 'update', 'emails', '--done-retention', '0']);
    expect(eager.stdout).toMatch(/done messages kept 0\n$/);
    await cli.json<QueueRecord>(['queue', 'update', 'emails', '--done-retention', '1h']);
    const queues = await cli.json<QueueRecord[]>(['queue', 'list']);
    expect(queues.map((q) => [q.name, q.doneRetentionMs])).toEqual([
      ['emails', 3_600_000],
      ['payments', 600_000],
    ]);
  });

  it('refuses an update with nothing to change (exit 2)', async () => {
    const result = await cli.run(['queue', 'update', 'emails']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/nothing to update/);
  });

  it.each([
    [['--visibility-timeout', 'soon'], /visibility timeout "soon"/],
    [['--retention', '2 weeks'], /retention "2 weeks"/],
    [['--backoff', 'linear:1s'], /invalid backoff "linear:1s"/],
    [['--max-receives', 'many'], /--max-receives "many"/],
    [['--max-receives', '0'], /--max-receives "0"/],
    [['--done-retention', 'a while'], /done retention "a while"/],
    [['--done-retention', '400d'], /invalid done retention: use 0 \(delete at once\) to 365d/],
  ])('refuses bad settings %j (exit 2) and creates nothing', async (flags, reason) => {
    const result = await cli.run(['queue', 'create', 'bad-settings', ...flags]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    const queues = await cli.json<QueueRecord[]>(['queue', 'list']);
    expect(queues.map((queue) => queue.name)).not.toContain('bad-settings');
  });

  it('refuses an invalid queue name (exit 2)', async () => {
    const result = await cli.run(['queue', 'create', 'has space']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/invalid queue name/);
  });

  it('lists queues as JSON and as a table', async () => {
    const queues = await cli.json<QueueRecord[]>(['queue', 'list']);
    expect(queues.map((queue) => queue.name)).toEqual(['emails', 'payments']);
    const table = await cli.run(['queue', 'list']);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^QUEUE\s+MAX RECEIVES\s+VISIBILITY\s+BACKOFF\s+DLQ\s+RETENTION\s+REPLAY LIMIT\s+DONE KEPT$/,
    );
    expect(lines[1]).toMatch(/^emails\s+3\s+45s\s+fixed:0ms\s+on\s+21d\s+3\s+1h$/);
    expect(lines[2]).toMatch(/^payments\s+5\s+30s\s+exponential:1s:5m\s+on\s+3d\s+3\s+10m$/);
  });
});

describe('dlq stats', () => {
  it('shows every queue with zero counts', async () => {
    const stats = await cli.json<QueueStats[]>(['stats']);
    expect(stats).toEqual([
      {
        queue: 'emails',
        waiting: 0,
        delayed: 0,
        leased: 0,
        done: 0,
        dead: 0,
        dropped: 0,
        replayed: 0,
        discarded: 0,
        archived: 0,
        oldestDeadAt: null,
        retentionDays: 21,
        nextExpiryAt: null,
      },
      {
        queue: 'payments',
        waiting: 0,
        delayed: 0,
        leased: 0,
        done: 0,
        dead: 0,
        dropped: 0,
        replayed: 0,
        discarded: 0,
        archived: 0,
        oldestDeadAt: null,
        retentionDays: 3,
        nextExpiryAt: null,
      },
    ]);
    const table = await cli.run(['stats']);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^QUEUE\s+WAITING\s+DELAYED\s+LEASED\s+DONE\s+DEAD\s+DROPPED\s+REPLAYED\s+DISCARDED\s+ARCHIVED\s+OLDEST DEAD\s+NEXT EXPIRY$/,
    );
    expect(table.stdout.split('\n')[1]).toMatch(/^emails(\s+0){9}\s+-\s+-$/);
  });
});

describe('global options', () => {
  it('accepts --json and --store before or after the command', async () => {
    const env = { DEADLETTER_STORE: 'sqlite:/nonexistent/elsewhere.db' };
    const before = await cli.run(['--store', cli.storeUrl, '--json', 'queue', 'list'], { env });
    const after = await cli.run(['queue', 'list', '--store', cli.storeUrl, '--json'], { env });
    expect(before.code).toBe(0);
    expect(after.stdout).toBe(before.stdout);
    expect((JSON.parse(before.stdout) as QueueRecord[]).length).toBe(2);
  });

  it('resolves a relative --store against the working directory', async () => {
    const result = await cli.run(['queue', 'list', '--store', 'sqlite:./store.db', '--json'], { env: {} });
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as QueueRecord[]).length).toBe(2);
  });

  it('refuses a store URL it does not understand (exit 2)', async () => {
    const result = await cli.run(['stats', '--store', 'mysql://localhost/x']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^dlq: invalid store URL/);
  });
});
