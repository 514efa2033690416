/**
 * Seeds the read-path database: N dead letters (default 1,000,000) over 200 groups and 10
 * queues, plus a small live backlog.
 *
 * Each dead letter is what a worker would have written: its attempts are decided one receive
 * at a time by the engine's own `planFailure` (classifier, retry decision, fingerprint), so a
 * retryable failure carries 5 attempts and a malformed or declared-permanent one carries 1; the
 * row, its group and the counters are written with the SQLite store's own prepared statements
 * (`deadLetterInsert`, `groupUpsert`, `groupQueueUpsert`, `countersAddDead`: what
 * `messageFail` runs for a death). Skipped is the live part of each message's life (insert,
 * claims, retries), which leaves nothing behind but would take most of an hour for a million:
 * through `messageInsertBatch`, `messageClaim` and `messageFail` the seed ran at about 1,200
 * dead letters/s on the bench machine. Deaths are spread over the last 14 days.
 *
 * The database is cached in the OS temp folder, keyed by schema version, seed version and
 * size, so reruns skip this; `--reseed` rebuilds it. Prints the seed's description as its
 * result. Options: `--dead-letters N`, `--reseed`.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { planFailure } from '../../src/core/failure-plan.ts';
import { newId } from '../../src/core/ids.ts';
import type { Attempt, WorkerIdentity } from '../../src/core/message.ts';
import { openStore, type QueueRecord, type Store } from '../../src/index.ts';
import { latestSchemaVersion } from '../../src/store/sqlite/migrate.ts';
import {
  type DeadLetterInsertRow,
  prepareStatements,
  type Statements,
} from '../../src/store/sqlite/statements.ts';
import { childMain, isEntryScript, log } from '../lib/child.ts';
import { buildCatalog, type CatalogGroup, QUEUES, seededRandom } from './catalog.ts';

/** Bump when the seeded data changes shape, so old caches are not reused. */
export const SEED_VERSION = 3;
export const DAY = 86_400_000;
/** Dead letters per write transaction. */
const CHUNK = 5_000;
export const LIVE_WAITING_PER_QUEUE = 1_000;
export const LIVE_DELAYED_PER_QUEUE = 200;

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

