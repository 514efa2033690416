import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterFilter } from '../../src/core/dead-letter.ts';
import type { GroupFilter, GroupSort } from '../../src/core/group.ts';
import { T0 } from '../../src/store/conformance/fixtures.ts';
import { openStore } from '../../src/store/open.ts';
import { deadLetterBriefListQuery, groupListJsonQuery } from '../../src/store/postgres/json-lists.ts';
import { deadLetterListQuery, groupListQuery } from '../../src/store/postgres/list-queries.ts';
import { channelOf, type PlanNode, type PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { postgresStatements } from '../../src/store/postgres/statements.ts';
import {
  dropSchemas,
  seedQueuesAndDoneMessages,
  storeUrl,
  tempSchema,
  withClient,
} from './postgres-schema.ts';

const ROWS = 100_000;
const GROUPS = 2_000;
const schema = tempSchema('dlplans');
const sql = postgresStatements(schema, channelOf(schema));
let store: PostgresStore;

/**
 * Fills the schema straight with SQL (the store would take minutes for this many rows):
 * 100,000 done messages and 100,000 dead letters over four queues, 2,000 groups, and a few
 * hundred waiting, delayed and leased messages, the rows a claim must find among the rest.
 */
async function seed(): Promise<void> {
  const s = `"${schema}"`;
  await withClient(async (client) => {
    await seedQueuesAndDoneMessages(client, schema, T0, ROWS);
    await client.query(
      `INSERT INTO ${s}.messages (id, queue, state, body, headers, enqueued_at, visible_at, receives,
         lease_token, lease_expires_at, leased_at, lease_worker_id, lease_worker_version, lease_host)
       SELECT 'live-' || lpad(i::text, 8, '0'), 'q' || (i % 4),
         CASE WHEN i % 10 = 0 THEN 'leased' ELSE 'waiting' END, '{"n":2}', '{}', $1::bigint, $1::bigint + (i % 3) * 500000, 0,
         CASE WHEN i % 10 = 0 THEN 'tok' || i END, CASE WHEN i % 10 = 0 THEN $1::bigint + i END,
         CASE WHEN i % 10 = 0 THEN $1::bigint END, 'w', 'v', 'h'
       FROM generate_series(1, 1000) i`,
      [T0],
    );
    // Skewed like real DLQs: q0 holds 40% of the dead letters and q3 0.1%; `resource` is a rare
    // tier; group g0 is one big bug (40%), the other groups have about 30 dead letters each.
    await client.query(
      `INSERT INTO ${s}.dead_letters (id, queue, body, headers, enqueued_at, attempts, attempt_count, error_name,
         error_message, tier, fingerprint, group_id, died_at)
       SELECT 'dead-' || lpad(i::text, 8, '0'),
         CASE WHEN i % 1000 = 0 THEN 'q3' WHEN i % 10 < 4 THEN 'q0' WHEN i % 10 < 7 THEN 'q1' ELSE 'q2' END,
         '{"n":3}', '{}', $1::bigint, '[]', 1, 'TypeError', 'boom ' || (i % 100),
         CASE WHEN i % 200 = 1 THEN 'resource' ELSE (ARRAY['transient', 'timeout', 'malformed', 'permanent'])[1 + i % 4] END,
         'fp', CASE WHEN i % 10 < 4 THEN 'g0' ELSE 'g' || (1 + i % ($3::int - 1)) END, $1::bigint + i * 10
       FROM generate_series(1, $2::int) i`,
      [T0, ROWS, GROUPS],
    );
    await client.query(
      `INSERT INTO ${s}.groups (id, fingerprint, error_name, normalized_message, tier, status, first_seen, last_seen,
         count, dead_count, sample_id, status_changed_at)
       SELECT 'g' || i, 'fp' || i, 'TypeError', 'boom', (ARRAY['transient', 'timeout', 'malformed', 'resource', 'permanent'])[1 + i % 5],
         (ARRAY['new', 'acknowledged', 'resolved', 'ignored', 'regressed'])[1 + (i / 5) % 5], $1::bigint, $1::bigint + (i * 7919) % 1000000,
         1 + (i * 104729) % 5000, 50, 'dead-00000001', $1::bigint
       FROM generate_series(0, $2::int - 1) i`,
      [T0, GROUPS],
    );
    await client.query(
      `INSERT INTO ${s}.group_queues (group_id, queue, count)
       SELECT 'g' || i, 'q' || q, 25 FROM generate_series(0, $1::int - 1) i, generate_series(0, 3) q
       WHERE q = i % 4 OR q = (i + 1) % 4`,
      [GROUPS],
    );
  });
  await store.analyze();
}

beforeAll(async () => {
  store = (await openStore(storeUrl(schema), { migrate: true })) as PostgresStore;
  await seed();
});

afterAll(async () => {
  await store?.close();
  await dropSchemas(schema);
});

/** Every node of a plan's main path, depth first, leaving out subplans (they run per row). */
function mainPath(plan: PlanNode): PlanNode[] {
  const children = (plan.Plans ?? []).filter((child) => child['Parent Relationship'] !== 'SubPlan');
  return [plan, ...children.flatMap(mainPath)];
}

/** Every node of a plan, subplans included. */
function allNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(allNodes)];
}

