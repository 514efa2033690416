/**
 * The pipeline workload on Deadletter with its embedded SQLite store (WAL), through the
 * public library API only: `createQueue` with 5 receives and fixed backoff 0, one worker
 * (`dl.work`) whose handler is the shared trivial handler, `sendBatch` of 1,000.
 *
 * Options after the script name: `--messages N`, `--concurrency C`, `--batch B` (claim size),
 * `--trace-store` (log the store calls: count, batch size, time; for diagnosis only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Deadletter, type Worker } from '../../src/index.ts';
import { childMain, log } from '../lib/child.ts';
import { packageVersion } from '../lib/versions.ts';
import { checkDeadLetters } from './dead-check.ts';
import { runPipeline, type SystemCounts, type SystemUnderTest } from './harness.ts';
import { traceStore } from './store-trace.ts';
import { MAX_ATTEMPTS, type WorkloadBody, type WorkloadHandler } from './workload.ts';

const QUEUE = 'bench';
const ROOT = new URL('../../', import.meta.url);

class DeadletterSystem implements SystemUnderTest {
  private readonly dir = mkdtempSync(join(tmpdir(), 'deadletter-bench-'));
  private readonly file = join(this.dir, 'pipeline.db');
  private dl: Deadletter | undefined;
  private worker: Worker | undefined;
  private trace: (() => string) | undefined;

  constructor(
    private readonly concurrency: number,
    private readonly batchSize: number,
    private readonly traced: boolean,
  ) {}

  get tuning(): string {
    return `1 worker, concurrency ${this.concurrency}, claim batch ${this.batchSize}, sendBatch of 1,000, maxReceives 5, backoff fixed:0`;
  }

  async describe(): Promise<Record<string, string>> {
    const probe = new Database(':memory:');
    const sqlite = (probe.prepare('select sqlite_version() as v').get() as { v: string }).v;
    probe.close();
    return {
      deadletter: packageVersion('deadletter', ROOT.href),
      'better-sqlite3': packageVersion('better-sqlite3', ROOT.href),
      sqlite,
    };
  }

  async start(handler: WorkloadHandler): Promise<void> {
    const dl = await Deadletter.open({ store: `sqlite:${this.file}` });
    this.dl = dl;
    if (this.traced) this.trace = traceStore(dl.store);
    await dl.createQueue(QUEUE, { maxReceives: MAX_ATTEMPTS, backoff: 'fixed:0', visibilityTimeout: '30s' });
    this.worker = await dl.work<WorkloadBody>(
      QUEUE,
      async (message) => {
        handler.handle(message.body.i, message.receives);
      },
      { concurrency: this.concurrency, batchSize: this.batchSize },
    );
  }

  async send(bodies: WorkloadBody[]): Promise<void> {
    await this.handle().sendBatch(
      QUEUE,
      bodies.map((body) => ({ body: { ...body } })),
    );
  }

  async counts(): Promise<SystemCounts> {
    const stats = (await this.handle().stats()).find((s) => s.queue === QUEUE);
    if (!stats) throw new Error(`no stats for queue ${QUEUE}`);
    return { pending: stats.waiting + stats.delayed + stats.leased, done: stats.done, dead: stats.dead };
  }

  async checkDead(expectedDead: number): Promise<string[]> {
    return checkDeadLetters(this.handle(), QUEUE, expectedDead);
  }

  async stop(): Promise<void> {
    await this.worker?.stop();
    if (this.trace) log(`store calls during the run and the checks:\n${this.trace()}`);
  }

  async cleanUp(): Promise<void> {
    await this.dl?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private handle(): Deadletter {
    if (!this.dl) throw new Error('not started');
    return this.dl;
  }
}

function intArg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

childMain(() =>
  runPipeline(
    'deadletter',
    new DeadletterSystem(
      intArg('concurrency', 100),
      intArg('batch', 100),
      process.argv.includes('--trace-store'),
    ),
    intArg('messages', 100_000),
  ),
);
