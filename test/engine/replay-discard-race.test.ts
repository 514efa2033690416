import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.ts';
import { tempDir } from '../support/temp-dir.ts';
import { seedBulkDeadLetters } from './fixtures/bulk-dead-letters.ts';

const N = 5_000;
const BIN = resolve('bin/dlq.js');
const children: ChildProcess[] = [];
let tmp: ReturnType<typeof tempDir> | undefined;

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  tmp?.remove();
  tmp = undefined;
});

/** Runs `dlq` in its own process; resolves to its exit code and output. */
function dlq(
  args: string[],
  storeUrl: string,
): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, DEADLETTER_STORE: storeUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveDone) =>
    child.once('exit', (code) => resolveDone({ code, stdout, stderr })),
  );
  return { child, done };
}

describe('a replay and a discard of the same dead letters, in two processes at once', () => {
  it('ends each dead letter replayed exactly once or discarded, never both, never lost', async () => {
    tmp = tempDir('dlq-replay-race-');
    const file = join(tmp.dir, 'race.db');
    const storeUrl = `sqlite:${file}`;
    const store = await openStore(storeUrl, { migrate: true });
    const t = Date.now() - 120_000;
    await store.queueCreate({
      queue: {
        name: 'race',
        maxReceives: 1,
        visibilityTimeoutMs: 30_000,
        backoff: { type: 'fixed', delayMs: 0 },
        deadLetter: true,
        retentionDays: 14,
        replayLimit: 3,
        createdAt: t,
        updatedAt: t,
      },
      actor: 'test',
    });
    const ids = await seedBulkDeadLetters(store, 'race', N);

    // The replay goes first, paced; the discard starts once the replay is under way, and both
    // then walk the same selection in small batches, interleaving on the store's write lock.
    const replay = dlq(
      ['replay', '--queue', 'race', '--batch-size', '20', '--rate', '300', '--json'],
      storeUrl,
    );
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [job] = await store.replayJobList({ limit: 1 });
      if ((job?.replayed ?? 0) >= 200) break;
      if (replay.child.exitCode !== null)
        throw new Error(`the replay ended early: ${(await replay.done).stderr}`);
      if (Date.now() > deadline) throw new Error('the replay made no progress');
      await new Promise((r) => setTimeout(r, 10));
    }
    const discard = dlq(
      ['discard', '--queue', 'race', '--reason', 'race test', '--yes', '--batch-size', '20', '--json'],
      storeUrl,
    );
    const [replayed, discarded] = await Promise.all([replay.done, discard.done]);
    await store.close();
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(discarded.code, discarded.stderr).toBe(0);

    const db = new Database(file, { readonly: true });
    try {
      const sends = new Map(
        db
          .prepare<[], { replay_of: string; n: number }>(
            'SELECT replay_of, COUNT(*) AS n FROM messages WHERE replay_of IS NOT NULL GROUP BY replay_of',
          )
          .all()
          .map((row) => [row.replay_of, row.n]),
      );
      const history = new Set(
        db
          .prepare<[], { id: string }>('SELECT id FROM replayed_dead_letters')
          .all()
          .map((r) => r.id),
      );
      const tombstones = new Set(
        db
          .prepare<[], { id: string }>('SELECT id FROM tombstones')
          .all()
          .map((r) => r.id),
      );
      const stillDead = db
        .prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM dead_letters WHERE replayed = 0')
        .get()?.n;
      expect(stillDead).toBe(0);
      for (const id of ids) {
        const wasReplayed = history.has(id);
        const wasDiscarded = tombstones.has(id);
        // Exactly one fate each; a replayed one was sent exactly once, a discarded one never.
        expect(wasReplayed !== wasDiscarded, id).toBe(true);
        expect(sends.get(id) ?? 0).toBe(wasReplayed ? 1 : 0);
      }
      expect(history.size + tombstones.size).toBe(N);
      // Both really ran on the same dead letters: each got some, and the replay skipped the others as gone.
      expect(history.size).toBeGreaterThanOrEqual(200);
      const job = JSON.parse(replayed.stdout).job as {
        replayed: number;
        skipped: number;
        planned: number;
        message: string;
      };
      expect(job.planned).toBe(N);
      expect(job.replayed).toBe(history.size);
      // Discarded before the replay reached them (not seen) or between its read and its batch (skipped as gone).
      expect(job.replayed + job.skipped).toBeLessThanOrEqual(N);
      const gone = N - job.replayed - job.skipped;
      if (gone > 0) expect(job.message).toContain(`${gone} left the DLQ before their turn`);
      const counters = db
        .prepare<[], { dead: number; replayed: number; discarded: number }>(
          "SELECT dead, replayed, discarded FROM queue_counters WHERE queue = 'race'",
        )
        .get();
      expect(counters).toEqual({ dead: 0, replayed: history.size, discarded: tombstones.size });
    } finally {
      db.close();
    }
  }, 120_000);
});