/** One line per node, for failure messages: `Index Scan Backward dead_letters dead_letters_queue`. */
function outline(plan: PlanNode): string[] {
  return allNodes(plan).map((n) =>
    [
      n['Node Type'],
      n['Scan Direction'] === 'Backward' ? 'Backward' : '',
      n['Relation Name'],
      n['Index Name'],
    ]
      .filter(Boolean)
      .join(' '),
  );
}

const INDEX_SCANS = ['Index Scan', 'Index Only Scan', 'Bitmap Index Scan'];

/** The names of the indexes the plan reads. */
function indexesOf(plan: PlanNode): string[] {
  return allNodes(plan)
    .filter((n) => INDEX_SCANS.includes(n['Node Type']))
    .map((n) => n['Index Name'] ?? '');
}

/** No sequential scan of the big tables anywhere in the plan. */
function expectNoSeqScan(plan: PlanNode): void {
  const seq = allNodes(plan).filter(
    (n) => n['Node Type'] === 'Seq Scan' && ['messages', 'dead_letters'].includes(n['Relation Name'] ?? ''),
  );
  expect({ seq: seq.length, plan: outline(plan) }).toEqual({ seq: 0, plan: outline(plan) });
}

/**
 * The rows come out of an index in the ORDER BY's order: no Sort on the main path, except of
 * a handful of rows (a small group's 30 dead letters are cheaper sorted than walked in order;
 * what must never happen is sorting a large part of a table to return one page).
 */
function expectNoBigSort(plan: PlanNode, maxSortedRows = 1_000): void {
  const sorts = mainPath(plan).filter(
    (n) => n['Node Type'] === 'Sort' || n['Node Type'] === 'Incremental Sort',
  );
  const sorted = sorts.map((n) => Number(n.Plans?.[0]?.['Plan Rows'] ?? Number.POSITIVE_INFINITY));
  expect({ sorted: sorted.filter((rows) => rows > maxSortedRows), plan: outline(plan) }).toEqual({
    sorted: [],
    plan: outline(plan),
  });
}

/** Every combination of the given optional keys, as objects holding the chosen ones. */
function combinations<T extends object>(options: T): Partial<T>[] {
  const entries = Object.entries(options);
  return Array.from({ length: 2 ** entries.length }, (_, mask) =>
    Object.fromEntries(entries.filter((_, bit) => mask & (1 << bit))),
  ) as Partial<T>[];
}

