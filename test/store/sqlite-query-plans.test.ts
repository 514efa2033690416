import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterFilter } from '../../src/core/dead-letter.ts';
import type { GroupFilter, GroupSort } from '../../src/core/group.ts';
import { TIERS } from '../../src/core/tier.ts';
import { deathRecord, queueRecord, T0, WORKER } from '../../src/store/conformance/fixtures.ts';
import { openStore } from '../../src/store/open.ts';
import { deadLetterBriefListQuery, groupListJsonQuery } from '../../src/store/sqlite/json-lists.ts';
import { deadLetterListQuery, groupListQuery } from '../../src/store/sqlite/list-queries.ts';
import { MESSAGE_COLUMNS } from '../../src/store/sqlite/rows.ts';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import {
  ATTEMPTS_DELETE_SQL,
  ATTEMPTS_TAKE_SQL,
  CLAIM_SQL,
  COUNT_DELAYED_SQL,
  COUNT_WAITING_SQL,
  EXPIRED_LEASES_SQL,
  FIND_LIVE_BY_KEY_SQL,
  GROUP_ALIAS_TARGET_SQL,
  HAS_PENDING_SQL,
  MESSAGE_ATTEMPTS_SQL,
  OLDEST_DEAD_SQL,
} from '../../src/store/sqlite/statements.ts';
import { removeDb, tempDbPath } from './temp-db.ts';

const QUEUES = ['q0', 'q1', 'q2', 'q3'];
const BATCH = 100;

/** Fills the store with done, dead, waiting and leased rows through the store itself. */
async function seed(store: SqliteStore): Promise<void> {
  for (const name of QUEUES) await store.queueCreate({ queue: queueRecord(name) });
  let n = 0;
  const sendBatch = (queue: string, now: number) =>
    store.messageInsertBatch({
      queue,
      now,
      messages: Array.from({ length: BATCH }, () => ({
        id: `m-${String(++n).padStart(8, '0')}`,
        body: { n },
        headers: {},
        idempotencyKey: `key-${n}`,
        visibleAt: now,
      })),
    });
  for (let round = 0; round < 40; round++) {
    const queue = QUEUES[round % QUEUES.length] as string;
    const now = T0 + round * 1_000;
    await sendBatch(queue, now);
    const claimed = await store.messageClaim({ queue, limit: BATCH, now, leaseMs: 30_000, worker: WORKER });
    if (round % 2 === 0) {
      await store.messageComplete({ items: claimed, now: now + 1 });
      continue;
    }
    await store.messageFail({
      now: now + 1,
      items: claimed.map((m, i) => {
        const death = deathRecord(`g${i % 20}`, { tier: TIERS[i % TIERS.length] });
        const attempt = { ...WORKER, number: 1, startedAt: now, durationMs: 1, error: death.error };
        return { id: m.id, leaseToken: m.leaseToken, attempt, outcome: 'dead' as const, death };
      }),
    });
  }
  await sendBatch('q0', T0 + 100_000);
  await store.messageClaim({ queue: 'q0', limit: 10, now: T0 + 100_000, leaseMs: 30_000, worker: WORKER });
}

/** Every combination of the given optional keys, as objects holding the chosen ones. */
function combinations<T extends object>(options: T): Partial<T>[] {
  const entries = Object.entries(options);
  return Array.from({ length: 2 ** entries.length }, (_, mask) =>
    Object.fromEntries(entries.filter((_, bit) => mask & (1 << bit))),
  ) as Partial<T>[];
}

function details(
  store: SqliteStore,
  sql: string,
  params: (string | number)[] | Record<string, string | number>,
) {
  return store.explainQueryPlan(sql, params).map((line) => line.detail);
}

/** No full table scan and no sort: the rows come out of an index in the wanted order. */
function expectIndexedPlan(plan: string[]): void {
  expect(plan.some((line) => /USING (COVERING )?INDEX|USING (INTEGER )?PRIMARY KEY/.test(line))).toBe(true);
  for (const line of plan) {
    expect(line).not.toMatch(/^SCAN (messages|dead_letters|groups|group_queues)$/);
    expect(line).not.toMatch(/TEMP B-TREE FOR .*ORDER BY/);
  }
}

