/**
 * Seeds the read path on PostgreSQL: the same dead letters as the SQLite seed (`seed.ts`,
 * through its `planDeaths`: same groups, queues, tiers, errors, attempts, bodies and times),
 * in a schema of the bench database, `bench_read_1m` for a million (`bench_read_<N>` for
 * another size).
 *
 * The store creates the schema and the queues (`openStore(..., { migrate: true })`,
 * `queueCreate`) and sends the live backlog (`messageInsertBatch`). The deaths go in as
 * multi-row inserts of 2,000 into the store's tables, with the rows `messageFail` writes for a
 * death: the dead letter, its group (counted, first and last seen, the first death as sample),
 * the group's queues and the queue's dead counter. Skipped, as on SQLite, is each message's
 * live life, which leaves nothing behind. Then `VACUUM ANALYZE`, as autovacuum would do on a
 * server that has it on (this machine's has it off).
 *
 * The schema is cached across runs: it is reused when the seed version and size written in
 * its comment match and it still holds that many dead letters; a schema made by an older
 * Deadletter is migrated forward (`dlq migrate`'s code) rather than seeded again. `--reseed`
 * rebuilds it. Prints a `SeedDescription` whose `file` is the store URL.
 * Options: `--dead-letters N`, `--reseed`.
 */
import pg from 'pg';
import { openStore, type QueueRecord } from '../../src/index.ts';
import { migratePostgresStore } from '../../src/store/postgres/open-postgres.ts';
import { parsePostgresUrl } from '../../src/store/postgres/postgres-url.ts';
import { childMain, isEntryScript, log } from '../lib/child.ts';
import { POSTGRES_URL } from '../lib/pg-cpu.ts';
import { QUEUES } from './catalog.ts';
import {
  DAY,
  insertLiveBacklog,
  LIVE_DELAYED_PER_QUEUE,
  LIVE_WAITING_PER_QUEUE,
  type PlannedDeath,
  planDeaths,
  queueRecord,
  SEED_VERSION,
  type SeedDescription,
} from './seed.ts';

/** Dead letters per insert statement (each its own transaction). */
const CHUNK = 2_000;

interface SeedMeta {
  seedVersion: number;
  deadLetters: number;
  described: Omit<SeedDescription, 'cached' | 'file'>;
}

export function seedSchema(deadLetters: number): string {
  return deadLetters === 1_000_000 ? 'bench_read_1m' : `bench_read_${deadLetters}`;
}

const storeUrl = (schema: string) => `${POSTGRES_URL}?schema=${schema}`;

async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const INSERT_DEAD_LETTERS = (s: string) =>
  `INSERT INTO "${s}".dead_letters (id, queue, body, headers, idempotency_key, enqueued_at, attempts, ` +
  'attempt_count, error_name, error_message, error_stack, error_code, error_status, tier, fingerprint, group_id, ' +
  'died_at, replay_count, previous_id) SELECT id, queue, body::json, headers::json, idempotency_key, enqueued_at, ' +
  'attempts::json, attempt_count, error_name, error_message, error_stack, error_code, error_status, tier, ' +
  'fingerprint, group_id, died_at, 0, NULL FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], ' +
  '$6::bigint[], $7::text[], $8::int[], $9::text[], $10::text[], $11::text[], $12::text[], $13::int[], $14::text[], ' +
  '$15::text[], $16::text[], $17::bigint[]) AS i(id, queue, body, headers, idempotency_key, enqueued_at, attempts, ' +
  'attempt_count, error_name, error_message, error_stack, error_code, error_status, tier, fingerprint, group_id, died_at)';

interface GroupTally {
  first: PlannedDeath;
  count: number;
  lastSeen: number;
  queues: Map<string, number>;
}

