import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveRecord } from '../../src/core/archive-record.ts';
import { queueRecord, T0 } from '../../src/store/conformance/fixtures.ts';
import { openStore } from '../../src/store/open.ts';
import { EXPIRED_DEAD_SQL, EXPIRED_REPLAYED_SQL } from '../../src/store/sqlite/retention.ts';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { removeDb, tempDbPath } from './temp-db.ts';

const DAY = 86_400_000;

/** A dead or replayed record of `queue` in group `g<n % 50>`, died `n` minutes after T0. */
function record(queue: string, n: number, state: 'dead' | 'replayed'): ArchiveRecord {
  const base = {
    formatVersion: 1 as const,
    archiveId: 'seed',
    archivedAt: T0,
    id: `${state}-${queue}-${String(n).padStart(6, '0')}`,
    queue,
    body: { n },
    headers: {},
    idempotencyKey: null,
    enqueuedAt: T0,
    attempts: [],
    error: { name: 'TypeError', message: `boom ${n % 50}` },
    tier: 'permanent' as const,
    fingerprint: `fp-${n % 50}`,
    groupId: `g${n % 50}`,
    diedAt: T0 + n * 60_000,
    replayCount: 0,
    previousId: null,
    originalBody: null,
    edits: [],
    normalizedMessage: 'boom',
  };
  if (state === 'dead') return { ...base, state };
  return {
    ...base,
    state,
    replayedAt: base.diedAt + DAY,
    replayedBy: 'alice',
    replayJobId: null,
    replayedTo: `to-${n}`,
    destination: queue,
  };
}

let path: string;
let store: SqliteStore;

/** Four queues of dead letters and replay history, imported (the fastest way in), then ANALYZE. */
beforeAll(async () => {
  path = tempDbPath('retention-plans');
  store = (await openStore(`sqlite:${path}`, { migrate: true })) as SqliteStore;
  for (const queue of ['q0', 'q1', 'q2', 'q3']) {
    await store.queueCreate({ queue: queueRecord(queue) });
    const records = Array.from({ length: 1_000 }, (_, n) =>
      record(queue, n, n % 4 === 0 ? 'replayed' : 'dead'),
    );
    await store.deadLetterImport({ file: 'seed', records, actor: 'test', now: T0 });
  }
  store.analyze();
});

afterAll(async () => {
  await store.close();
  await removeDb(path);
});

describe('retention query plans on SQLite', () => {
  const page = { queue: 'q1', before: T0 + DAY, at: T0, id: 'x', limit: 500 };

  it('walks expired dead letters on the (queue, died_at, id) index, in its order, without a sort', () => {
    const plan = store.explainQueryPlan(EXPIRED_DEAD_SQL, page).map((line) => line.detail);
    expect(plan[0]).toMatch(
      /^SEARCH x USING INDEX dead_letters_queue \(queue=\? AND \(died_at,id\)>\(\?,\?\)/,
    );
    expect(plan.join('\n')).toMatch(/SEARCH g USING INDEX sqlite_autoindex_groups_1 \(id=\?\)/);
    expect(plan.join('\n')).not.toMatch(/TEMP B-TREE/);
  });

  it('walks expired replay history on the (queue, replayed_at) index, sorting only ties by id', () => {
    const plan = store.explainQueryPlan(EXPIRED_REPLAYED_SQL, page).map((line) => line.detail);
    // The view replayed_dead_letters: the small replay records in order, each joined to its row.
    expect(plan[0]).toMatch(
      /^SEARCH r USING INDEX dead_letter_replays_queue \(queue=\? AND replayed_at>\? AND replayed_at<\?\)/,
    );
    expect(plan.join('\n')).toMatch(/SEARCH d USING INDEX sqlite_autoindex_dead_letters_1 \(id=\?\)/);
    expect(plan.join('\n')).not.toMatch(/USE TEMP B-TREE FOR ORDER BY/);
  });
});
