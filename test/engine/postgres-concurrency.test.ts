import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { dropSchemas, storeUrl, tempSchema, withClient } from '../store/postgres-schema.ts';

/**
 * Several worker processes on one PostgreSQL database, one of them SIGKILLed mid-run: every
 * message ends done or dead exactly once, none is processed to success again after its ack,
 * and dead letters keep their whole context.
 */
const N = 20_000;
const schema = tempSchema('dl_conc');
const url = storeUrl(schema);
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await dropSchemas(schema);
});

function startWorker(name: string): { child: ChildProcess; completed: () => number } {
  const fixture = new URL('./fixtures/pg-worker.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, url, schema, name], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let completed = 0;
  child.stdout?.on('data', (chunk: Buffer) => {
    const last = chunk.toString().trim().split('\n').pop();
    if (last) completed = (JSON.parse(last) as { completed: number }).completed;
  });
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk}`));
  return { child, completed: () => completed };
}

async function until(check: () => Promise<boolean> | boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('PostgreSQL: many worker processes, one killed', () => {
  it('ends every message done or dead exactly once', { timeout: 300_000 }, async () => {
    const dl = await Deadletter.open({ store: url, maintenance: false });
    try {
      await dl.createQueue('load', { visibilityTimeout: '5s', maxReceives: 3, backoff: 'fixed:0' });
      await withClient((client) =>
        client.query(
          `CREATE TABLE "${schema}".handled (id TEXT NOT NULL, worker TEXT NOT NULL, receives INT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(), seq BIGSERIAL PRIMARY KEY)`,
        ),
      );
      const workers = ['w1', 'w2', 'w3'].map((name) => ({ name, ...startWorker(name) }));
      // Workers run while the messages are sent.
      for (let start = 0; start < N; start += 1000) {
        await dl.sendBatch(
          'load',
          Array.from({ length: 1000 }, (_, k) => ({ body: { i: start + k } })),
        );
      }
      const victim = workers[0] as (typeof workers)[number];
      await until(() => victim.completed() >= 1500, 'the first worker to do real work', 120_000);
      victim.child.kill('SIGKILL');
      await new Promise((resolve) => victim.child.once('exit', resolve));

      await until(
        async () => {
          const s = (await dl.stats()).find((row) => row.queue === 'load');
          return s !== undefined && s.done + s.dead === N && s.waiting + s.delayed + s.leased === 0;
        },
        'every message to end',
        240_000,
      );
      const stats = (await dl.stats()).find((row) => row.queue === 'load');
      expect(stats).toMatchObject({ done: N - N / 10, dead: N / 10, dropped: 0, waiting: 0, leased: 0 });

      // Exactly once after the ack: a message handled successfully more than once must owe every
      // earlier success to the killed worker (which died before its ack was written).
      const rows = await withClient(async (client) => {
        const result = await client.query<{ id: string; workers: string[] }>(
          `SELECT id, array_agg(worker ORDER BY seq) AS workers FROM "${schema}".handled GROUP BY id`,
        );
        return result.rows;
      });
      expect(rows).toHaveLength(N - N / 10);
      for (const row of rows) {
        for (const earlier of row.workers.slice(0, -1)) expect(earlier).toBe(victim.name);
      }

      // The killed worker held leases: they came back through lease expiry, recorded as such.
      const expired = await withClient(async (client) => {
        const result = await client.query<{ n: string }>(
          // A message's attempts live in message_attempts (migration 0007), one row each.
          `SELECT count(DISTINCT message_id) AS n FROM "${schema}".message_attempts WHERE attempt::text LIKE '%LeaseExpiredError%' AND attempt::text LIKE '%"w1"%'`,
        );
        return Number(result.rows[0]?.n);
      });
      expect(expired).toBeGreaterThan(0);

      // Dead letters carry their full context.
      const page = await dl.listDeadLetters({ queue: 'load', limit: 20 });
      expect(page.items).toHaveLength(20);
      for (const summary of page.items) {
        const dead = await dl.getDeadLetter(summary.id);
        expect((dead.body as { i: number }).i % 10).toBe(0);
        expect(dead.attempts.length).toBeGreaterThanOrEqual(3);
        expect(dead.attempts.length).toBeLessThanOrEqual(3);
        for (const attempt of dead.attempts) {
          expect(attempt.workerId).toMatch(/^w[123]$/);
          expect(attempt.host.length).toBeGreaterThan(0);
        }
        expect(dead.error.message).toMatch(/references a deleted customer/);
        expect(dead.tier).toBe('permanent');
      }
      const groups = await dl.listGroups({ queue: 'load' });
      expect(groups.map((g) => g.normalizedMessage).join('\n')).toMatch(/references a deleted customer/);
    } finally {
      for (const { child } of workersStopped()) child.kill('SIGTERM');
      await dl.close();
    }
  });
});

function workersStopped(): { child: ChildProcess }[] {
  return children.filter((child) => child.exitCode === null).map((child) => ({ child }));
}
