/**
 * Replay throughput: replays every dead letter of a store back to its source queue as one job
 * through the public API (`Deadletter.replay`, foreground, no rate limit), and reports dead
 * letters/s, peak RSS and CPU time. Then it checks the end state: the job completed with every
 * dead letter replayed, the DLQ is empty, each queue counts them as replayed, and each has
 * exactly one new message. Two data sets (`--data`):
 *
 * - `read-path` (default): a copy of the read path's seeded database (1,000,000 dead letters by
 *   default, with their whole context: bodies, headers, up to 5 attempts with 10-frame stacks,
 *   about 4.6 kB a row; see `read-path/seed.ts`). The copy is deleted afterwards; the seed stays
 *   cached.
 * - `small`: as many dead letters of one attempt without a stack (about 0.4 kB a row), sent,
 *   claimed and failed through the store in a fresh file: what the engine itself costs per
 *   dead letter when there is little data to move.
 *
 * Options: `--data read-path|small`, `--dead-letters N`, `--batch-size N` (default 2,000),
 * `--reseed`, `--write` (put the section into `bench/RESULTS.md` between its markers, with
 * both data sets, as `npm run bench` would).
 */
import { constants, copyFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { newId } from '../../src/core/ids.ts';
import { Deadletter, openStore } from '../../src/index.ts';
import { childMain, isEntryScript, log } from '../lib/child.ts';
import { machineBusy } from '../lib/cpu.ts';
import { megabytes, PeakRss } from '../lib/memory.ts';
import { ensureSeed } from '../read-path/seed.ts';
import { writeReplaySection } from './report.ts';

/** Which dead letters are replayed: see the file's comment. */
export type ReplayBenchData = 'read-path' | 'small';

/** Dead letters per transaction in the bench (the library's default is 500; see RESULTS.md). */
export const BENCH_BATCH_SIZE = 2_000;

export interface ReplayBenchResult {
  data: ReplayBenchData;
  /** Average bytes of a dead letter's row (body, headers, attempts, error). */
  rowBytes: number;
  deadLetters: number;
  batchSize: number;
  /** Replayed per second of the job's run (its first batch to its completion). */
  deadLettersPerSecond: number;
  /** The same over the whole `replay()` call: the dry run's counts, the job's creation and its run. */
  endToEndPerSecond: number;
  jobSeconds: number;
  dryRunSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  fileMb: number;
  /** End-state problems; empty when it is correct. */
  problems: string[];
  /** Fraction of the machine's CPU busy with other work just before the run. */
  busyBefore?: number | undefined;
}

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

/** The store file to replay: a copy of the read path's seed, or a fresh file of small dead letters. */
async function prepare(data: ReplayBenchData, deadLetters: number, file: string): Promise<void> {
  if (data === 'small') {
    await seedSmall(file, deadLetters);
    return;
  }
  const seed = await ensureSeed(deadLetters, process.argv.includes('--reseed'));
  log(`replay: copying the seed (${seed.fileMb} MB) to ${file}`);
  // A reflink where the filesystem has them, else a plain copy.
  copyFileSync(seed.file, file, constants.COPYFILE_FICLONE);
}

/** Sends `count` messages to one queue, claims them and fails each once as dead, in chunks. */
async function seedSmall(file: string, count: number): Promise<void> {
  const store = await openStore(`sqlite:${file}`, { migrate: true });
  try {
    const start = Date.now() - 3_600_000;
    await store.queueCreate({
      queue: {
        name: 'orders',
        maxReceives: 1,
        visibilityTimeoutMs: 30_000,
        backoff: { type: 'fixed', delayMs: 0 },
        deadLetter: true,
        retentionDays: 14,
        replayLimit: 3,
        createdAt: start,
        updatedAt: start,
      },
      actor: 'bench',
    });
    const worker = { workerId: 'bench-worker', workerVersion: '1.0.0', host: 'bench-host' };
    const error = { name: 'TypeError', message: "Cannot read properties of undefined (reading 'email')" };
    let lastLog = performance.now();
    for (let first = 0; first < count; first += 5_000) {
      const now = start + first;
      const size = Math.min(5_000, count - first);
      const messages = Array.from({ length: size }, (_, k) => ({
        id: newId(),
        body: { orderId: `ord_${first + k}`, customerId: `cus_${(first + k) % 9973}`, amount: 1999 },
        headers: { 'content-type': 'application/json' },
        idempotencyKey: `order-${first + k}`,
        visibleAt: now,
      }));
      await store.messageInsertBatch({ queue: 'orders', messages, now });
      const claimed = await store.messageClaim({
        queue: 'orders',
        limit: size,
        now,
        leaseMs: 30_000,
        worker,
      });
      await store.messageFail({
        now: now + 1,
        items: claimed.map((message) => ({
          id: message.id,
          leaseToken: message.leaseToken,
          attempt: { ...worker, number: 1, startedAt: now, durationMs: 3, error },
          outcome: 'dead' as const,
          death: {
            tier: 'permanent' as const,
            error,
            fingerprint: 'bench-small',
            groupId: 'bench-small',
            normalizedMessage: error.message,
          },
        })),
      });
      if (performance.now() - lastLog > 5_000) {
        lastLog = performance.now();
        log(`seeded ${first + size} of ${count} small dead letters`);
      }
    }
  } finally {
    await store.close();
  }
}

async function main(data: ReplayBenchData): Promise<ReplayBenchResult> {
  const deadLetters = option('--dead-letters', 1_000_000);
  const batchSize = option('--batch-size', BENCH_BATCH_SIZE);
  const file = join(tmpdir(), 'deadletter-bench', `replay-${data}-${process.pid}.db`);
  for (const path of [file, `${file}-wal`, `${file}-shm`]) rmSync(path, { force: true });
  await prepare(data, deadLetters, file);
  try {
    const busyBefore = await machineBusy();
    const rss = new PeakRss();
    const dl = await Deadletter.open({ store: `sqlite:${file}`, maintenance: false, actor: 'bench' });
    try {
      const everything = { since: 0 };
      const dryStarted = performance.now();
      const plan = await dl.replayDryRun(everything);
      const dryRunSeconds = (performance.now() - dryStarted) / 1000;
      log(`replay: ${plan.total} dead letters to replay, batches of ${batchSize}`);
      const cpu = process.cpuUsage();
      const started = performance.now();
      let lastLog = started;
      const { job } = await dl.replay(everything, {
        batchSize,
        onProgress: (progress) => {
          const now = performance.now();
          if (now - lastLog > 5_000) {
            lastLog = now;
            const rate = progress.replayed / ((now - started) / 1000);
            log(`replayed ${progress.replayed} of ${progress.planned} (${Math.round(rate)}/s)`);
          }
        },
      });
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      const jobSeconds = ((job.finishedAt ?? job.createdAt) - job.createdAt) / 1000;

      const problems: string[] = [];
      if (job.status !== 'completed') problems.push(`job ended ${job.status}: ${job.message}`);
      if (job.replayed !== plan.total) problems.push(`replayed ${job.replayed} of ${plan.total}`);
      const stats = await dl.stats();
      const dead = stats.reduce((sum, q) => sum + q.dead, 0);
      const replayed = stats.reduce((sum, q) => sum + q.replayed, 0);
      if (dead !== 0) problems.push(`${dead} dead letters left`);
      if (replayed !== plan.total) problems.push(`queues count ${replayed} replayed, not ${plan.total}`);
      const peakRssMb = megabytes(rss.stop());

      const db = new Database(file, { readonly: true });
      let rowBytes = 0;
      try {
        rowBytes =
          db
            .prepare<[], { bytes: number | null }>(
              "SELECT AVG(length(body) + length(headers) + length(attempts) + length(coalesce(error_stack, ''))) AS bytes " +
                'FROM replayed_dead_letters',
            )
            .get()?.bytes ?? 0;
        const sends = db
          .prepare<[], { letters: number; messages: number }>(
            'SELECT COUNT(DISTINCT replay_of) AS letters, COUNT(*) AS messages FROM messages WHERE replay_of IS NOT NULL',
          )
          .get();
        if (sends?.letters !== plan.total || sends.messages !== plan.total) {
          problems.push(`${sends?.messages} replayed messages for ${sends?.letters} dead letters`);
        }
      } finally {
        db.close();
      }
      return {
        data,
        rowBytes: Math.round(rowBytes),
        deadLetters: plan.total,
        batchSize,
        deadLettersPerSecond: jobSeconds > 0 ? job.replayed / jobSeconds : 0,
        endToEndPerSecond: job.replayed / (seconds + dryRunSeconds),
        jobSeconds,
        dryRunSeconds,
        cpuSeconds: (used.user + used.system) / 1e6,
        peakRssMb,
        fileMb: Math.round(statSync(file).size / 1024 / 1024),
        problems,
        busyBefore,
      };
    } finally {
      await dl.close();
    }
  } finally {
    for (const path of [file, `${file}-wal`, `${file}-shm`]) rmSync(path, { force: true });
  }
}

if (isEntryScript(import.meta.url)) {
  childMain(async () => {
    if (process.argv.includes('--write')) {
      // By itself: both data sets, one after the other, into RESULTS.md.
      const results = [await main('read-path'), await main('small')];
      log(`replay: written to ${writeReplaySection({ results })}`);
      return results;
    }
    const at = process.argv.indexOf('--data');
    return main(at > 0 && process.argv[at + 1] === 'small' ? 'small' : 'read-path');
  });
}
