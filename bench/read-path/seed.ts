/**
 * Seeds the read-path database: N dead letters (default 1,000,000) over 200 groups and 10
 * queues, plus a small live backlog, written through the store's own write path exactly as
 * workers write them: `messageInsertBatch`, then `messageClaim` and `messageFail` with the
 * outcome that `planFailure` (the engine's classifier, backoff and fingerprint) decides, until
 * every message is dead. Retryable failures are received 5 times, so their dead letters carry
 * 5 attempts; malformed and declared-permanent ones die on their first receive. Time is
 * simulated: deaths spread over the last 14 days.
 *
 * The database is cached in the OS temp folder, keyed by schema version, seed version and
 * size, so reruns skip this; `--reseed` rebuilds it. Prints the seed's description as its
 * result. Options: `--dead-letters N`, `--reseed`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planFailure } from '../../src/core/failure-plan.ts';
import { newId } from '../../src/core/ids.ts';
import type { Attempt, WorkerIdentity } from '../../src/core/message.ts';
import { type ClaimedMessage, openStore, type QueueRecord, type Store } from '../../src/index.ts';
import { latestSchemaVersion } from '../../src/store/sqlite/migrate.ts';
import type { FailItem } from '../../src/store/store.ts';
import { childMain, log } from '../lib/child.ts';
import { buildCatalog, type CatalogGroup, QUEUES, seededRandom } from './catalog.ts';

/** Bump when the seeded data changes shape, so old caches are not reused. */
const SEED_VERSION = 1;
const DAY = 86_400_000;
const CHUNK = 10_000;
const LIVE_WAITING_PER_QUEUE = 1_000;
const LIVE_DELAYED_PER_QUEUE = 200;

export interface SeedDescription {
  file: string;
  schemaVersion: number;
  seedVersion: number;
  deadLetters: number;
  queues: number;
  groups: number;
  tiers: Record<string, number>;
  liveMessages: number;
  fileMb: number;
  seededAt: string;
  seedSeconds: number;
  cached: boolean;
}

export function seedFile(deadLetters: number): string {
  return join(
    tmpdir(),
    'deadletter-bench',
    `read-path-schema${latestSchemaVersion()}-seed${SEED_VERSION}-${deadLetters}.db`,
  );
}

const WORKERS: WorkerIdentity[] = [1, 2, 3, 4].map((k) => ({
  workerId: `bench-host-${k}:4242:a1b2c${k}`,
  workerVersion: '2.14.0',
  host: `bench-host-${k}`,
}));

function queueRecord(name: string, now: number): QueueRecord {
  return {
    name,
    maxReceives: 5,
    visibilityTimeoutMs: 30_000,
    backoff: { type: 'fixed', delayMs: 0 },
    deadLetter: true,
    retentionDays: 14,
    createdAt: now,
    updatedAt: now,
  };
}

function orderBody(n: number, random: () => number) {
  return {
    orderId: `ord_${n.toString(36).padStart(8, '0')}`,
    customerId: `cus_${Math.floor(random() * 1e9).toString(36)}`,
    lines: [
      { sku: `SKU-${n % 9973}`, quantity: 1 + (n % 4), unitPrice: 1999 },
      { sku: `SKU-${(n * 7) % 9973}`, quantity: 1, unitPrice: 4550 },
    ],
    currency: 'EUR',
    placedAt: new Date(1_767_225_600_000 + n * 1000).toISOString(),
  };
}

/** How many dead letters each (group, queue) pair gets: skewed by group weight, exact total. */
function allocate(catalog: CatalogGroup[], total: number): { group: number; queue: string; count: number }[] {
  const sum = catalog.reduce((s, g) => s + g.weight, 0);
  const perGroup = catalog.map((g) => Math.max(1, Math.floor((total * g.weight) / sum)));
  let left = total - perGroup.reduce((s, n) => s + n, 0);
  for (let g = 0; left !== 0; g = (g + 1) % catalog.length) {
    const step = left > 0 ? 1 : -1;
    if ((perGroup[g] as number) + step >= 1) {
      perGroup[g] = (perGroup[g] as number) + step;
      left -= step;
    }
  }
  const shares: Record<number, number[]> = { 1: [1], 2: [0.7, 0.3], 3: [0.6, 0.25, 0.15] };
  const pairs: { group: number; queue: string; count: number }[] = [];
  for (const group of catalog) {
    const count = perGroup[group.index] as number;
    const split = shares[group.queues.length] as number[];
    let given = 0;
    group.queues.forEach((queue, k) => {
      const n = k === group.queues.length - 1 ? count - given : Math.floor(count * (split[k] as number));
      given += n;
      if (n > 0) pairs.push({ group: group.index, queue, count: n });
    });
  }
  return pairs;
}

