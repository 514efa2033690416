import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Moves WAL checkpoints off the thread that writes.
 *
 * In WAL mode a commit appends pages to the log; a checkpoint copies them back into the
 * database file and fsyncs both. By default SQLite runs it inside the commit that grows the log
 * past 1,000 pages, so every few hundred claims one of them waits for two fsyncs: in a CPU
 * profile of the pipeline bench, about 1 s of a 7 s run (commits took 1.7 s, 0.7 s without). Here a thread of its own, with its own
 * connection, runs a PASSIVE checkpoint every `intervalMs`: it never blocks the writer nor
 * readers, and the writer keeps a high autocheckpoint only as a safety net (see
 * {@link WRITER_AUTOCHECKPOINT_PAGES}) should this thread fall behind.
 *
 * The thread is plain JavaScript (`eval`), so it needs no TypeScript loader, and loads the same
 * better-sqlite3 as the store. It does not keep the process alive.
 */
export class Checkpointer {
  private worker: Worker | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  /**
   * The thread starts `startAfterMs` after the store opens: a short-lived process (a `dlq`
   * command) never pays for one, and until then the writer's autocheckpoint covers.
   */
  constructor(path: string, intervalMs = CHECKPOINT_INTERVAL_MS, startAfterMs = CHECKPOINTER_START_MS) {
    this.timer = setTimeout(() => this.start(path, intervalMs), startAfterMs);
    this.timer.unref();
  }

  private start(path: string, intervalMs: number): void {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver: require.resolve('better-sqlite3'), path, intervalMs },
      // A small isolate: the thread holds one statement and no data.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    worker.unref();
    this.exited = new Promise((resolve) => {
      worker.once('exit', () => resolve());
      // A checkpointer that cannot start (or dies) costs only speed: the writer's
      // autocheckpoint takes over.
      worker.once('error', () => resolve());
    });
    this.worker = worker;
  }

  /** Stops the thread (or its start) and closes its connection; resolves once it has exited. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    if (!this.worker) return;
    // Referenced again while it stops: an unreferenced thread would let the process exit
    // before its connection is closed.
    this.worker.ref();
    this.worker.postMessage('stop');
    await this.exited;
  }
}

/** How long after a store opens its checkpoint thread starts. */
export const CHECKPOINTER_START_MS = 1_000;

/** How often the thread checkpoints. */
export const CHECKPOINT_INTERVAL_MS = 100;

/**
 * The writer's own autocheckpoint (pages) while a {@link Checkpointer} runs: only reached if
 * the thread falls behind, e.g. under a long-lived reader.
 */
export const WRITER_AUTOCHECKPOINT_PAGES = 10_000;

const require = createRequire(import.meta.url);

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: 1000 });
db.pragma('synchronous = NORMAL');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch {
    // Busy (another process checkpoints) or a transient error: the next tick tries again.
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;
