import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { openStore } from '../../src/store/open.ts';
import { tempDir } from '../support/temp-dir.ts';
import { seedBulkDeadLetters } from './fixtures/bulk-dead-letters.ts';

const N = 20_000;
const BIN = resolve('bin/dlq.js');
let child: ChildProcess | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;

afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  tmp?.remove();
  tmp = undefined;
});

/** Waits (real time, bounded) until `check` passes. */
async function until(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a replay process killed mid-job', () => {
  it('is resumed by another process: every dead letter replayed exactly once, none lost', async () => {
    tmp = tempDir('dlq-replay-crash-');
    const file = join(tmp.dir, 'crash.db');
    const storeUrl = `sqlite:${file}`;
    const seedStore = await openStore(storeUrl, { migrate: true });
    const queue = {
      name: 'crash',
      maxReceives: 1,
      visibilityTimeoutMs: 30_000,
      backoff: { type: 'fixed' as const, delayMs: 0 },
      deadLetter: true,
      retentionDays: 14,
      replayLimit: 3,
      createdAt: Date.now() - 120_000,
      updatedAt: Date.now() - 120_000,
    };
    await seedStore.queueCreate({ queue, actor: 'test' });
    const ids = await seedBulkDeadLetters(seedStore, 'crash', N);
    await seedStore.close();

    // A foreground replay in its own process, slowed down so that it is killed mid-job.
    child = spawn(
      process.execPath,
      [
        BIN,
        'replay',
        '--queue',
        'crash',
        '--batch-size',
        '50',
        '--rate',
        '4000',
        '--hold-lease',
        '2s',
        '--json',
      ],
      { env: { ...process.env, DEADLETTER_STORE: storeUrl }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const watcher = await openStore(storeUrl);
    try {
      await until(async () => {
        if (child?.exitCode !== null) throw new Error(`the replay exited early: ${stderr}`);
        const [job] = await watcher.replayJobList({ limit: 1 });
        return (job?.replayed ?? 0) >= 2_000;
      }, 'the replay to make progress');
      child.kill('SIGKILL');
      await new Promise((r) => child?.once('exit', r));

      const [atKill] = await watcher.replayJobList({ limit: 1 });
      if (!atKill) throw new Error('no job');
      // It died holding the job, part way through.
      expect(atKill.status).toBe('running');
      expect(atKill.holder).not.toBeNull();
      expect(atKill.replayed).toBeGreaterThanOrEqual(2_000);
      expect(atKill.replayed).toBeLessThan(N);
      expect(atKill.replayed % 50).toBe(0);

      // Another process: its replay runner service takes the job over once the hold runs out.
      const survivor = await Deadletter.open({
        store: storeUrl,
        maintenance: { tickMs: 50, leaseMs: 2_000 },
        replay: { holdLease: '2s', pollInterval: 100 },
      });
      try {
        survivor.startMaintenance();
        await until(
          async () => (await watcher.replayJobGet({ id: atKill.id }))?.status === 'completed',
          'the job',
        );
      } finally {
        await survivor.close();
      }
      const done = await watcher.replayJobGet({ id: atKill.id });
      expect(done).toMatchObject({ status: 'completed', planned: N, replayed: N, skipped: 0, holder: null });
      const [stats] = await watcher.queueStats({ now: Date.now() });
      expect(stats).toMatchObject({ dead: 0, replayed: N, waiting: N });
    } finally {
      await watcher.close();
    }

    // Every dead letter: exactly one replayed message, in the history once, not in the DLQ.
    const db = new Database(file, { readonly: true });
    try {
      const perLetter = new Map(
        db
          .prepare<[], { replay_of: string; n: number }>(
            'SELECT replay_of, COUNT(*) AS n FROM messages WHERE replay_of IS NOT NULL GROUP BY replay_of',
          )
          .all()
          .map((row) => [row.replay_of, row.n]),
      );
      expect(perLetter.size).toBe(N);
      const history = new Set(
        db
          .prepare<[], { id: string }>('SELECT id FROM replayed_dead_letters')
          .all()
          .map((row) => row.id),
      );
      expect(history.size).toBe(N);
      for (const id of ids) {
        expect(perLetter.get(id)).toBe(1);
        expect(history.has(id)).toBe(true);
      }
      expect(
        db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM dead_letters WHERE replayed = 0').get()?.n,
      ).toBe(0);
      // Two runners did the job: the killed one and its successor.
      const holders = db
        .prepare<[], { n: number }>(
          "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'replay.finish' AND actor = 'system'",
        )
        .get();
      expect(holders?.n).toBe(1);
    } finally {
      db.close();
    }
  }, 120_000);
});