async function seed(file: string, total: number): Promise<Omit<SeedDescription, 'cached' | 'file'>> {
  const started = performance.now();
  const store: Store = await openStore(`sqlite:${file}`, { migrate: true });
  const random = seededRandom(42);
  const catalog = buildCatalog(7);
  const pairs = allocate(catalog, total);
  // Every message's (group, queue) pair, shuffled so deaths interleave over time.
  const order = new Uint16Array(total);
  let at = 0;
  pairs.forEach((pair, index) => {
    order.fill(index, at, at + pair.count);
    at += pair.count;
  });
  for (let k = total - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1));
    const t = order[k] as number;
    order[k] = order[j] as number;
    order[j] = t;
  }

  const end = Date.now();
  const start = end - 14 * DAY;
  const step = (14 * DAY) / total;
  const records = new Map<string, QueueRecord>();
  for (const name of QUEUES) {
    records.set(name, await store.queueCreate({ queue: queueRecord(name, start - DAY) }));
  }

  let lastLog = performance.now();
  for (let first = 0; first < total; first += CHUNK) {
    const now = Math.floor(start + first * step);
    const byQueue = new Map<string, { n: number; group: CatalogGroup }[]>();
    for (let n = first; n < Math.min(total, first + CHUNK); n++) {
      const pair = pairs[order[n] as number] as (typeof pairs)[number];
      let bucket = byQueue.get(pair.queue);
      if (!bucket) {
        bucket = [];
        byQueue.set(pair.queue, bucket);
      }
      bucket.push({ n, group: catalog[pair.group] as CatalogGroup });
    }
    for (const [queue, bucket] of byQueue) {
      await seedBucket(store, records.get(queue) as QueueRecord, bucket, now, random);
    }
    if (performance.now() - lastLog > 5_000) {
      lastLog = performance.now();
      const done = Math.min(total, first + CHUNK);
      const rate = done / ((lastLog - started) / 1000);
      log(`seeded ${done} of ${total} dead letters (${Math.round(rate)}/s)`);
    }
  }

  // A small live backlog, so `stats` counts waiting and delayed messages too.
  for (const [name] of records) {
    const messages = [];
    for (let k = 0; k < LIVE_WAITING_PER_QUEUE + LIVE_DELAYED_PER_QUEUE; k++) {
      messages.push({
        id: newId(),
        body: orderBody(total + k, random),
        headers: {},
        idempotencyKey: null,
        visibleAt: k < LIVE_WAITING_PER_QUEUE ? end : end + 3650 * DAY,
      });
    }
    await store.messageInsertBatch({ queue: name, messages, now: end });
  }

  const tiers: Record<string, number> = {};
  const groups = await store.groupList({ sort: 'count', limit: 10_000 });
  for (const group of groups) tiers[group.tier] = (tiers[group.tier] ?? 0) + group.deadCount;
  const stats = await store.queueStats({ now: end });
  const deadLetters = stats.reduce((s, q) => s + q.dead, 0);
  await store.close();
  return {
    schemaVersion: latestSchemaVersion(),
    seedVersion: SEED_VERSION,
    deadLetters,
    queues: stats.length,
    groups: groups.length,
    tiers,
    liveMessages: QUEUES.length * (LIVE_WAITING_PER_QUEUE + LIVE_DELAYED_PER_QUEUE),
    fileMb: 0,
    seededAt: new Date().toISOString(),
    seedSeconds: (performance.now() - started) / 1000,
  };
}

/** Sends a bucket of messages to one queue and fails them, receive after receive, until all are dead. */
async function seedBucket(
  store: Store,
  queue: QueueRecord,
  bucket: { n: number; group: CatalogGroup }[],
  start: number,
  random: () => number,
): Promise<void> {
  const byId = new Map<string, { n: number; group: CatalogGroup }>();
  const messages = bucket.map((entry) => {
    const id = newId();
    byId.set(id, entry);
    return {
      id,
      body: orderBody(entry.n, random),
      headers: { 'content-type': 'application/json', 'x-tenant': `t${entry.n % 37}` },
      idempotencyKey: `order-${entry.n}`,
      visibleAt: start,
    };
  });
  await store.messageInsertBatch({ queue: queue.name, messages, now: start });
  let now = start;
  for (;;) {
    now += 250;
    const worker = WORKERS[Math.floor(random() * WORKERS.length)] as WorkerIdentity;
    const claimed: ClaimedMessage[] = await store.messageClaim({
      queue: queue.name,
      limit: bucket.length,
      now,
      leaseMs: queue.visibilityTimeoutMs,
      worker,
    });
    if (claimed.length === 0) return;
    const items: FailItem[] = claimed.map((message) => {
      const entry = byId.get(message.id) as { n: number; group: CatalogGroup };
      const durationMs = 5 + Math.floor(random() * 120);
      const attempt: Attempt = {
        number: message.receives,
        startedAt: now - durationMs,
        durationMs,
        error: entry.group.failure(entry.n, random),
        ...worker,
      };
      const plan = planFailure({ queue, receives: message.receives, attempt, now, rules: {} });
      const lease = { id: message.id, leaseToken: message.leaseToken, attempt };
      if (plan.outcome === 'retry') return { ...lease, outcome: 'retry', visibleAt: plan.visibleAt };
      if (plan.outcome === 'dead') return { ...lease, outcome: 'dead', death: plan.death };
      throw new Error(`queue ${queue.name} dropped a failure: its DLQ should be on`);
    });
    await store.messageFail({ items, now });
  }
}

/** Returns the cached seed if it is complete, else (re)builds it. */
export async function ensureSeed(deadLetters: number, reseed: boolean): Promise<SeedDescription> {
  const file = seedFile(deadLetters);
  const metaFile = `${file}.json`;
  if (!reseed && existsSync(file) && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as SeedDescription;
    log(`read path: using the cached seed ${file} (seeded ${meta.seededAt}; --reseed rebuilds it)`);
    return { ...meta, file, cached: true };
  }
  mkdirSync(join(tmpdir(), 'deadletter-bench'), { recursive: true });
  const building = `${file}.building`;
  for (const path of [file, metaFile, building, `${building}-wal`, `${building}-shm`])
    rmSync(path, { force: true });
  log(`read path: seeding ${deadLetters} dead letters into ${file} (cached for later runs)`);
  const described = await seed(building, deadLetters);
  renameSync(building, file);
  const { size } = statSync(file);
  const meta: SeedDescription = { ...described, file, fileMb: Math.round(size / 1024 / 1024), cached: false };
  writeFileSync(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--dead-letters');
  const deadLetters = at > 0 ? Number(process.argv[at + 1]) : 1_000_000;
  childMain(() => ensureSeed(deadLetters, process.argv.includes('--reseed')));
}
