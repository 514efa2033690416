/**
 * Replay throughput: on a copy of the read path's seeded database (1,000,000 dead letters by
 * default, with their full context: bodies, headers, up to 5 attempts with stacks; see
 * `read-path/seed.ts`), replays every dead letter back to its source queue as one job through
 * the public API (`Deadletter.replay`, foreground, no rate limit), and reports dead letters/s,
 * peak RSS and CPU time. Then it checks the end state: the job completed with every dead letter
 * replayed, the DLQ is empty, each queue counts them as replayed, and each has exactly one
 * new message. The copy is deleted afterwards (the seed stays cached).
 *
 * Options: `--dead-letters N`, `--batch-size N` (default 2,000), `--reseed`, `--write` (put the
 * section into `bench/RESULTS.md` between its markers, as `npm run bench` would).
 */
import { constants, copyFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Deadletter } from '../../src/index.ts';
import { childMain, log } from '../lib/child.ts';
import { machineBusy } from '../lib/cpu.ts';
import { megabytes, PeakRss } from '../lib/memory.ts';
import { ensureSeed } from '../read-path/seed.ts';
import { writeReplaySection } from './report.ts';

/** Dead letters per transaction in the bench (the library's default is 500; see RESULTS.md). */
export const BENCH_BATCH_SIZE = 2_000;

export interface ReplayBenchResult {
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

async function main(): Promise<ReplayBenchResult> {
  const deadLetters = option('--dead-letters', 1_000_000);
  const batchSize = option('--batch-size', BENCH_BATCH_SIZE);
  const seed = await ensureSeed(deadLetters, process.argv.includes('--reseed'));
  const file = join(tmpdir(), 'deadletter-bench', `replay-${process.pid}.db`);
  log(`replay: copying the seed (${seed.fileMb} MB) to ${file}`);
  // A reflink where the filesystem has them, else a plain copy.
  copyFileSync(seed.file, file, constants.COPYFILE_FICLONE);
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
      try {
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

if (import.meta.url === `file://${process.argv[1]}`) {
  childMain(async () => {
    const result = await main();
    if (process.argv.includes('--write')) log(`replay: written to ${writeReplaySection({ result })}`);
    return result;
  });
}
