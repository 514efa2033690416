import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueRecord, T0, WORKER } from '../../src/store/conformance/fixtures.ts';
import { openStore } from '../../src/store/open.ts';
import { donePruneSql } from '../../src/store/postgres/done-retention.ts';
import type { PlanNode, PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { DONE_PRUNE_SQL } from '../../src/store/sqlite/done-retention.ts';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import {
  dropSchemas,
  seedQueuesAndDoneMessages,
  storeUrl,
  tempSchema,
  withClient,
} from './postgres-schema.ts';
import { removeDb, tempDbPath } from './temp-db.ts';

// The done-retention sweep deletes a queue's oldest done messages up to a cutoff. It must find
// them on the partial index messages_done_at (queue, done_at) WHERE state = 'done' (migration
// 0010), in that index's order: never a scan of `messages`, never a sort of its done rows.

describe('done-retention plan on SQLite', () => {
  let path: string;
  let store: SqliteStore;

  /** 4 queues × 2,000 done messages and some waiting and leased ones, through the store. */
  beforeAll(async () => {
    path = tempDbPath('done-plans');
    store = (await openStore(`sqlite:${path}`, { migrate: true })) as SqliteStore;
    let n = 0;
    for (const queue of ['q0', 'q1', 'q2', 'q3']) {
      await store.queueCreate({ queue: queueRecord(queue) });
      for (let round = 0; round < 5; round++) {
        const now = T0 + round * 1_000;
        const messages = Array.from({ length: 400 }, () => ({
          id: `m-${String(++n).padStart(8, '0')}`,
          body: { n },
          headers: {},
          idempotencyKey: null,
          visibleAt: now,
        }));
        await store.messageInsertBatch({ queue, now, messages });
        const claimed = await store.messageClaim({ queue, limit: 400, now, leaseMs: 30_000, worker: WORKER });
        await store.messageComplete({ items: claimed, now: now + 1 });
      }
      const live = Array.from({ length: 50 }, () => ({
        id: `m-${String(++n).padStart(8, '0')}`,
        body: { n },
        headers: {},
        idempotencyKey: null,
        visibleAt: T0,
      }));
      await store.messageInsertBatch({ queue, now: T0, messages: live });
      await store.messageClaim({ queue, limit: 10, now: T0, leaseMs: 30_000, worker: WORKER });
    }
    store.analyze();
  });

  afterAll(async () => {
    await store.close();
    await removeDb(path);
  });

  it('finds the rows to delete as a range of messages_done_at, in its order, without a sort', () => {
    const plan = store
      .explainQueryPlan(DONE_PRUNE_SQL, { queue: 'q1', cutoff: T0 + 2_500, limit: 5_000 })
      .map((line) => line.detail);
    expect(plan.join('\n')).toMatch(
      /SEARCH messages USING (COVERING )?INDEX messages_done_at \(queue=\? AND done_at<\?\)/,
    );
    expect(plan.join('\n')).not.toMatch(/TEMP B-TREE/);
    expect(plan.join('\n')).not.toMatch(/SCAN messages/);
  });
});

describe('done-retention plan on PostgreSQL', () => {
  const schema = tempSchema('dldone');
  let store: PostgresStore;

  /** 100,000 done messages over four queues and 1,000 waiting and leased ones, seeded with SQL. */
  beforeAll(async () => {
    store = (await openStore(storeUrl(schema), { migrate: true })) as PostgresStore;
    const s = `"${schema}"`;
    await withClient(async (client) => {
      await seedQueuesAndDoneMessages(client, schema, T0, 100_000);
      await client.query(
        `INSERT INTO ${s}.messages (id, queue, state, body, headers, enqueued_at, visible_at, receives, lease_token, lease_expires_at)
         SELECT 'live-' || lpad(i::text, 8, '0'), 'q' || (i % 4), CASE WHEN i % 10 = 0 THEN 'leased' ELSE 'waiting' END,
           '{"n":2}', '{}', $1::bigint, $1::bigint, 0, CASE WHEN i % 10 = 0 THEN 'tok' || i END,
           CASE WHEN i % 10 = 0 THEN $1::bigint + 30000 END
         FROM generate_series(1, 1000) i`,
        [T0],
      );
    });
    await store.analyze();
  });

  afterAll(async () => {
    await store?.close();
    await dropSchemas(schema);
  });

  function nodes(plan: PlanNode): PlanNode[] {
    return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
  }

  it.each([
    ['a cutoff that takes a few rows', T0 + 2_000],
    ['a cutoff past every done row', T0 + 1_000_000],
  ])(
    'finds the rows to delete on messages_done_at for %s, with no scan and no big sort',
    async (_name, cutoff) => {
      const plan = await store.explain(donePruneSql(schema), ['q1', cutoff, 5_000]);
      const all = nodes(plan);
      const outline = all.map((n) =>
        [n['Node Type'], n['Relation Name'], n['Index Name']].filter(Boolean).join(' '),
      );
      expect({
        outline,
        seq: all.filter((n) => n['Node Type'] === 'Seq Scan'),
      }).toEqual({
        outline,
        seq: [],
      });
      // A bitmap scan of a few hundred rows may be sorted; more than one batch never is.
      const sorted = all.filter((n) => n['Node Type'] === 'Sort').map((n) => Number(n['Plan Rows']));
      expect({ outline, sorted: sorted.filter((rows) => rows > 5_000) }).toEqual({ outline, sorted: [] });
      expect(all.some((n) => n['Index Name'] === 'messages_done_at')).toBe(true);
    },
  );
});
