import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import type { DeadLetter } from '../../src/core/dead-letter.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { killOne, sentOf } from '../../src/store/conformance/fixtures.ts';
import { dropSchemas, storeUrl, tempSchema } from '../store/postgres-schema.ts';
import { tempDir } from '../support/temp-dir.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T = Date.UTC(2026, 4, 1);
/** Later than the child's sweep lease (10s): each run finds the killed one's leadership expired. */
const STEP = 11_000;

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.remove());

/** Runs one sweep in a child process that kills itself at the `nth` time it reaches `point`. */
function sweepInChild(
  url: string,
  archiveDir: string,
  now: number,
  point: string,
  nth: number,
): Promise<{ signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const fixture = new URL('./fixtures/retention-sweep-child.ts', import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fixture, url, archiveDir, String(now), point, String(nth)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (_code, signal) => resolve({ signal, stdout, stderr }));
  });
}

const schemas: string[] = [];
afterAll(() => dropSchemas(...schemas));

/** The stores the crash test runs on: each call gives the URL of a new, empty one. */
const STORES: [string, (dir: string) => string][] = [
  ['sqlite', (dir) => `sqlite:${join(dir, 'crash.db')}`],
  [
    'postgres',
    () => {
      const schema = tempSchema('dl_retcrash');
      schemas.push(schema);
      return storeUrl(schema);
    },
  ],
];

describe.each(STORES)('a retention sweep killed at any point, on %s', (_kind, newStore) => {
  it('loses nothing and duplicates nothing: the next sweep completes what it started', async () => {
    tmp = tempDir();
    const url = newStore(tmp.dir);
    const archiveDir = join(tmp.dir, 'archive');
    const clock = new ManualClock(T);
    const dl = await Deadletter.open({ store: url, clock, archiveDir, maintenance: false });
    try {
      await dl.createQueue('orders', { retentionDays: 1 });
      await dl.createQueue('emails', { retentionDays: 2 });
      // Dead letters over five days, several per day and queue, in two groups.
      const original = new Map<string, DeadLetter>();
      for (let day = 0; day < 5; day++) {
        for (let i = 0; i < 7; i++) {
          const queue = i % 3 === 0 ? 'emails' : 'orders';
          const id = await killOne(dl.store, {
            queue,
            diedAt: T + day * DAY + (i + 1) * HOUR + HOUR / 2, // half past: clear of the cutoffs
            groupId: i % 2 === 0 ? 'even' : 'odd',
            body: { day, i },
          });
          original.set(id, await dl.getDeadLetter(id));
        }
      }
      // Two of day 1's dead letters are replayed on day 2: replay history, expired by day 6 too.
      const replayedIds = [...original.values()]
        .filter((letter) => letter.queue === 'orders' && letter.diedAt < T + DAY)
        .slice(0, 2)
        .map((letter) => letter.id);
      clock.set(T + DAY + 12 * HOUR);
      await dl.replay({ ids: replayedIds }, { actor: 'alice' });

      // Day 6, 01:00: orders keeps what died after day 5 01:00, emails after day 4 01:00.
      const now = T + 5 * DAY + HOUR;
      const expires = (letter: DeadLetter) => letter.diedAt < now - (letter.queue === 'orders' ? 1 : 2) * DAY;
      const expired = [...original.values()].filter(expires).map((letter) => letter.id);
      expect(expired.length).toBeGreaterThan(20);

      /** Every record of every archive file: id → how many times it is there, and the records. */
      const readArchives = async () => {
        const seen = new Map<string, number>();
        const records = new Map<string, Record<string, unknown>>();
        for (const info of await dl.listArchives()) {
          for await (const { line: _line, ...record } of dl.readArchive(info.path)) {
            seen.set(record.id, (seen.get(record.id) ?? 0) + 1);
            records.set(record.id, record);
          }
        }
        return { seen, records };
      };

      /** Nothing lost, nothing twice in the archive, archived records intact, counts adding up. */
      const checkInvariants = async () => {
        const { seen, records } = await readArchives();
        for (const [id, count] of seen) expect({ id, count }).toEqual({ id, count: 1 });
        for (const [id, letter] of original) {
          const inStore =
            (await dl.store.deadLetterGet({ id })) !== undefined ||
            (await dl.findReplayedDeadLetter(id)) !== undefined;
          expect({ id, kept: inStore || seen.has(id) }).toEqual({ id, kept: true });
          const record = records.get(id);
          if (record?.state === 'dead') expect(record).toMatchObject({ ...letter });
        }
        for (const stats of await dl.stats()) {
          // Every message sent is in exactly one state (the replays are new messages of `orders`).
          expect(sentOf(stats)).toBe(
            [...original.values()].filter((l) => l.queue === stats.queue).length +
              (stats.queue === 'orders' ? replayedIds.length : 0),
          );
        }
      };

      // Crash after each kind of step, some at the first occurrence, some later in the sweep.
      const crashes: [string, number][] = [
        ['afterTempWritten', 1],
        ['afterRename', 1],
        ['afterDelete', 1],
        ['afterTempWritten', 2],
        ['afterRename', 3],
        ['afterDelete', 4],
      ];
      let at = now;
      for (const [point, nth] of crashes) {
        const run = await sweepInChild(url, archiveDir, at, point, nth);
        expect({ point, nth, signal: run.signal, stderr: run.stderr }).toEqual({
          point,
          nth,
          signal: 'SIGKILL',
          stderr: '',
        });
        await checkInvariants();
        at += STEP;
      }

      // A sweep that is left alone completes the job.
      clock.set(at);
      const last = await dl.sweepRetention();
      expect(last.errors).toBe(0);
      await checkInvariants();
      const { seen } = await readArchives();
      for (const [id, letter] of original) {
        const gone = expires(letter) || replayedIds.includes(id);
        expect({
          id,
          archived: seen.has(id),
          inStore: (await dl.store.deadLetterGet({ id })) !== undefined,
        }).toEqual({
          id,
          archived: gone,
          inStore: !gone,
        });
      }
      for (const id of replayedIds) {
        expect(await dl.findReplayedDeadLetter(id)).toBeUndefined();
        expect((await readArchives()).records.get(id)).toMatchObject({
          state: 'replayed',
          replayedBy: 'alice',
        });
      }
      const deadExpired = expired.filter((id) => !replayedIds.includes(id));
      const stats = await dl.stats();
      expect(stats.reduce((sum, s) => sum + s.archived, 0)).toBe(deadExpired.length);
      // Each dead letter's deletion was audited exactly once, crashes or not.
      const audited = (await dl.listAudit({ action: 'retention.archive', limit: 1000 })).items;
      expect(audited.reduce((sum, entry) => sum + Number(entry.details.dead), 0)).toBe(deadExpired.length);
      expect(audited.reduce((sum, entry) => sum + Number(entry.details.replayed), 0)).toBe(
        replayedIds.length,
      );
      // No temporary file of a killed sweep is left behind.
      for (const queue of ['orders', 'emails']) {
        expect(readdirSync(join(archiveDir, queue)).filter((name) => !name.endsWith('.jsonl.gz'))).toEqual(
          [],
        );
      }
    } finally {
      await dl.close();
    }
  }, 120_000);
});
