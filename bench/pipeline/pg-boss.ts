/**
 * The pipeline workload on pg-boss 10 (PostgreSQL), tuned as pg-boss's docs advise for
 * throughput: jobs sent with `insert()` (one statement per 1,000), workers fetching in batches
 * (`batchSize`) at the shortest polling interval allowed (0.5 s), and several `work()` calls
 * for concurrency (pg-boss 10 removed `teamSize`; its docs say to call `work()` again).
 * A queue with `retryLimit: 4` (5 attempts), `retryDelay: 0`, no backoff. A job that fails its
 * last attempt stays in the `failed` state with its error as output: that is the dead set.
 *
 * A batch handler completes or fails its whole batch, so the handler here completes the jobs
 * that succeeded (`complete()`, awaited) and then throws, which makes pg-boss fail the rest.
 * Failing them individually instead would race: pg-boss completes the whole batch after a
 * handler returns, possibly a retried job that another worker holds again.
 *
 * Options after the script name: `--messages N`, `--workers W`, `--batch B`.
 */
import PgBoss from 'pg-boss';
import { childMain, log } from '../lib/child.ts';
import { backendCpu, cpuSince } from '../lib/pg-cpu.ts';
import { packageVersion } from '../lib/versions.ts';
import { intArg, runPipeline, type SystemCounts, type SystemUnderTest } from './harness.ts';
import { fails, MAX_ATTEMPTS, type WorkloadBody, type WorkloadHandler } from './workload.ts';

const QUEUE = 'bench';
const DATABASE = { host: '127.0.0.1', port: 5432, user: process.env.PGUSER ?? 'postgres', database: 'test' };

class PgBossSystem implements SystemUnderTest {
  private readonly schema = `dlbench_${process.pid}_${Date.now()}`;
  private readonly boss: PgBoss;
  /** Every connection of this run carries it, so its backends can be found (CPU). */
  private readonly application = `dlbench_pgboss_${process.pid}`;
  private cpuBefore = new Map<number, number>();
  /** CPU seconds of the PostgreSQL backends over the run, filled by `stop()`. */
  databaseCpuSeconds = 0;

  constructor(
    private readonly workers: number,
    private readonly batchSize: number,
  ) {
    this.boss = new PgBoss({
      ...DATABASE,
      schema: this.schema,
      application_name: this.application,
      // One connection per worker's fetch plus room for sends, completes and fails.
      max: workers + 6,
      // The shortest interval pg-boss accepts: an idle worker asks again after 0.5 s.
      pollingIntervalSeconds: 0.5,
    });
    this.boss.on('error', (err) => log(`pg-boss error: ${err.message}`));
  }

  get tuning(): string {
    return (
      `${this.workers} work() × batchSize ${this.batchSize}, pollingIntervalSeconds 0.5, insert() of 1,000, ` +
      'retryLimit 4 (5 attempts), retryDelay 0, no backoff; failed jobs kept in state failed'
    );
  }

  async describe(): Promise<Record<string, string>> {
    return { 'pg-boss': packageVersion('pg-boss'), pg: packageVersion('pg', import.meta.resolve('pg-boss')) };
  }

  async start(handler: WorkloadHandler): Promise<void> {
    await this.boss.start();
    const [row] = (await this.boss.getDb().executeSql('SHOW server_version', [])).rows as {
      server_version: string;
    }[];
    this.postgres = row?.server_version ?? 'unknown';
    await this.boss.createQueue(QUEUE, { name: QUEUE, retryLimit: MAX_ATTEMPTS - 1, retryDelay: 0 });
    for (let k = 0; k < this.workers; k++) {
      await this.boss.work<WorkloadBody>(
        QUEUE,
        { batchSize: this.batchSize, pollingIntervalSeconds: 0.5, includeMetadata: true },
        async (jobs) => {
          const succeeded: string[] = [];
          const failed: number[] = [];
          for (const job of jobs) {
            try {
              handler.handle(job.data.i, job.retryCount + 1);
              succeeded.push(job.id);
            } catch {
              failed.push(job.data.i);
            }
          }
          if (failed.length === 0) return;
          if (succeeded.length > 0) await this.boss.complete(QUEUE, succeeded);
          throw new Error(`boom: orders ${failed.join(', ')} rejected by the bench handler`);
        },
      );
    }
    this.cpuBefore = await backendCpu(this.application);
  }

  /** PostgreSQL's version, read once connected. */
  postgres = 'unknown';

  async send(bodies: WorkloadBody[]): Promise<void> {
    await this.boss.insert(bodies.map((data) => ({ name: QUEUE, data })));
  }

  async counts(): Promise<SystemCounts> {
    const { rows } = await this.boss
      .getDb()
      .executeSql(
        `SELECT state::text AS state, COUNT(*)::int AS n FROM ${this.schema}.job GROUP BY state`,
        [],
      );
    let pending = 0;
    let done = 0;
    let dead = 0;
    for (const row of rows as { state: string; n: number }[]) {
      if (row.state === 'completed') done += row.n;
      else if (row.state === 'failed') dead += row.n;
      else pending += row.n;
    }
    return { pending, done, dead };
  }

  async checkDead(expectedDead: number): Promise<string[]> {
    const { rows } = await this.boss.getDb().executeSql(
      `SELECT (data->>'i')::int AS i, retry_count, output->>'message' AS message, output->>'stack' AS stack
         FROM ${this.schema}.job WHERE state = 'failed'`,
      [],
    );
    const problems: string[] = [];
    const dead = rows as { i: number; retry_count: number; message: string | null; stack: string | null }[];
    if (dead.length !== expectedDead) problems.push(`${dead.length} failed jobs, expected ${expectedDead}`);
    const notFailing = dead.filter((r) => !fails(r.i)).length;
    if (notFailing > 0) problems.push(`${notFailing} failed jobs are messages that should have succeeded`);
    const withoutContext = dead.filter(
      (r) => r.retry_count !== MAX_ATTEMPTS - 1 || !r.message?.startsWith('boom') || !r.stack,
    ).length;
    if (withoutContext > 0) {
      problems.push(`${withoutContext} failed jobs lack 5 attempts, an error message or a stack trace`);
    }
    return problems;
  }

  async stop(): Promise<void> {
    this.databaseCpuSeconds = cpuSince(this.cpuBefore, await backendCpu(this.application));
    await this.boss.offWork(QUEUE);
  }

  async cleanUp(): Promise<void> {
    try {
      await this.boss.getDb().executeSql(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`, []);
    } finally {
      await this.boss.stop({ graceful: false, wait: true, timeout: 1_000 });
    }
  }
}

childMain(async () => {
  const system = new PgBossSystem(intArg('workers', 32), intArg('batch', 100));
  const result = await runPipeline('pg-boss', system, intArg('messages', 100_000));
  result.versions.postgresql = system.postgres;
  result.databaseCpuCores = system.databaseCpuSeconds / result.seconds;
  return result;
});
