import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { tempDir } from '../support/temp-dir.ts';

const N = 2_000;
let child: ChildProcess | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  tmp?.remove();
});

describe('a worker process killed mid-batch', () => {
  it('loses nothing: every message ends done or dead exactly once', async () => {
    tmp = tempDir();
    const store = `sqlite:${join(tmp.dir, 'crash.db')}`;
    // A short leadership lease: the killed process was the maintenance leader, and the survivor
    // must take over (within the lease) to sweep the leases it left behind.
    const dl = await Deadletter.open({ store, maintenance: { leaseMs: 2_000 } });
    try {
      await dl.createQueue('crash', { visibilityTimeout: '1s', maxReceives: 3, backoff: 'fixed:0' });
      const sent = await dl.sendBatch(
        'crash',
        Array.from({ length: N }, (_, i) => ({ body: { i } })),
      );

      const fixture = new URL('./fixtures/crash-worker.ts', import.meta.url).pathname;
      child = spawn(process.execPath, ['--import', 'tsx', fixture, store], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (chunk) => {
        stderr += chunk;
      });
      // Kill it once it has done real work, while it holds a batch.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker made no progress: ${stderr}`)), 30_000);
        child?.stdout?.on('data', (chunk: Buffer) => {
          const last = chunk.toString().trim().split('\n').pop() ?? '{}';
          const counters = JSON.parse(last) as { completed: number };
          if (counters.completed >= 300) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      child.kill('SIGKILL');
      await new Promise((resolve) => child?.once('exit', resolve));

      const atKill = (await dl.stats())[0];
      expect(atKill?.leased).toBeGreaterThan(0); // it died holding leases
      expect(atKill?.done).toBeLessThan(N);

      const survivor = await dl.work<{ i: number }>(
        'crash',
        (message) => {
          if (message.body.i % 10 === 0) throw new Error(`item ${message.body.i} is invalid`);
        },
        { concurrency: 20, drain: true, pollInterval: 50 },
      );
      await survivor.stopped;

      const stats = (await dl.stats())[0];
      expect(stats).toMatchObject({ waiting: 0, delayed: 0, leased: 0, dropped: 0 });
      expect((stats?.done ?? 0) + (stats?.dead ?? 0)).toBe(N);
      expect(stats?.dead).toBe(N / 10);
      let expiredSeen = 0;
      for (const { id } of sent) {
        const message = await dl.store.messageGet({ id });
        const letter = await dl.store.deadLetterGet({ id });
        expect(Boolean(message) !== Boolean(letter)).toBe(true);
        if (message) expect(message.state).toBe('done');
        const attempts = message?.attempts ?? letter?.attempts ?? [];
        if (attempts.some((a) => a.error.name === 'LeaseExpiredError' && a.workerId === 'doomed'))
          expiredSeen++;
      }
      // The messages the dead worker held came back through lease expiry, recorded as such.
      expect(expiredSeen).toBeGreaterThan(0);
    } finally {
      await dl.close();
    }
  });
});