export const WORKERS: WorkerIdentity[] = [1, 2, 3, 4].map((k) => ({
  workerId: `bench-host-${k}:4242:a1b2c${k}`,
  workerVersion: '2.14.0',
  host: `bench-host-${k}`,
}));
export function queueRecord(name: string, now: number): QueueRecord {
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
export function orderBody(n: number, random: () => number) {
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

/**
 * The deaths of a seed of `total`, shared by the SQLite seed and the PostgreSQL one
 * (`seed-pg.ts`) so both hold the same data: `deathOf(n)` for n = 0, 1, ... in order (each
 * draws from `random`, which the caller goes on using afterwards for the live backlog).
 */
export function planDeaths(
  total: number,
  records: Map<string, QueueRecord>,
  start: number,
  step: number,
): { random: () => number; deathOf: (n: number) => PlannedDeath } {
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
  return {
    random,
    deathOf(n: number): PlannedDeath {
      const pair = pairs[order[n] as number] as (typeof pairs)[number];
      const group = catalog[pair.group] as CatalogGroup;
      const queue = records.get(pair.queue) as QueueRecord;
      return planDeath(queue, group, n, Math.floor(start + n * step), random);
    },
  };
}

async function seed(file: string, total: number): Promise<Omit<SeedDescription, 'cached' | 'file'>> {
  const started = performance.now();
  const end = Date.now();
  const start = end - 14 * DAY;
  const step = (14 * DAY) / total;

  // The store creates the schema and the queues.
  let store: Store = await openStore(`sqlite:${file}`, { migrate: true });
  const records = new Map<string, QueueRecord>();
  for (const name of QUEUES) {
    records.set(name, await store.queueCreate({ queue: queueRecord(name, start - DAY) }));
  }
  await store.close();

  // The deaths, through the store's own statements on a connection set up like the store's.
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const sql = prepareStatements(db);
  const { random, deathOf } = planDeaths(total, records, start, step);
  const writeChunk = db.transaction((first: number, last: number) => {
    for (let n = first; n < last; n++) writeDeath(sql, deathOf(n));
  });
  let lastLog = performance.now();
  for (let first = 0; first < total; first += CHUNK) {
    writeChunk.immediate(first, Math.min(total, first + CHUNK));
    if (performance.now() - lastLog > 5_000) {
      lastLog = performance.now();
      const done = Math.min(total, first + CHUNK);
      log(`seeded ${done} of ${total} dead letters (${Math.round(done / ((lastLog - started) / 1000))}/s)`);
    }
  }
  db.close();

  // A small live backlog through the store, so `stats` counts waiting and delayed messages too.
  store = await openStore(`sqlite:${file}`);
  await insertLiveBacklog(store, records.keys(), total, random, end);
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

/**
 * A small live backlog, sent through the store so `stats` counts waiting and delayed messages
 * too: per queue, LIVE_WAITING_PER_QUEUE visible at `end` and LIVE_DELAYED_PER_QUEUE ten years on.
 * Bodies continue the seed's numbering after its `total` deaths.
 */
export async function insertLiveBacklog(
  store: Store,
  queues: Iterable<string>,
  total: number,
  random: () => number,
  end: number,
): Promise<void> {
  for (const name of queues) {
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
}

/** One dead letter of the seed: the row of `dead_letters` (as the SQLite store inserts it) and what its group needs. */
export interface PlannedDeath {
  row: DeadLetterInsertRow;
  normalizedMessage: string;
}

/**
 * Message `n` of `group` fails receive after receive, as `planFailure` decides, until it dies
 * at `diedAt`: what `messageFail` writes for that death.
 */
function planDeath(
  queue: QueueRecord,
  group: CatalogGroup,
  n: number,
  diedAt: number,
  random: () => number,
): PlannedDeath {
  const error = group.failure(n, random);
  const worker = WORKERS[n % WORKERS.length] as WorkerIdentity;
  const attempts: Attempt[] = [];
  let startedAt = diedAt - 2_000;
  for (let receives = 1; ; receives++) {
    const durationMs = 5 + Math.floor(random() * 120);
    const attempt: Attempt = { number: receives, startedAt, durationMs, error, ...worker };
    attempts.push(attempt);
    startedAt += 400;
    const plan = planFailure({ queue, receives, attempt, now: startedAt, rules: {} });
    if (plan.outcome === 'retry') continue;
    if (plan.outcome !== 'dead')
      throw new Error(`queue ${queue.name} dropped a failure: its DLQ should be on`);
    const { death } = plan;
    const id = newId();
    return {
      row: {
        id,
        queue: queue.name,
        body: JSON.stringify(orderBody(n, random)),
        headers: JSON.stringify({ 'content-type': 'application/json', 'x-tenant': `t${n % 37}` }),
        idempotencyKey: `order-${n}`,
        enqueuedAt: diedAt - 2_500,
        attempts: JSON.stringify(attempts),
        attemptCount: attempts.length,
        errorName: death.error.name,
        errorMessage: death.error.message,
        errorStack: death.error.stack ?? null,
        errorCode: death.error.code ?? null,
        errorStatus: death.error.status ?? null,
        tier: death.tier,
        fingerprint: death.fingerprint,
        groupId: death.groupId,
        diedAt,
        replayCount: 0,
        previousId: null,
      },
      normalizedMessage: death.normalizedMessage,
    };
  }
}

/** Writes one planned death with the SQLite store's own statements for a death. */
function writeDeath(sql: Statements, { row, normalizedMessage }: PlannedDeath): void {
  sql.deadLetterInsert.run(row);
  sql.groupUpsert.run({
    groupId: row.groupId,
    fingerprint: row.fingerprint,
    errorName: row.errorName,
    normalizedMessage,
    tier: row.tier,
    sampleId: row.id,
    now: row.diedAt,
    count: 1,
  });
  sql.groupQueueUpsert.run(row.groupId, row.queue, 1);
  sql.countersAddDead.run(1, row.queue);
}

/**
 * Deletes cached seeds of the same size made for another schema or seed version: each is
 * gigabytes and no current code can use it. (A process still holding one open keeps reading it.)
 */
function removeStaleSeeds(current: string, deadLetters: number): void {
  const dir = join(tmpdir(), 'deadletter-bench');
  const pattern = new RegExp(`^read-path-schema\\d+-seed\\d+-${deadLetters}\\.db`);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (pattern.test(name) && !path.startsWith(current)) {
      rmSync(path, { force: true });
      log(`read path: removed the stale seed ${path}`);
    }
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
  removeStaleSeeds(file, deadLetters);
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

if (isEntryScript(import.meta.url)) {
  const at = process.argv.indexOf('--dead-letters');
  const deadLetters = at > 0 ? Number(process.argv[at + 1]) : 1_000_000;
  childMain(() => ensureSeed(deadLetters, process.argv.includes('--reseed')));
}
