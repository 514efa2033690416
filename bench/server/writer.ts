/**
 * The writing side of the server load check: a worker process on the same SQLite file as the
 * server, sending messages to `bench.load` and failing each one (a permanent error), so dead
 * letters keep arriving while the server is read. Runs until SIGTERM, then prints one result
 * line: how many it sent and how many died. Options: `--store URL`, `--rate N` (messages/s).
 */
import { Deadletter, PermanentError } from '../../src/index.ts';
import { childMain, log } from '../lib/child.ts';

const QUEUE = 'bench.load';

export interface WriterResult {
  sent: number;
  deadLettered: number;
  seconds: number;
  deadLettersPerSecond: number;
}

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at > 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

async function main(): Promise<WriterResult> {
  const store = option('--store', '');
  const rate = Number(option('--rate', '200'));
  const dl = await Deadletter.open({ store, maintenance: false, actor: 'bench' });
  await dl.ensureQueue(QUEUE, { maxReceives: 1, backoff: 'fixed:0' });
  let n = 0;
  const worker = await dl.work<{ n: number }>(
    QUEUE,
    (message) => {
      throw new PermanentError(`order ${message.body.n} cannot be shipped to warehouse 7`);
    },
    { concurrency: 20 },
  );
  const started = Date.now();
  // Ten batches a second: the rate is spread over the second, not sent in one burst.
  const perTick = Math.max(1, Math.round(rate / 10));
  const timer = setInterval(() => {
    const bodies = Array.from({ length: perTick }, () => ({ body: { n: ++n, sku: `SKU-${n % 977}` } }));
    dl.sendBatch(QUEUE, bodies).catch((error: unknown) => log(`writer: send failed: ${String(error)}`));
  }, 100);
  log(`writer: sending ${rate} messages/s to ${QUEUE}, each dead-lettered`);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  clearInterval(timer);
  await worker.stop();
  const seconds = (Date.now() - started) / 1000;
  const deadLettered = worker.counters.deadLettered;
  await dl.close();
  return { sent: n, deadLettered, seconds, deadLettersPerSecond: deadLettered / seconds };
}

childMain(main);
