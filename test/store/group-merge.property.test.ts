import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../../src/core/errors.ts';
import { killOne, queueRecord, T0 } from '../../src/store/conformance/fixtures.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/store.ts';
import { removeDb, tempDbPath } from './temp-db.ts';

/**
 * Group merge as a property: random deaths (in five group ids, two queues) and merges (valid
 * or not), checked after every step: every dead letter is in a live group, each group's
 * deadCount and queues are what its dead letters say, every alias names a live group, a bad
 * merge throws its error and changes nothing.
 */

const IDS = ['g0', 'g1', 'g2', 'g3', 'g4'];

type Op =
  | { kind: 'die'; group: number; queue: 'a' | 'b' }
  | { kind: 'merge'; target: number; sources: number[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('die' as const),
      group: fc.integer({ min: 0, max: 4 }),
      queue: fc.constantFrom('a' as const, 'b' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('merge' as const),
      target: fc.integer({ min: 0, max: 4 }),
      sources: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 }),
    }),
  },
);

async function snapshot(store: Store) {
  const groups = await store.groupList({ sort: 'count', limit: 100 });
  const letters = await store.deadLetterList({ limit: 1000 });
  const aliases = await Promise.all(IDS.map((id) => store.groupAliasGet({ id })));
  return { groups, letters, aliases };
}

async function checkInvariants(store: Store, deaths: number): Promise<void> {
  const { groups, letters, aliases } = await snapshot(store);
  expect(letters).toHaveLength(deaths);
  const live = new Map(groups.map((g) => [g.id, g]));
  for (const letter of letters) expect(live.has(letter.groupId), letter.groupId).toBe(true);
  for (const group of groups) {
    const own = letters.filter((l) => l.groupId === group.id);
    expect(group.deadCount).toBe(own.length);
    expect(group.count).toBe(own.length);
    expect(group.queues).toEqual([...new Set(own.map((l) => l.queue))].sort());
    expect(group.firstSeen).toBe(Math.min(...own.map((l) => l.diedAt)));
    expect(group.lastSeen).toBe(Math.max(...own.map((l) => l.diedAt)));
  }
  for (const [i, alias] of aliases.entries()) {
    if (!alias) continue;
    expect(live.has(IDS[i] as string)).toBe(false);
    expect(live.has(alias.targetId), `${IDS[i]} -> ${alias.targetId}`).toBe(true);
  }
}

describe('group merge, as a property', () => {
  it('keeps every dead letter in a live group with exact counts, through any deaths and merges', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        const path = tempDbPath('deadletter-merge-prop');
        const store = await openStore(`sqlite:${path}`, { migrate: true });
        try {
          await store.queueCreate({ queue: queueRecord('a') });
          await store.queueCreate({ queue: queueRecord('b') });
          let deaths = 0;
          let now = T0;
          for (const op of ops) {
            now += 10;
            if (op.kind === 'die') {
              const id = await killOne(store, {
                queue: op.queue,
                diedAt: now,
                groupId: IDS[op.group] as string,
              });
              deaths++;
              const letter = await store.deadLetterGet({ id });
              // Where a death lands: its own id, or where its id was merged to.
              const alias = await store.groupAliasGet({ id: IDS[op.group] as string });
              expect(letter?.groupId).toBe(alias ? alias.targetId : IDS[op.group]);
            } else {
              const target = IDS[op.target] as string;
              const sources = op.sources.map((s) => IDS[s] as string);
              const before = await snapshot(store);
              const live = new Set(before.groups.map((g) => g.id));
              const unique = [...new Set(sources)];
              let expected: (new (...args: never[]) => Error) | undefined;
              if (unique.includes(target)) expected = ValidationError;
              else {
                for (const id of [target, ...unique]) {
                  if (live.has(id)) continue;
                  expected ??= before.aliases[IDS.indexOf(id)] ? ConflictError : NotFoundError;
                }
              }
              const merging = store.groupMerge({ target, sources, actor: 'prop', now });
              if (expected) {
                await expect(merging).rejects.toBeInstanceOf(expected);
                expect(await snapshot(store)).toEqual(before);
              } else {
                const result = await merging;
                const movedBefore = before.letters.filter((l) => unique.includes(l.groupId)).length;
                expect(result.moved).toBe(movedBefore);
              }
            }
            await checkInvariants(store, deaths);
          }
        } finally {
          await store.close();
          await removeDb(path);
        }
      }),
      { numRuns: 60 },
    );
  });
});