describe.each([
  ['without statistics', false],
  ['after ANALYZE', true],
])('sqlite query plans %s', (_label, analyze) => {
  const path = tempDbPath('deadletter-plans');
  let store: SqliteStore;

  beforeAll(async () => {
    store = (await openStore(`sqlite:${path}`, { migrate: true })) as SqliteStore;
    await seed(store);
    if (analyze) store.analyze();
  });

  afterAll(async () => {
    await store.close();
    await removeDb(path);
  });

  it('seeded the store with many done and dead rows', async () => {
    const stats = await store.queueStats({ now: T0 + 200_000 });
    const total = (key: 'done' | 'dead') => stats.reduce((sum, s) => sum + s[key], 0);
    expect(total('done')).toBe(2_000);
    expect(total('dead')).toBe(2_000);
  });

  it('claims through the claim index and the rowid', () => {
    const plan = details(store, CLAIM_SQL, {
      queue: 'q0',
      now: T0,
      leaseExpiresAt: T0 + 1,
      limit: 100,
      workerId: 'w',
      workerVersion: 'v',
      host: 'h',
    });
    expectIndexedPlan(plan);
    expect(plan).toContainEqual(
      expect.stringMatching(
        /^SEARCH messages USING COVERING INDEX messages_claim \(queue=\? AND visible_at<\?\)$/,
      ),
    );
    expect(plan).toContainEqual('SEARCH messages USING INTEGER PRIMARY KEY (rowid=?)');
  });

  it("reads, takes and deletes a message's attempts as one range of their index, in its order", () => {
    const read = details(store, MESSAGE_ATTEMPTS_SQL, ['msg-1']);
    expectIndexedPlan(read);
    expect(read).toContainEqual(
      expect.stringMatching(
        /^SEARCH (a|message_attempts) USING INDEX message_attempts_message \(message_id=\?\)$/,
      ),
    );
    for (const sql of [ATTEMPTS_TAKE_SQL, ATTEMPTS_DELETE_SQL]) {
      expect(details(store, sql, ['msg-1'])).toEqual([
        expect.stringMatching(
          /^SEARCH message_attempts USING (COVERING )?INDEX message_attempts_message \(message_id=\?\)$/,
        ),
      ]);
    }
    // A message read by id gathers its attempts the same way.
    const message = details(store, `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`, ['msg-1']);
    expectIndexedPlan(message);
    expect(message).toContainEqual(
      expect.stringMatching(
        /^SEARCH (a|message_attempts) USING INDEX message_attempts_message \(message_id=\?\)$/,
      ),
    );
  });

  it('serves the lease sweep, the deduplication and the stats from indexes', () => {
    const cases: [string, (string | number)[], RegExp][] = [
      [
        EXPIRED_LEASES_SQL,
        [T0, 100],
        /^SEARCH messages USING (COVERING )?INDEX messages_lease_expiry \(lease_expires_at<\?\)$/,
      ],
      [
        FIND_LIVE_BY_KEY_SQL,
        ['q0', 'key-1'],
        /^SEARCH messages USING (COVERING )?INDEX messages_idempotency \(queue=\? AND idempotency_key=\?\)$/,
      ],
      [
        COUNT_WAITING_SQL,
        ['q0', T0],
        /^SEARCH messages USING COVERING INDEX messages_claim \(queue=\? AND visible_at<\?\)$/,
      ],
      [
        COUNT_DELAYED_SQL,
        ['q0', T0],
        /^SEARCH messages USING COVERING INDEX messages_claim \(queue=\? AND visible_at>\?\)$/,
      ],
      [OLDEST_DEAD_SQL, ['q0'], /^SEARCH dead_letters USING COVERING INDEX dead_letters_queue \(queue=\?\)$/],
      [HAS_PENDING_SQL, ['q0', 'q0'], /^SEARCH messages USING COVERING INDEX messages_claim \(queue=\?\)$/],
      // Every death resolves its group's alias (a merged group) by primary key.
      [
        GROUP_ALIAS_TARGET_SQL,
        ['g3'],
        /^SEARCH group_aliases USING INDEX sqlite_autoindex_group_aliases_1 \(source_id=\?\)$/,
      ],
    ];
    for (const [sql, params, expected] of cases) {
      const plan = details(store, sql, params);
      expectIndexedPlan(plan);
      expect({ sql, plan }).toEqual({ sql, plan: expect.arrayContaining([expect.stringMatching(expected)]) });
    }
  });

  const deadLetterFilters = combinations<DeadLetterFilter & { cursor: { diedAt: number; id: string } }>({
    queue: 'q1',
    tier: 'transient',
    groupId: 'g3',
    since: T0 + 5_000,
    until: T0 + 30_000,
    grep: 'cannot',
    cursor: { diedAt: T0 + 20_000, id: 'm-00000500' },
  });

  it.each(deadLetterFilters.map((filter) => [Object.keys(filter).join('+') || 'no filter', filter] as const))(
    'lists dead letters by %s from an index in order',
    (_name, filter) => {
      const query = deadLetterListQuery({ ...filter, limit: 50 });
      const plan = details(store, query.sql, query.params);
      expectIndexedPlan(plan);
      const access = plan.find((line) => line.includes(' dead_letters '));
      const narrowed = Object.keys(filter).some((key) => key !== 'grep');
      // Only grep (or nothing) leaves no range to search: then the died_at index is walked
      // newest first and LIMIT stops it.
      expect(access).toMatch(
        narrowed
          ? /^SEARCH dead_letters USING (COVERING )?INDEX dead_letters_/
          : /^SCAN dead_letters USING INDEX dead_letters_died_at$/,
      );
    },
  );

  it.each(deadLetterFilters.map((filter) => [Object.keys(filter).join('+') || 'no filter', filter] as const))(
    'lists dead letters as JSON briefs by %s with the walk of the list',
    (_name, filter) => {
      const brief = deadLetterBriefListQuery({ ...filter, limit: 50 });
      const list = deadLetterListQuery({ ...filter, limit: 50 });
      expect(details(store, brief.sql, brief.params)).toEqual(details(store, list.sql, list.params));
    },
  );

  const groupFilters = combinations<GroupFilter>({ queue: 'q2', status: 'new', tier: 'permanent' }).flatMap(
    (filter) => (['count', 'lastSeen'] as GroupSort[]).map((sort) => ({ ...filter, sort })),
  );

  it.each(groupFilters.map((filter) => [JSON.stringify(filter), filter] as const))(
    'lists groups %s from an index in order',
    (_name, filter) => {
      const query = groupListQuery({ ...filter, limit: 20, offset: 0 });
      const plan = details(store, query.sql, query.params);
      expectIndexedPlan(plan);
      const access = plan.find((line) => / groups /.test(line));
      const byColumn = filter.status !== undefined || filter.tier !== undefined;
      expect(access).toMatch(
        byColumn
          ? /^SEARCH groups USING INDEX groups_(status|tier)_/
          : /^SCAN groups USING INDEX groups_(count|last_seen)$/,
      );
      if (filter.queue !== undefined) {
        expect(plan).toContainEqual(
          expect.stringMatching(/^SEARCH group_queues USING (COVERING INDEX|PRIMARY KEY)/),
        );
      }
    },
  );

  it.each(groupFilters.map((filter) => [JSON.stringify(filter), filter] as const))(
    'lists groups %s as JSON with the walk of the list, queues by primary key',
    (_name, filter) => {
      const json = groupListJsonQuery({ ...filter, limit: 20, offset: 0 });
      const list = groupListQuery({ ...filter, limit: 20, offset: 0 });
      const plan = details(store, json.sql, json.params);
      const access = details(store, list.sql, list.params).find((line) => / groups /.test(line));
      expect(plan).toContain(access);
      // Each group's queues: a search of group_queues by its primary key (a few rows, sorted).
      expect(plan).toContainEqual(
        expect.stringMatching(/^SEARCH group_queues USING (COVERING INDEX|PRIMARY KEY)/),
      );
      for (const line of plan) expect(line).not.toMatch(/^SCAN (dead_letters|groups|group_queues)$/);
    },
  );
});
