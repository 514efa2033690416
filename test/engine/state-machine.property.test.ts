import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { planFailure } from '../../src/core/failure-plan.ts';
import type { Attempt, ClaimedMessage } from '../../src/core/message.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { sentOf } from '../../src/store/conformance/fixtures.ts';
import type { FailItem } from '../../src/store/store.ts';
import { dropSchemas, storeUrl, tempSchema } from '../store/postgres-schema.ts';
import { tempDir } from '../support/temp-dir.ts';

/**
 * "Nothing lost": random sequences of send / claim / succeed / fail / expire / crash / prune
 * done messages, checked after every step against the store itself: every accepted message is
 * in exactly one place (live in its queue, dead letter, counted as dropped, or counted as done
 * with its row pruned by the done retention) and the counts add up.
 */

type Op =
  | { kind: 'send'; queue: 'a' | 'b'; count: number }
  | { kind: 'claim'; worker: number; queue: 'a' | 'b'; limit: number }
  | { kind: 'succeed'; worker: number; pick: number }
  | { kind: 'fail'; worker: number; pick: number; error: 'transient' | 'permanent' | 'malformed' | 'unknown' }
  | { kind: 'advance'; ms: number }
  | { kind: 'sweep' }
  | { kind: 'prune'; batchSize: number }
  | { kind: 'crash'; worker: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('send' as const),
    queue: fc.constantFrom('a' as const, 'b' as const),
    count: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({
    kind: fc.constant('claim' as const),
    worker: fc.integer({ min: 0, max: 2 }),
    queue: fc.constantFrom('a' as const, 'b' as const),
    limit: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({
    kind: fc.constant('succeed' as const),
    worker: fc.integer({ min: 0, max: 2 }),
    pick: fc.nat(),
  }),
  fc.record({
    kind: fc.constant('fail' as const),
    worker: fc.integer({ min: 0, max: 2 }),
    pick: fc.nat(),
    error: fc.constantFrom(
      'transient' as const,
      'permanent' as const,
      'malformed' as const,
      'unknown' as const,
    ),
  }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 12_000 }) }),
  fc.record({ kind: fc.constant('sweep' as const) }),
  fc.record({ kind: fc.constant('prune' as const), batchSize: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('crash' as const), worker: fc.integer({ min: 0, max: 2 }) }),
);

function errorFor(kind: 'transient' | 'permanent' | 'malformed' | 'unknown') {
  switch (kind) {
    case 'transient':
      return { name: 'Error', message: 'read ECONNRESET', code: 'ECONNRESET' };
    case 'permanent':
      return { name: 'PermanentError', message: 'order 17 cannot be billed' };
    case 'malformed':
      return { name: 'SyntaxError', message: 'Unexpected end of JSON input' };
    default:
      return { name: 'Error', message: 'something odd happened to item 9' };
  }
}

let tmp: ReturnType<typeof tempDir>;
let run = 0;

beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.remove());

/** A fresh store per run: a SQLite file, or a PostgreSQL schema (dropped after the file). */
const STORES = {
  sqlite: async () => `sqlite:${join(tmp.dir, `run-${run++}.db`)}`,
  postgres: async () => {
    const schema = tempSchema('dl_prop');
    schemas.push(schema);
    return storeUrl(schema);
  },
} as const;
const schemas: string[] = [];
afterAll(() => dropSchemas(...schemas));

