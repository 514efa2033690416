/**
 * The pipeline workload on Deadletter with its PostgreSQL store, as a team outgrowing one
 * process runs it: several worker processes (`deadletter-pg-worker.ts`, each one `dl.work`
 * with the shared handler) on one database, and this process sending with `sendBatch` of
 * 1,000, all through the public library API. A fresh schema per run, dropped afterwards;
 * durability as configured on the server (`synchronous_commit` untouched).
 *
 * The handler runs in the children, so the harness's handler tally is the sum of theirs,
 * reported every 50 ms and exactly once they stop (the 1.8 × N check uses the final sum).
 * Each process's peak RSS and CPU are reported, and the CPU of the PostgreSQL backends serving
 * the run (see `lib/pg-cpu.ts`).
 *
 * Options after the script name: `--messages N`, `--processes K` (worker processes),
 * `--concurrency C` and `--batch B` (per process), `--pool P` (connections per process),
 * `--trace-store` (each worker logs what its store calls cost; for diagnosis only).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deadletter } from '../../src/index.ts';
import { childMain, log } from '../lib/child.ts';
import { compileScript } from '../lib/compile.ts';
import { backendCpu, cpuSince, dropSchema, POSTGRES_URL, serverVersion } from '../lib/pg-cpu.ts';
import { packageVersion } from '../lib/versions.ts';
import type { WorkerMessage, WorkerStopped } from './deadletter-pg-worker.ts';
import { DeadletterQueueSystem, QUEUE } from './deadletter-queue.ts';
import { intArg, type ProcessUsage, runPipeline, type SystemUnderTest } from './harness.ts';
import type { WorkloadHandler } from './workload.ts';

const ROOT = new URL('../../', import.meta.url);
const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url));
const WORKER_SCRIPT = 'pipeline/deadletter-pg-worker.ts';

/**
 * How to start a worker process: compiled to plain JavaScript like this process when it runs
 * compiled (`lib/child.ts`), else under tsx. Returns the module to fork and the Node options.
 */
async function workerCommand(): Promise<{ module: string; execArgv: string[] }> {
  // DLBENCH_WORKER_NODE_ARGS adds Node options to the workers, e.g. `--cpu-prof`.
  const extra = process.env.DLBENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  if (process.argv[1]?.endsWith('.mjs')) {
    return { module: join(BENCH_DIR, await compileScript(WORKER_SCRIPT)), execArgv: extra };
  }
  return { module: join(BENCH_DIR, WORKER_SCRIPT), execArgv: [...extra, '--import', 'tsx'] };
}

interface Child {
  process: ChildProcess;
  last: { calls: number; succeeded: number; failedFinal: number };
  stopped?: WorkerStopped;
  /** Settles when the child has sent its final counts or exited. */
  done: Promise<void>;
}

class DeadletterPostgresSystem extends DeadletterQueueSystem implements SystemUnderTest {
  private readonly schema = `dlbench_pg_${process.pid}_${Date.now()}`;
  /** Every connection of this run carries it, so its backends can be found (CPU). */
  private readonly application = `dlbench_${process.pid}`;
  private readonly url: string;
  private children: Child[] = [];
  private cpuBefore = new Map<number, number>();
  /** Filled by `stop()`. */
  databaseCpuSeconds = 0;
  postgres = 'unknown';

  constructor(
    private readonly processes: number,
    private readonly concurrency: number,
    private readonly batchSize: number,
    private readonly pool: number,
    private readonly traced: boolean,
  ) {
    super();
    this.url = `${POSTGRES_URL}?schema=${this.schema}&pool=${pool}&application_name=${this.application}${process.env.DLBENCH_PG_EXTRA ?? ''}`;
  }

