/**
 * Done retention: what done messages cost on disk, and how long the done-retention sweep's
 * deletion takes. Fills a fresh store with done messages (sent, claimed and completed through
 * the store, 1,000 per batch, a 120-byte JSON body and two headers each), reports the bytes a
 * done row takes, then deletes them all as the sweep does (`messagePruneDone`, 5,000 rows per
 * statement) and reports each statement's time (p50, p99, max: the longest a worker waits for
 * the write lock, on SQLite) and rows deleted per second.
 *
 * Standalone, not a part of `npm run bench`:
 *   node --import tsx done-retention/prune-bench.ts --rows 200000 --store sqlite,postgres
 */
import { rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../../src/index.ts';
import { percentile } from '../lib/percentile.ts';

const T0 = Date.UTC(2026, 0, 1);
const BODY = {
  orderId: 'ord_0123456789',
  customer: 'cus_abcdef',
  amount: 4200,
  currency: 'EUR',
  items: ['sku-1', 'sku-2'],
};
const HEADERS = {
  'content-type': 'application/json',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
};
const WORKER = { workerId: 'bench', workerVersion: '1', host: 'bench' };
const PG_ADMIN = `postgres://${process.env.PGUSER ?? 'postgres'}@127.0.0.1:5432/test`;

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

/** Sends, claims and completes `rows` messages of queue `orders`, done 1 ms apart per batch. */
async function fill(store: Store, rows: number): Promise<void> {
  await store.queueCreate({
    queue: {
      name: 'orders',
      maxReceives: 5,
      visibilityTimeoutMs: 30_000,
      backoff: { type: 'fixed', delayMs: 0 },
      deadLetter: true,
      retentionDays: 14,
      doneRetentionMs: 3_600_000,
      createdAt: T0,
      updatedAt: T0,
    },
  });
  let n = 0;
  for (let sent = 0; sent < rows; sent += 1_000) {
    const now = T0 + sent;
    const messages = Array.from({ length: Math.min(1_000, rows - sent) }, () => ({
      id: `0190bench-${String(++n).padStart(12, '0')}`,
      body: BODY,
      headers: HEADERS,
      idempotencyKey: null,
      visibleAt: now,
    }));
    await store.messageInsertBatch({ queue: 'orders', now, messages });
    const claimed = await store.messageClaim({
      queue: 'orders',
      limit: 1_000,
      now,
      leaseMs: 30_000,
      worker: WORKER,
    });
    await store.messageComplete({ items: claimed, now: now + 1 });
  }
}

/** Deletes every done row in batches of 5,000, timing each statement. */
async function prune(store: Store): Promise<{ deleted: number; ms: number; batches: number[] }> {
  const batches: number[] = [];
  let deleted = 0;
  const start = performance.now();
  for (;;) {
    const t = performance.now();
    const batch = await store.messagePruneDone({ queue: 'orders', cutoff: T0 + 1e12, limit: 5_000 });
    batches.push(performance.now() - t);
    deleted += batch.deleted;
    if (batch.deleted < 5_000) break;
  }
  return { deleted, ms: performance.now() - start, batches };
}

function report(kind: string, rows: number, bytes: number, result: Awaited<ReturnType<typeof prune>>): void {
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  console.log(
    `${kind}: ${rows} done rows, ${Math.round(bytes / rows)} bytes a row (${(bytes / 1e6).toFixed(1)} MB); ` +
      `deleted ${result.deleted} in ${(result.ms / 1000).toFixed(2)} s (${Math.round(result.deleted / (result.ms / 1000))} rows/s), ` +
      `per 5,000-row statement p50 ${ms(percentile(result.batches, 50))}, p99 ${ms(percentile(result.batches, 99))}, ` +
      `max ${ms(Math.max(...result.batches))}`,
  );
}

async function sqlite(rows: number): Promise<void> {
  const file = join(tmpdir(), `deadletter-done-bench-${process.pid}.db`);
  const remove = () => {
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  };
  remove();
  try {
    const filled = await openStore(`sqlite:${file}`, { migrate: true });
    await fill(filled, rows);
    await filled.close(); // checkpoints the WAL into the file
    const bytes = statSync(file).size;
    const store = await openStore(`sqlite:${file}`);
    const result = await prune(store);
    await store.close();
    report('SQLite', rows, bytes, result);
  } finally {
    remove();
  }
}

async function postgres(rows: number): Promise<void> {
  const schema = `bench_done_${process.pid}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  try {
    const store = await openStore(`${PG_ADMIN}?schema=${schema}`, { migrate: true });
    await fill(store, rows);
    await admin.query(`VACUUM ANALYZE "${schema}".messages`);
    const size = await admin.query<{ bytes: string }>(
      `SELECT pg_total_relation_size('"${schema}".messages') AS bytes`,
    );
    const result = await prune(store);
    await store.close();
    report('PostgreSQL', rows, Number(size.rows[0]?.bytes), result);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}

const rows = Number(option('rows', '200000'));
const stores = option('store', 'sqlite,postgres').split(',');
if (stores.includes('sqlite')) await sqlite(rows);
if (stores.includes('postgres')) await postgres(rows);
