/**
 * The read path with a big DLQ: on the seeded database (see `seed.ts`), times the reads an
 * on-call person makes, through the public library API, and reports p50/p99 per read:
 *
 * - the first page (50) of `listDeadLetters` filtered by queue, by tier, by group (each rep
 *   takes the next queue, tier or group, so all of them are covered);
 * - a deep page (50) by cursor: each rep continues from the cursor of a dead letter that died
 *   at a random time older than the newest 100 pages (found beforehand with `until`);
 * - `listGroups` (sorted by count, the API's default page);
 * - `stats` (every queue's counts).
 *
 * Reads are interleaved (one of each kind per round) after a warm-up round, so no kind is
 * timed only with its own pages in cache. Options: `--file F` (a SQLite file) or `--store URL`
 * (any store, e.g. the PostgreSQL seed of `seed-pg.ts`), `--reps N`.
 */
import { decodeCursor } from '../../src/core/dead-letter.ts';
import { Deadletter, type Tier } from '../../src/index.ts';
import { childMain, isEntryScript, log } from '../lib/child.ts';
import { megabytes, PeakRss } from '../lib/memory.ts';
import { percentile } from '../lib/percentile.ts';
import { seededRandom } from './catalog.ts';

export const READS = [
  'list by queue',
  'list by tier',
  'list by group',
  'deep page by cursor',
  'groups',
  'stats',
] as const;
export type ReadName = (typeof READS)[number];

export interface ReadTiming {
  read: ReadName;
  reps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Rows (or queues) the read returned, the smallest seen: a sanity check. */
  minRows: number;
}

export interface ReadPathResult {
  reads: ReadTiming[];
  peakRssMb: number;
  deadLetters: number;
}

const PAGE = 50;
const DEEP_FROM_PAGE = 100;

async function measure(store: string, reps: number): Promise<ReadPathResult> {
  const rss = new PeakRss();
  const dl = await Deadletter.open({ store });
  try {
    const queues = (await dl.stats()).map((s) => s.queue);
    const groups = await dl.listGroups({ limit: 1000 });
    const tiers = [...new Set(groups.map((g) => g.tier))] as Tier[];

    log('read path: finding deep cursors');
    // Deep cursors: the cursor after a dead letter that died at a random time older than the
    // newest 100 pages, found with the list's own `until` filter.
    const random = seededRandom(3);
    const total = (await dl.stats()).reduce((sum, q) => sum + q.dead, 0);
    let edge: string | undefined;
    for (let seen = 0; seen < DEEP_FROM_PAGE * PAGE; ) {
      const next = await dl.listDeadLetters({ limit: 1000, ...(edge ? { cursor: edge } : {}) });
      seen += next.items.length;
      edge = next.nextCursor ?? undefined;
      if (!edge) throw new Error(`only ${seen} dead letters: too few for a deep page`);
    }
    const newestDeep = decodeCursor(edge as string).diedAt;
    const oldest = Math.min(...(await dl.stats()).map((q) => q.oldestDeadAt ?? Number.POSITIVE_INFINITY));
    const cursors: string[] = [];
    while (cursors.length < 1000) {
      const until = Math.floor(oldest + random() * (newestDeep - oldest));
      const cursor = (await dl.listDeadLetters({ until, limit: 1 })).nextCursor;
      if (cursor) cursors.push(cursor);
    }

    const reads: Record<ReadName, (rep: number) => Promise<number>> = {
      'list by queue': async (rep) =>
        (await dl.listDeadLetters({ queue: queues[rep % queues.length] as string, limit: PAGE })).items
          .length,
      'list by tier': async (rep) =>
        (await dl.listDeadLetters({ tier: tiers[rep % tiers.length] as Tier, limit: PAGE })).items.length,
      'list by group': async (rep) =>
        (
          await dl.listDeadLetters({
            groupId: (groups[rep % groups.length] as { id: string }).id,
            limit: PAGE,
          })
        ).items.length,
      'deep page by cursor': async () =>
        (
          await dl.listDeadLetters({
            limit: PAGE,
            cursor: cursors[Math.floor(random() * cursors.length)] as string,
          })
        ).items.length,
      groups: async () => (await dl.listGroups()).length,
      stats: async () => (await dl.stats()).length,
    };

    const samples = new Map<ReadName, number[]>(READS.map((r) => [r, []]));
    const rows = new Map<ReadName, number>(READS.map((r) => [r, Number.POSITIVE_INFINITY]));
    for (let rep = -1; rep < reps; rep++) {
      for (const read of READS) {
        const t0 = performance.now();
        const n = await reads[read](Math.max(rep, 0));
        const ms = performance.now() - t0;
        if (rep < 0) continue; // warm-up round
        samples.get(read)?.push(ms);
        rows.set(read, Math.min(rows.get(read) as number, n));
      }
    }
    return {
      reads: READS.map((read) => {
        const s = samples.get(read) as number[];
        return {
          read,
          reps: s.length,
          p50Ms: percentile(s, 50),
          p99Ms: percentile(s, 99),
          maxMs: Math.max(...s),
          minRows: rows.get(read) as number,
        };
      }),
      peakRssMb: megabytes(rss.stop()),
      deadLetters: total,
    };
  } finally {
    await dl.close();
  }
}

if (isEntryScript(import.meta.url)) {
  const arg = (name: string) => {
    const at = process.argv.indexOf(`--${name}`);
    return at > 0 ? process.argv[at + 1] : undefined;
  };
  const file = arg('file');
  const store = arg('store') ?? (file ? `sqlite:${file}` : undefined);
  if (!store) throw new Error('--file (a SQLite file) or --store (a store URL) is required');
  childMain(() => measure(store, Number(arg('reps') ?? 200)));
}