async function seed(schema: string, total: number): Promise<Omit<SeedDescription, 'cached' | 'file'>> {
  const started = performance.now();
  const end = Date.now();
  const start = end - 14 * DAY;
  const step = (14 * DAY) / total;

  let store = await openStore(storeUrl(schema), { migrate: true });
  const records = new Map<string, QueueRecord>();
  for (const name of QUEUES) {
    records.set(name, await store.queueCreate({ queue: queueRecord(name, start - DAY) }));
  }
  await store.close();

  const { random, deathOf } = planDeaths(total, records, start, step);
  const groups = new Map<string, GroupTally>();
  const deadPerQueue = new Map<string, number>();
  await withClient(async (client) => {
    const insert = INSERT_DEAD_LETTERS(schema);
    let lastLog = performance.now();
    for (let first = 0; first < total; first += CHUNK) {
      const rows: PlannedDeath['row'][] = [];
      for (let n = first; n < Math.min(total, first + CHUNK); n++) {
        const death = deathOf(n);
        const { row } = death;
        rows.push(row);
        const tally = groups.get(row.groupId);
        if (tally) {
          tally.count++;
          tally.lastSeen = Math.max(tally.lastSeen, row.diedAt);
          tally.queues.set(row.queue, (tally.queues.get(row.queue) ?? 0) + 1);
        } else {
          groups.set(row.groupId, {
            first: death,
            count: 1,
            lastSeen: row.diedAt,
            queues: new Map([[row.queue, 1]]),
          });
        }
        deadPerQueue.set(row.queue, (deadPerQueue.get(row.queue) ?? 0) + 1);
      }
      await client.query(insert, [
        rows.map((r) => r.id),
        rows.map((r) => r.queue),
        rows.map((r) => r.body),
        rows.map((r) => r.headers),
        rows.map((r) => r.idempotencyKey),
        rows.map((r) => r.enqueuedAt),
        rows.map((r) => r.attempts),
        rows.map((r) => r.attemptCount),
        rows.map((r) => r.errorName),
        rows.map((r) => r.errorMessage),
        rows.map((r) => r.errorStack),
        rows.map((r) => r.errorCode),
        rows.map((r) => r.errorStatus),
        rows.map((r) => r.tier),
        rows.map((r) => r.fingerprint),
        rows.map((r) => r.groupId),
        rows.map((r) => r.diedAt),
      ]);
      if (performance.now() - lastLog > 5_000) {
        lastLog = performance.now();
        const done = Math.min(total, first + CHUNK);
        log(`seeded ${done} of ${total} dead letters (${Math.round(done / ((lastLog - started) / 1000))}/s)`);
      }
    }
    // What the death statement's group, group-queue and counter upserts add up to.
    for (const [id, g] of groups) {
      const { row, normalizedMessage } = g.first;
      await client.query(
        `INSERT INTO "${schema}".groups (id, fingerprint, error_name, normalized_message, tier, status, first_seen, ` +
          "last_seen, count, dead_count, sample_id, status_changed_at) VALUES ($1, $2, $3, $4, $5, 'new', $6, $7, " +
          '$8, $8, $9, $6)',
        [
          id,
          row.fingerprint,
          row.errorName,
          normalizedMessage,
          row.tier,
          row.diedAt,
          g.lastSeen,
          g.count,
          row.id,
        ],
      );
      for (const [queue, count] of g.queues) {
        await client.query(
          `INSERT INTO "${schema}".group_queues (group_id, queue, count) VALUES ($1, $2, $3)`,
          [id, queue, count],
        );
      }
    }
    for (const [queue, dead] of deadPerQueue) {
      await client.query(
        `INSERT INTO "${schema}".queue_counters AS c (queue, slot, dead) VALUES ($1, 0, $2) ` +
          'ON CONFLICT (queue, slot) DO UPDATE SET dead = c.dead + excluded.dead',
        [queue, dead],
      );
    }
  });

  // A small live backlog through the store, so `stats` counts waiting and delayed messages too.
  store = await openStore(storeUrl(schema));
  await insertLiveBacklog(store, records.keys(), total, random, end);
  await store.close();
  log('read path (PostgreSQL): VACUUM ANALYZE');
  await withClient(async (client) => {
    const { rows } = await client.query<{ t: string }>(
      'SELECT tablename AS t FROM pg_tables WHERE schemaname = $1',
      [schema],
    );
    for (const { t } of rows) await client.query(`VACUUM ANALYZE "${schema}"."${t}"`);
  });
  return describe(schema, (performance.now() - started) / 1000, new Date().toISOString());
}