describe('postgres query plans with 100,000 done and 100,000 dead rows', () => {
  it('seeded the rows the plans are about', async () => {
    const stats = await store.queueStats({ now: T0 });
    expect(stats.map((q) => q.queue)).toEqual(['q0', 'q1', 'q2', 'q3']);
    const rows = await withClient(async (client) => {
      const { rows } = await client.query<{ done: string; dead: string }>(
        `SELECT (SELECT count(*) FROM "${schema}".messages WHERE state = 'done') AS done,
                (SELECT count(*) FROM "${schema}".dead_letters) AS dead`,
      );
      return rows[0];
    });
    expect(rows).toEqual({ done: String(ROWS), dead: String(ROWS) });
  });

  it.each([10, 1_000])('claims %i messages from the claim index, skipping locked rows', async (limit) => {
    const plan = await store.explain(sql.messageClaim, ['q1', T0 + 1, T0 + 30_001, limit, 'w', 'v', 'h']);
    expectNoSeqScan(plan);
    expectNoBigSort(plan, 0);
    const nodes = allNodes(plan);
    const lock = nodes.find((n) => n['Node Type'] === 'LockRows');
    expect(lock, outline(plan).join('\n')).toBeDefined();
    // Under LockRows: the claim index walked in (visible_at, seq) order; the rows are then
    // updated through their primary key.
    expect(indexesOf(lock as PlanNode)).toEqual(['messages_claim']);
    expect(indexesOf(plan)).toContain('messages_pkey');
  });

  it('finds the rows of batched acks, failures and releases by key, never by a scan', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `live-${String(i * 10 + 10).padStart(8, '0')}`);
    const tokens = ids.map((_, i) => `tok${i * 10 + 10}`);
    const attempt = JSON.stringify({ number: 1 });
    const cases: [string, unknown[]][] = [
      [sql.messageComplete, [ids, tokens, T0, 3]],
      [sql.messageRetry, [ids, tokens, ids.map(() => T0), ids.map(() => attempt), T0]],
      [sql.messageDrop, [ids, tokens, 3]],
      [sql.messageRelease, [ids, tokens, ids.map(() => 0), T0]],
    ];
    for (const [text, params] of cases) {
      const plan = await store.explain(text, params);
      expectNoSeqScan(plan);
      // By primary key (the ids given): never a walk that grows with done messages, nor with
      // the partial lease index, whose entries for acked rows stay until a vacuum.
      const scans = allNodes(plan).filter(
        (n) => n['Relation Name'] === 'messages' && n['Node Type'] !== 'ModifyTable',
      );
      expect(scans.length).toBeGreaterThan(0);
      for (const scan of scans) {
        expect({ text, index: scan['Index Name'] }).toEqual({
          text,
          index: 'messages_pkey',
        });
      }
    }
  });

  it('serves the lease sweep, the deduplication, the pending check and the stats from indexes', async () => {
    const cases: [string, unknown[], string][] = [
      [sql.messageExpiredLeases, [T0 + 500, 100], 'messages_lease_expiry'],
      [sql.messageFindLiveByKeys, ['q1', ['key-1', 'key-2']], 'messages_idempotency'],
      [sql.messageHasPending, ['q1'], 'messages_claim'],
      [sql.queueStats, [T0], 'messages_claim'],
    ];
    for (const [text, params, index] of cases) {
      const plan = await store.explain(text, params);
      expectNoSeqScan(plan);
      expect({ text, indexes: indexesOf(plan) }).toEqual({ text, indexes: expect.arrayContaining([index]) });
    }
  });

  const deadLetterFilters = combinations<DeadLetterFilter & { cursor: { diedAt: number; id: string } }>({
    queue: 'q3',
    tier: 'transient',
    groupId: 'g0',
    since: T0 + 100_000,
    grep: 'boom 7',
    cursor: { diedAt: T0 + 600_000, id: 'dead-00060000' },
  });

  it.each(deadLetterFilters.map((filter) => [Object.keys(filter).join('+') || 'no filter', filter] as const))(
    'lists dead letters by %s from an index, in order',
    async (_name, filter) => {
      const query = deadLetterListQuery(schema, { ...filter, limit: 50 });
      const plan = await store.explain(query.sql, query.params);
      expectNoSeqScan(plan);
      expectNoBigSort(plan);
      const indexes = indexesOf(plan);
      expect(indexes.length).toBeGreaterThan(0);
      expect(indexes.every((name) => name.startsWith('dead_letters_'))).toBe(true);
    },
  );

  it.each(deadLetterFilters.map((filter) => [Object.keys(filter).join('+') || 'no filter', filter] as const))(
    'lists dead letters as JSON briefs by %s through the indexes of the list',
    async (_name, filter) => {
      const brief = deadLetterBriefListQuery(schema, { ...filter, limit: 50 });
      const list = deadLetterListQuery(schema, { ...filter, limit: 50 });
      const plan = await store.explain(brief.sql, brief.params);
      expectNoSeqScan(plan);
      expectNoBigSort(plan);
      expect(indexesOf(plan)).toEqual(indexesOf(await store.explain(list.sql, list.params)));
    },
  );

  it.each([
    ['a queue with few dead letters', { queue: 'q3' }, 'dead_letters_queue'],
    ['a rare tier', { tier: 'resource' }, 'dead_letters_tier'],
    ['a small group', { groupId: 'g17' }, 'dead_letters_group'],
    ['no filter', {}, 'dead_letters_died_at'],
    ['a time range', { since: T0 + 100_000, until: T0 + 200_000 }, 'dead_letters_died_at'],
  ] as const)('lists the dead letters of %s through %s', async (_name, filter, index) => {
    for (const cursor of [undefined, { diedAt: T0 + 900_000, id: 'dead-00090000' }]) {
      const query = deadLetterListQuery(schema, { ...filter, limit: 50, ...(cursor && { cursor }) });
      const plan = await store.explain(query.sql, query.params);
      expectNoSeqScan(plan);
      expectNoBigSort(plan);
      expect(indexesOf(plan)).toContain(index);
    }
  });

  it('pages a big list without sorting it: the cursor is a range of the index', async () => {
    const filters: DeadLetterFilter[] = [{}, { queue: 'q0' }, { groupId: 'g0' }, { tier: 'permanent' }];
    for (const filter of filters) {
      const query = deadLetterListQuery(schema, {
        ...filter,
        limit: 50,
        cursor: { diedAt: T0 + 500_000, id: 'dead-00050000' },
      });
      const plan = await store.explain(query.sql, query.params);
      expectNoSeqScan(plan);
      expectNoBigSort(plan, 0);
      const walk = mainPath(plan).find((n) => n['Node Type'] === 'Index Scan');
      expect({ filter, direction: walk?.['Scan Direction'], plan: outline(plan) }).toMatchObject({
        direction: 'Backward',
      });
    }
  });

  const groupFilters = combinations<GroupFilter>({ queue: 'q2', status: 'new', tier: 'permanent' }).flatMap(
    (filter) => (['count', 'lastSeen'] as GroupSort[]).map((sort) => ({ ...filter, sort })),
  );

  it.each(groupFilters.map((filter) => [JSON.stringify(filter), filter] as const))(
    'lists groups %s from an index in order',
    async (_name, filter) => {
      const query = groupListQuery(schema, { ...filter, limit: 20, offset: 0 });
      const plan = await store.explain(query.sql, query.params);
      expectNoBigSort(plan);
      expect(allNodes(plan).filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
      if (filter.queue === undefined) {
        // The walk of one groups index, backwards, in the sort order: no sort at all.
        expectNoBigSort(plan, 0);
        const column = filter.status !== undefined ? 'status_' : filter.tier !== undefined ? 'tier_' : '';
        const order = filter.sort === 'count' ? 'count' : 'last_seen';
        expect(indexesOf(plan)).toContain(`groups_${column}${order}`);
      }
    },
  );

  it.each(groupFilters.map((filter) => [JSON.stringify(filter), filter] as const))(
    'lists groups %s as JSON through the indexes of the list',
    async (_name, filter) => {
      const json = groupListJsonQuery(schema, { ...filter, limit: 20, offset: 0 });
      const list = groupListQuery(schema, { ...filter, limit: 20, offset: 0 });
      const plan = await store.explain(json.sql, json.params);
      expectNoBigSort(plan);
      expect(allNodes(plan).filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
      expect(indexesOf(plan)).toEqual(indexesOf(await store.explain(list.sql, list.params)));
    },
  );
});
