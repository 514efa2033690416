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
import { DeadletterQueueSystem, QUEUE } from './deadletter-queue.ts';
import { intArg, runPipeline, type SystemUnderTest } from './harness.ts';
import { traceStore } from './store-trace.ts';
import type { WorkloadBody, WorkloadHandler } from './workload.ts';

const ROOT = new URL('../../', import.meta.url);

class DeadletterSystem extends DeadletterQueueSystem implements SystemUnderTest {
  private readonly dir = mkdtempSync(join(tmpdir(), 'deadletter-bench-'));
  private readonly file = join(this.dir, 'pipeline.db');
  private worker: Worker | undefined;
  private trace: (() => string) | undefined;

  constructor(
    private readonly concurrency: number,
    private readonly batchSize: number,
    private readonly traced: boolean,
  ) {
    super();
  }

  get tuning(): string {
    return `1 worker, concurrency ${this.concurrency}, claim batch ${this.batchSize}, sendBatch of 1,000, maxReceives 5, backoff fixed:0, doneRetention 0`;
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
    if (this.traced) this.trace = traceStore(dl.store);
    await this.useHandle(dl);
    this.worker = await dl.work<WorkloadBody>(
      QUEUE,
      async (message) => {
        handler.handle(message.body.i, message.receives);
      },
      { concurrency: this.concurrency, batchSize: this.batchSize },
    );
  }

  async stop(): Promise<void> {
    await this.worker?.stop();
    if (this.trace) log(`store calls during the run and the checks:\n${this.trace()}`);
  }

  async cleanUp(): Promise<void> {
    await this.dl?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

childMain(() =>
  runPipeline(
    'deadletter',
    new DeadletterSystem(
      intArg('concurrency', 200),
      intArg('batch', 200),
      process.argv.includes('--trace-store'),
    ),
    intArg('messages', 100_000),
  ),
);
