/**
 * The pipeline workload on BullMQ (Redis), tuned as BullMQ's docs advise for throughput:
 * jobs added with `addBulk`, a worker with a high local concurrency factor (the docs' knob for
 * async handlers in one process), completed jobs removed (`removeOnComplete`) so Redis does not
 * grow, failed jobs kept: they are the dead set. 5 attempts, no backoff: a failed attempt goes
 * straight back to the wait list.
 *
 * Options after the script name: `--messages N`, `--workers W` (Worker instances in this
 * process, each with its own blocking connection), `--concurrency C` (per worker).
 */
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { childMain, log } from '../lib/child.ts';
import { processCpuSeconds } from '../lib/pg-cpu.ts';
import { packageVersion } from '../lib/versions.ts';
import { intArg, runPipeline, type SystemCounts, type SystemUnderTest } from './harness.ts';
import { fails, MAX_ATTEMPTS, type WorkloadBody, type WorkloadHandler } from './workload.ts';

const QUEUE = 'bench';
const REDIS = { host: '127.0.0.1', port: 6379 };

class BullmqSystem implements SystemUnderTest {
  private readonly prefix = `dlbench-${process.pid}-${Date.now()}`;
  /** Workers need `maxRetriesPerRequest: null` (BullMQ's docs): a blocking call must not time out. */
  private readonly connection = new Redis({ ...REDIS, maxRetriesPerRequest: null });
  private readonly queue = new Queue<WorkloadBody>(QUEUE, {
    connection: this.connection,
    prefix: this.prefix,
    defaultJobOptions: {
      attempts: MAX_ATTEMPTS,
      backoff: { type: 'fixed', delay: 0 },
      removeOnComplete: true,
      removeOnFail: false,
    },
  });
  private workers: Worker<WorkloadBody>[] = [];
  /** Completions BullMQ confirmed (the event follows the Redis move); completed jobs are removed, so Redis cannot count them. */
  private completed = 0;

  constructor(
    private readonly workerCount: number,
    private readonly concurrency: number,
  ) {}

  get tuning(): string {
    return (
      `${this.workerCount} Worker × concurrency ${this.concurrency}, addBulk of 1,000, ` +
      'attempts 5, fixed backoff 0, removeOnComplete: true, removeOnFail: false'
    );
  }

  async describe(): Promise<Record<string, string>> {
    const info = await this.connection.info('server');
    return {
      bullmq: packageVersion('bullmq'),
      ioredis: packageVersion('ioredis'),
      redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    };
  }

  async start(handler: WorkloadHandler): Promise<void> {
    const processor = async (job: Job<WorkloadBody>) => {
      handler.handle(job.data.i, job.attemptsMade + 1);
    };
    for (let k = 0; k < this.workerCount; k++) {
      const worker = new Worker<WorkloadBody>(QUEUE, processor, {
        connection: this.connection,
        prefix: this.prefix,
        concurrency: this.concurrency,
      });
      worker.on('completed', () => {
        this.completed++;
      });
      worker.on('error', (err) => log(`bullmq worker error: ${err.message}`));
      await worker.waitUntilReady();
      this.workers.push(worker);
    }
    // Redis runs on this machine: its CPU over the run counts with BullMQ's (as PostgreSQL's
    // backends count with pg-boss's), for the CPU per message.
    const pid = Number(/process_id:(\d+)/.exec(await this.connection.info('server'))?.[1]);
    this.redisPid = Number.isInteger(pid) && pid > 0 ? pid : undefined;
    this.redisCpuBefore = this.redisPid === undefined ? undefined : processCpuSeconds(this.redisPid);
  }

  private redisPid: number | undefined;
  private redisCpuBefore: number | undefined;
  /** CPU seconds of the Redis server over the timed run, if it could be read (a local server). */
  redisCpuSeconds: number | undefined;

  async send(bodies: WorkloadBody[]): Promise<void> {
    await this.queue.addBulk(bodies.map((data) => ({ name: 'order', data })));
  }

  async counts(): Promise<SystemCounts> {
    const c = await this.queue.getJobCounts(
      'wait',
      'active',
      'delayed',
      'prioritized',
      'waiting-children',
      'failed',
    );
    const pending =
      (c.wait ?? 0) +
      (c.active ?? 0) +
      (c.delayed ?? 0) +
      (c.prioritized ?? 0) +
      (c['waiting-children'] ?? 0);
    return { pending, done: this.completed, dead: c.failed ?? 0 };
  }

  async checkDead(expectedDead: number): Promise<string[]> {
    const problems: string[] = [];
    let seen = 0;
    let notFailing = 0;
    let withoutContext = 0;
    const page = 1_000;
    for (let start = 0; ; start += page) {
      const jobs = await this.queue.getFailed(start, start + page - 1);
      for (const job of jobs) {
        seen++;
        if (!fails(job.data.i)) notFailing++;
        if (job.attemptsMade !== MAX_ATTEMPTS || !job.failedReason || !job.stacktrace?.length)
          withoutContext++;
      }
      if (jobs.length < page) break;
    }
    if (seen !== expectedDead) problems.push(`${seen} failed jobs listed, expected ${expectedDead}`);
    if (notFailing > 0) problems.push(`${notFailing} failed jobs are messages that should have succeeded`);
    if (withoutContext > 0) {
      problems.push(`${withoutContext} failed jobs lack 5 attempts, a failedReason or a stack trace`);
    }
    return problems;
  }

  async stop(): Promise<void> {
    const after = this.redisPid === undefined ? undefined : processCpuSeconds(this.redisPid);
    if (after !== undefined && this.redisCpuBefore !== undefined)
      this.redisCpuSeconds = after - this.redisCpuBefore;
    await Promise.all(this.workers.map((w) => w.close()));
  }

  async cleanUp(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await this.queue.obliterate({ force: true });
    await this.queue.close();
    // obliterate leaves a few bookkeeping keys; the prefix is ours alone.
    const leftovers: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.connection.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      leftovers.push(...keys);
    } while (cursor !== '0');
    if (leftovers.length > 0) await this.connection.del(...leftovers);
    this.connection.disconnect();
  }
}

childMain(async () => {
  const system = new BullmqSystem(intArg('workers', 32), intArg('concurrency', 20));
  const result = await runPipeline('bullmq', system, intArg('messages', 100_000));
  if (system.redisCpuSeconds !== undefined) result.databaseCpuCores = system.redisCpuSeconds / result.seconds;
  return result;
});