async function check(ops: Op[], url: string): Promise<void> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const dl = await Deadletter.open({ store: url, clock, maintenance: false });
  try {
    const queues = {
      a: await dl.createQueue('a', {
        maxReceives: 3,
        visibilityTimeout: '10s',
        backoff: 'fixed:2s',
        doneRetention: '5s',
      }),
      b: await dl.createQueue('b', {
        maxReceives: 2,
        visibilityTimeout: '10s',
        backoff: 'fixed:0',
        deadLetter: false,
        doneRetention: 0,
      }),
    };
    const sent: string[] = [];
    const held: ClaimedMessage[][] = [[], [], []];
    const worker = { workerId: 'w', workerVersion: '1', host: 'h' };

    const verify = async () => {
      const stats = await dl.stats();
      // sent = waiting + delayed + leased + done + dead + dropped + replayed + discarded + archived
      const total = stats.reduce((n, s) => n + sentOf(s), 0);
      expect(total).toBe(sent.length);
      // Nothing here replays, discards or archives: those states stay empty.
      expect(stats.map((s) => s.replayed + s.discarded + s.archived)).toEqual(stats.map(() => 0));
      let live = 0;
      let dead = 0;
      let doneRows = 0;
      for (const id of sent) {
        const message = await dl.store.messageGet({ id });
        const letter = await dl.store.deadLetterGet({ id });
        expect(message !== undefined && letter !== undefined).toBe(false);
        if (message) live++;
        if (message?.state === 'done') doneRows++;
        if (letter) dead++;
      }
      const dropped = stats.reduce((n, s) => n + s.dropped, 0);
      // Done messages whose rows the done retention deleted: still counted as done.
      const pruned = stats.reduce((n, s) => n + s.done, 0) - doneRows;
      expect(pruned).toBeGreaterThanOrEqual(0);
      expect(live + dead + dropped + pruned).toBe(sent.length);
      expect(dead).toBe(stats.reduce((n, s) => n + s.dead, 0));
      const groups = await dl.listGroups({ limit: 1000 });
      expect(groups.reduce((n, g) => n + g.deadCount, 0)).toBe(dead);
    };

    const fail = async (
      message: ClaimedMessage,
      kind: 'transient' | 'permanent' | 'malformed' | 'unknown',
    ) => {
      const now = clock.now();
      const attempt: Attempt = {
        number: message.receives,
        startedAt: now,
        durationMs: 0,
        error: errorFor(kind),
        ...worker,
      };
      const plan = planFailure({
        queue: queues[message.queue as 'a' | 'b'],
        receives: message.receives,
        attempt,
        now,
        rules: {},
      });
      const ref = { id: message.id, leaseToken: message.leaseToken, attempt };
      const item: FailItem =
        plan.outcome === 'retry'
          ? { ...ref, outcome: 'retry', visibleAt: plan.visibleAt }
          : plan.outcome === 'dead'
            ? { ...ref, outcome: 'dead', death: plan.death }
            : { ...ref, outcome: 'drop', tier: plan.tier };
      await dl.store.messageFail({ items: [item], now });
    };

    for (const op of ops) {
      switch (op.kind) {
        case 'send': {
          const results = await dl.sendBatch(
            op.queue,
            Array.from({ length: op.count }, (_, i) => ({ body: { i } })),
          );
          sent.push(...results.map((r) => r.id));
          break;
        }
        case 'claim': {
          const claimed = await dl.store.messageClaim({
            queue: op.queue,
            limit: op.limit,
            now: clock.now(),
            leaseMs: 10_000,
            worker,
          });
          held[op.worker]?.push(...claimed);
          break;
        }
        case 'succeed':
        case 'fail': {
          const list = held[op.worker] ?? [];
          if (list.length === 0) break;
          const [message] = list.splice(op.pick % list.length, 1);
          if (!message) break;
          if (op.kind === 'succeed') {
            await dl.store.messageComplete({
              items: [{ id: message.id, leaseToken: message.leaseToken }],
              now: clock.now(),
            });
          } else {
            await fail(message, op.error);
          }
          break;
        }
        case 'advance':
          clock.advance(op.ms);
          break;
        case 'sweep':
          await dl.sweepExpiredLeases();
          break;
        case 'prune':
          await dl.pruneDoneMessages({ batchSize: op.batchSize });
          break;
        case 'crash':
          held[op.worker] = [];
          break;
      }
      await verify();
    }

    // Let everything finish: leases expire, retries become visible, a last worker succeeds.
    for (let round = 0; round < 10; round++) {
      clock.advance(60_000);
      await dl.sweepExpiredLeases();
      for (const queue of ['a', 'b'] as const) {
        const claimed = await dl.store.messageClaim({
          queue,
          limit: 1000,
          now: clock.now(),
          leaseMs: 10_000,
          worker,
        });
        await dl.store.messageComplete({
          items: claimed.map((m) => ({ id: m.id, leaseToken: m.leaseToken })),
          now: clock.now(),
        });
      }
    }
    await verify();
    const stats = await dl.stats();
    for (const s of stats) expect(s.waiting + s.delayed + s.leased).toBe(0);
  } finally {
    await dl.close();
  }
}

describe.each([
  ['sqlite', 60],
  ['postgres', 25],
] as const)('message state machine on %s (property)', (kind, numRuns) => {
  it('never loses or duplicates a message, and the counts add up', { timeout: 300_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) =>
        check(ops, await STORES[kind]()),
      ),
      { numRuns },
    );
  });
});
