/**
 * One worker process of the PostgreSQL pipeline (`deadletter-pg.ts` forks several): opens the
 * store the parent created, runs one `dl.work` with the shared workload handler, and talks to
 * the parent over the IPC channel:
 *
 * - sends `{ type: 'ready', loadedRssMb }` once its worker runs;
 * - sends `{ type: 'progress', calls, succeeded, failedFinal }` every 50 ms while it works;
 * - on `{ type: 'stop' }`: notes its CPU time, stops the worker (its last acks flushed), sends
 *   `{ type: 'stopped', ... }` with its final counts, peak RSS and CPU seconds, and exits.
 *
 * Arguments: `<store-url> <queue> <concurrency> <batch>`. With `DLBENCH_TRACE_STORE=1` in its
 * environment it logs what its store calls cost when it stops (see `store-trace.ts`).
 */
import { Deadletter } from '../../src/index.ts';
import { megabytes, PeakRss } from '../lib/memory.ts';
import { traceStore } from './store-trace.ts';
import { type WorkloadBody, WorkloadHandler } from './workload.ts';

export interface WorkerProgress {
  type: 'progress';
  calls: number;
  succeeded: number;
  failedFinal: number;
}

export interface WorkerStopped {
  type: 'stopped';
  calls: number;
  succeeded: number;
  failedFinal: number;
  peakRssMb: number;
  loadedRssMb: number;
  /** CPU time (user + system) of this process from `ready` until it was asked to stop. */
  cpuSeconds: number;
}

export type WorkerMessage = { type: 'ready'; loadedRssMb: number } | WorkerProgress | WorkerStopped;

async function main(): Promise<void> {
  const [url, queue, concurrency, batch] = process.argv.slice(2);
  if (!url || !queue || !concurrency || !batch) {
    throw new Error('usage: deadletter-pg-worker.ts <store-url> <queue> <concurrency> <batch>');
  }
  // As in the harness: stack traces mapped back to TypeScript are an artefact of tsx.
  process.setSourceMapsEnabled(false);
  const send = (message: WorkerMessage) =>
    new Promise<void>((resolve) => {
      if (!process.send) return resolve();
      process.send(message, undefined, {}, () => resolve());
    });
  const rss = new PeakRss();
  const loadedRssMb = megabytes(process.memoryUsage.rss());
  const handler = new WorkloadHandler();
  const dl = await Deadletter.open({ store: url });
  const trace = process.env.DLBENCH_TRACE_STORE === '1' ? traceStore(dl.store) : undefined;
  const worker = await dl.work<WorkloadBody>(
    queue,
    async (message) => {
      handler.handle(message.body.i, message.receives);
    },
    { concurrency: Number(concurrency), batchSize: Number(batch) },
  );
  const cpuAtReady = process.cpuUsage();
  const progress = () =>
    void send({
      type: 'progress',
      calls: handler.calls,
      succeeded: handler.succeeded,
      failedFinal: handler.failedFinal,
    });
  const timer = setInterval(progress, 50);
  await send({ type: 'ready', loadedRssMb });
  process.on('message', (message: { type: string }) => {
    if (message.type !== 'stop') return;
    clearInterval(timer);
    const cpu = process.cpuUsage(cpuAtReady);
    void (async () => {
      await worker.stop();
      if (trace) process.stderr.write(`  worker ${process.pid}: store calls\n${trace()}\n`);
      await send({
        type: 'stopped',
        calls: handler.calls,
        succeeded: handler.succeeded,
        failedFinal: handler.failedFinal,
        peakRssMb: megabytes(rss.stop()),
        loadedRssMb,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
      });
      await dl.close();
      process.disconnect();
      process.exit(0);
    })();
  });
  // The parent went away (it failed or was killed): do not linger.
  process.on('disconnect', () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