  get tuning(): string {
    return (
      `${this.processes} worker processes × concurrency ${this.concurrency}, claim batch ${this.batchSize}, ` +
      `pool of ${this.pool} connections each; the sender in its own process, sendBatch of 1,000; ` +
      'maxReceives 5, backoff fixed:0, doneRetention 0; synchronous_commit as the server has it (on)'
    );
  }

  async describe(): Promise<Record<string, string>> {
    return {
      deadletter: packageVersion('deadletter', ROOT.href),
      pg: packageVersion('pg', ROOT.href),
    };
  }

  async start(handler: WorkloadHandler): Promise<void> {
    const dl = await Deadletter.open({ store: this.url, maintenance: false });
    await this.useHandle(dl);
    this.postgres = await serverVersion();
    const sum = () => {
      handler.calls = 0;
      handler.succeeded = 0;
      handler.failedFinal = 0;
      for (const child of this.children) {
        const counts = child.stopped ?? child.last;
        handler.calls += counts.calls;
        handler.succeeded += counts.succeeded;
        handler.failedFinal += counts.failedFinal;
      }
    };
    const ready: Promise<void>[] = [];
    const command = await workerCommand();
    for (let k = 0; k < this.processes; k++) {
      const proc = fork(command.module, [this.url, QUEUE, String(this.concurrency), String(this.batchSize)], {
        execArgv: command.execArgv,
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
        env: { ...process.env, ...(this.traced ? { DLBENCH_TRACE_STORE: '1' } : {}) },
      });
      proc.stdout?.pipe(process.stderr);
      let finished = () => {};
      const child: Child = {
        process: proc,
        last: { calls: 0, succeeded: 0, failedFinal: 0 },
        done: new Promise<void>((resolve) => {
          finished = resolve;
        }),
      };
      this.children.push(child);
      proc.on('exit', () => finished());
      ready.push(
        new Promise<void>((resolve, reject) => {
          proc.on('message', (message: WorkerMessage) => {
            if (message.type === 'ready') resolve();
            else if (message.type === 'progress') child.last = message;
            else if (message.type === 'stopped') {
              child.stopped = message;
              finished();
            }
            sum();
          });
          proc.on('exit', (code) => {
            if (!child.stopped) reject(new Error(`worker process ${k + 1} exited with ${code} early`));
          });
        }),
      );
    }
    await Promise.all(ready);
    this.cpuBefore = await backendCpu(this.application);
    log(`deadletter-pg: ${this.processes} worker processes ready`);
  }

  /** Each worker process's usage, once stopped. */
  usage(seconds: number): ProcessUsage[] {
    return this.children.map((child, k) => {
      const s = child.stopped as WorkerStopped;
      return {
        role: `worker ${k + 1}`,
        peakRssMb: s.peakRssMb,
        loadedRssMb: s.loadedRssMb,
        cpuCores: s.cpuSeconds / seconds,
        handlerCalls: s.calls,
      };
    });
  }

  async stop(): Promise<void> {
    this.databaseCpuSeconds = cpuSince(this.cpuBefore, await backendCpu(this.application));
    for (const child of this.children) if (child.process.connected) child.process.send({ type: 'stop' });
    await Promise.all(this.children.map((child) => child.done));
    const missing = this.children.filter((c) => !c.stopped).length;
    if (missing > 0) throw new Error(`${missing} worker processes stopped without their final counts`);
  }

  async cleanUp(): Promise<void> {
    for (const child of this.children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
    await this.dl?.close();
    await dropSchema(this.schema);
  }
}

childMain(async () => {
  const system = new DeadletterPostgresSystem(
    intArg('processes', 2),
    intArg('concurrency', 400),
    intArg('batch', 200),
    intArg('pool', 10),
    process.argv.includes('--trace-store'),
  );
  const result = await runPipeline('deadletter-pg', system, intArg('messages', 100_000));
  result.versions.postgresql = system.postgres;
  result.processes = system.usage(result.seconds);
  result.databaseCpuCores = system.databaseCpuSeconds / result.seconds;
  return result;
});