async function describe(
  schema: string,
  seedSeconds: number,
  seededAt: string,
): Promise<Omit<SeedDescription, 'cached' | 'file'>> {
  const store = await openStore(storeUrl(schema));
  try {
    const tiers: Record<string, number> = {};
    const groups = await store.groupList({ sort: 'count', limit: 10_000 });
    for (const group of groups) tiers[group.tier] = (tiers[group.tier] ?? 0) + group.deadCount;
    const stats = await store.queueStats({ now: Date.now() });
    const bytes = await withClient(async (client) => {
      const { rows } = await client.query<{ bytes: string }>(
        'SELECT COALESCE(sum(pg_total_relation_size(format($2, schemaname, tablename)::regclass)), 0) AS bytes ' +
          'FROM pg_tables WHERE schemaname = $1',
        [schema, '%I.%I'],
      );
      return Number(rows[0]?.bytes ?? 0);
    });
    const { latestPostgresSchemaVersion } = await import('../../src/store/postgres/migrate.ts');
    return {
      schemaVersion: latestPostgresSchemaVersion(),
      seedVersion: SEED_VERSION,
      deadLetters: stats.reduce((s, q) => s + q.dead, 0),
      queues: stats.length,
      groups: groups.length,
      tiers,
      liveMessages: QUEUES.length * (LIVE_WAITING_PER_QUEUE + LIVE_DELAYED_PER_QUEUE),
      fileMb: Math.round(bytes / 1024 / 1024),
      seededAt,
      seedSeconds,
    };
  } finally {
    await store.close();
  }
}

/** The cached schema's metadata (its comment), if it exists and is complete. */
async function cachedMeta(schema: string): Promise<SeedMeta | undefined> {
  return withClient(async (client) => {
    const { rows } = await client.query<{ comment: string | null }>(
      'SELECT obj_description(oid, $2) AS comment FROM pg_namespace WHERE nspname = $1',
      [schema, 'pg_namespace'],
    );
    const comment = rows[0]?.comment;
    if (!comment) return undefined;
    try {
      return JSON.parse(comment) as SeedMeta;
    } catch {
      return undefined;
    }
  });
}

/** Returns the cached seed schema if it is complete (migrated forward if need be), else (re)builds it. */
export async function ensurePgSeed(deadLetters: number, reseed: boolean): Promise<SeedDescription> {
  const schema = seedSchema(deadLetters);
  const url = storeUrl(schema);
  const meta = reseed ? undefined : await cachedMeta(schema);
  if (meta && meta.seedVersion === SEED_VERSION && meta.deadLetters === deadLetters) {
    const result = await migratePostgresStore(parsePostgresUrl(url));
    if (result.applied.length > 0)
      log(`read path (PostgreSQL): migrated ${schema} forward (${result.applied.join(', ')})`);
    const now = await describe(schema, meta.described.seedSeconds, meta.described.seededAt);
    if (now.deadLetters === deadLetters) {
      log(
        `read path (PostgreSQL): using the cached schema ${schema} (seeded ${meta.described.seededAt}; --reseed rebuilds it)`,
      );
      return { ...now, file: url, cached: true };
    }
    log(
      `read path (PostgreSQL): ${schema} holds ${now.deadLetters} dead letters, not ${deadLetters}: seeding again`,
    );
  }
  const building = `${schema}_building`;
  await withClient((client) => client.query(`DROP SCHEMA IF EXISTS "${building}" CASCADE`));
  log(
    `read path (PostgreSQL): seeding ${deadLetters} dead letters into schema ${schema} (cached for later runs)`,
  );
  const described = await seed(building, deadLetters);
  const complete: SeedMeta = { seedVersion: SEED_VERSION, deadLetters, described };
  await withClient(async (client) => {
    await client.query('BEGIN');
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.query(`ALTER SCHEMA "${building}" RENAME TO "${schema}"`);
    await client.query(`COMMENT ON SCHEMA "${schema}" IS ${client.escapeLiteral(JSON.stringify(complete))}`);
    await client.query('COMMIT');
  });
  return { ...described, file: url, cached: false };
}

if (isEntryScript(import.meta.url)) {
  const at = process.argv.indexOf('--dead-letters');
  const deadLetters = at > 0 ? Number(process.argv[at + 1]) : 1_000_000;
  childMain(() => ensurePgSeed(deadLetters, process.argv.includes('--reseed')));
}
