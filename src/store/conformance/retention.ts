import { describe, expect, it } from 'vitest';
import {
  type ArchivableDeadLetter,
  type ArchiveRecord,
  archiveDay,
  toArchiveRecord,
} from '../../core/archive-record.ts';
import { NotFoundError } from '../../core/errors.ts';
import type { ArchivedRef, Store } from '../store.ts';
import { createQueues, expectStats, killOne, nextId, type StoreContext, statsOf, T0 } from './fixtures.ts';

const DAY = 86_400_000;

/** Every expired row of a queue in one state, following the `after` cursor page by page. */
async function listAllExpired(
  store: Store,
  queue: string,
  state: 'dead' | 'replayed',
  before: number,
  pageSize: number,
): Promise<ArchivableDeadLetter[]> {
  const rows: ArchivableDeadLetter[] = [];
  let after: { at: number; id: string } | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const page = await store.deadLetterListExpired({
      queue,
      state,
      before,
      limit: pageSize,
      ...(after && { after }),
    });
    rows.push(...page);
    const last = page.at(-1);
    if (!last || page.length < pageSize) return rows;
    after = { at: last.state === 'replayed' ? last.replayedAt : last.diedAt, id: last.id };
  }
  throw new Error('paging did not end');
}

function refOf(letter: ArchivableDeadLetter): ArchivedRef {
  return { id: letter.id, state: letter.state, edits: letter.edits.length };
}

function archiveParams(queue: string, letters: ArchivableDeadLetter[], archiveId: string, now: number) {
  const first = letters[0];
  const day = first ? archiveDay(first.diedAt) : '2026-01-01';
  return {
    queue,
    day,
    file: `${queue}/${day}.jsonl.gz`,
    archiveId,
    letters: letters.map(refOf),
    actor: 'system',
    now,
  };
}

/**
 * A replayed record as another process (or the replay runner) would have left it: the
 * conformance suite puts it into the replay history through an import.
 */
function replayedRecord(base: ArchiveRecord, overrides: { id: string; replayedAt: number }): ArchiveRecord {
  return {
    ...base,
    id: overrides.id,
    state: 'replayed',
    replayedAt: overrides.replayedAt,
    replayedBy: 'alice',
    replayJobId: 'job-1',
    replayedTo: `${overrides.id}-replay`,
    destination: base.queue,
  };
}

/** Retention: expired rows, archiving them, and importing archives back. */
export function describeRetention(ctx: StoreContext): void {
  describe('deadLetterListExpired and deadLetterCountExpired', () => {
    it('lists the dead letters of one queue that died before the cutoff, oldest first, with their whole context', async () => {
      await createQueues(ctx.store, 'orders', 'emails');
      const d1 = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 1 * DAY, groupId: 'g1' });
      const d2 = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 2 * DAY, groupId: 'g2' });
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 3 * DAY, groupId: 'g1' });
      await killOne(ctx.store, { queue: 'emails', diedAt: T0 + 1 * DAY, groupId: 'g1' });

      const rows = await ctx.store.deadLetterListExpired({
        queue: 'orders',
        state: 'dead',
        before: T0 + 3 * DAY,
        limit: 10,
      });
      expect(rows.map((r) => r.id)).toEqual([d1, d2]);
      const full = await ctx.store.deadLetterGet({ id: d1 });
      expect(rows[0]).toMatchObject({
        ...full,
        state: 'dead',
        originalBody: null,
        edits: [],
        normalizedMessage: 'normalised g1',
      });
      expect(rows[0]?.attempts).toHaveLength(1);
      expect(await ctx.store.deadLetterCountExpired({ queue: 'orders', before: T0 + 3 * DAY })).toEqual({
        dead: 2,
        replayed: 0,
      });
      // The cutoff is exclusive, and a queue without expired rows lists none.
      expect(
        await ctx.store.deadLetterListExpired({
          queue: 'orders',
          state: 'dead',
          before: T0 + DAY,
          limit: 10,
        }),
      ).toEqual([]);
      expect(
        await ctx.store.deadLetterListExpired({
          queue: 'nope',
          state: 'dead',
          before: T0 + 9 * DAY,
          limit: 10,
        }),
      ).toEqual([]);
    });

    it('pages with `after` through ties of the same death time in id order', async () => {
      await createQueues(ctx.store, 'orders');
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        ids.push(await killOne(ctx.store, { queue: 'orders', diedAt: T0 + (i < 4 ? 1_000 : 2_000) }));
      }
      const all = await listAllExpired(ctx.store, 'orders', 'dead', T0 + DAY, 3);
      expect(all.map((r) => r.id)).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
      expect(
        await ctx.store.deadLetterListExpired({ queue: 'orders', state: 'dead', before: T0 + DAY, limit: 0 }),
      ).toEqual([]);
    });
  });

  describe('deadLetterListExpired of the replay history', () => {
    it('pages with `after` through ties of the same replay time in id order', async () => {
      await createQueues(ctx.store, 'orders');
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 1_000 });
      const [letter] = await listAllExpired(ctx.store, 'orders', 'dead', T0 + DAY, 10);
      if (!letter) throw new Error('expected a dead letter');
      const base = toArchiveRecord(letter, { archiveId: 'a', archivedAt: T0 });
      const records = Array.from({ length: 7 }, (_, i) =>
        replayedRecord(base, { id: nextId('replayed'), replayedAt: T0 + (i < 5 ? 2_000 : 3_000) }),
      );
      await ctx.store.deadLetterImport({ file: 'f', records: [...records].reverse(), actor: 'a', now: T0 });
      const all = await listAllExpired(ctx.store, 'orders', 'replayed', T0 + DAY, 2);
      expect(all.map((r) => r.id)).toEqual(records.map((r) => r.id));
      expect(all.every((r) => r.state === 'replayed')).toBe(true);
      expect(
        (await listAllExpired(ctx.store, 'orders', 'replayed', T0 + 3_000, 10)).map((r) => r.id),
      ).toEqual(records.slice(0, 5).map((r) => r.id));
    });
  });

  describe('deadLetterArchive', () => {
    it('deletes archived dead letters with their counters, group counts and one audit entry', async () => {
      await createQueues(ctx.store, 'orders');
      const d1 = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 1_000, groupId: 'g1' });
      const d2 = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 2_000, groupId: 'g1' });
      const d3 = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 2 * DAY, groupId: 'g1' });
      const expired = await listAllExpired(ctx.store, 'orders', 'dead', T0 + DAY, 10);
      expect(expired.map((r) => r.id)).toEqual([d1, d2]);

      const now = T0 + 30 * DAY;
      const result = await ctx.store.deadLetterArchive(archiveParams('orders', expired, 'archive-1', now));
      expect(result).toEqual({ dead: 2, replayed: 0, stale: [] });
      expect(await ctx.store.deadLetterGet({ id: d1 })).toBeUndefined();
      expect(await ctx.store.deadLetterGet({ id: d2 })).toBeUndefined();
      expect(await ctx.store.deadLetterGet({ id: d3 })).toBeDefined();
      await expectStats(ctx.store, 'orders', now, {
        sent: 3,
        waiting: 0,
        delayed: 0,
        leased: 0,
        done: 0,
        dead: 1,
        dropped: 0,
        archived: 2,
        oldestDeadAt: T0 + 2 * DAY,
      });
      expect(await ctx.store.groupGet({ id: 'g1' })).toMatchObject({ count: 3, deadCount: 1 });
      const [entry] = await ctx.store.auditList({ action: 'retention.archive', limit: 10 });
      expect(entry).toMatchObject({
        at: now,
        actor: 'system',
        action: 'retention.archive',
        targetType: 'archive',
        targetId: 'orders/2026-01-01.jsonl.gz',
        details: {
          queue: 'orders',
          day: '2026-01-01',
          file: 'orders/2026-01-01.jsonl.gz',
          archiveId: 'archive-1',
          count: 2,
          dead: 2,
          replayed: 0,
          firstId: d1,
          lastId: d2,
        },
      });
    });

    it('keeps rows that are gone, of another queue or edited since they were listed, and records nothing for nothing', async () => {
      await createQueues(ctx.store, 'orders', 'emails');
      const d1 = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 1_000, groupId: 'g1' });
      const other = await killOne(ctx.store, { queue: 'emails', diedAt: T0 + 1_000, groupId: 'g1' });
      const refs: ArchivedRef[] = [
        { id: d1, state: 'dead', edits: 1 }, // the row has no edit: it changed since
        { id: other, state: 'dead', edits: 0 }, // not a dead letter of `orders`
        { id: 'unknown', state: 'dead', edits: 0 },
        { id: d1, state: 'replayed', edits: 0 }, // not in the replay history
      ];
      const result = await ctx.store.deadLetterArchive({
        queue: 'orders',
        day: '2026-01-01',
        file: 'orders/2026-01-01.jsonl.gz',
        archiveId: 'a',
        letters: refs,
        actor: 'system',
        now: T0 + DAY,
      });
      expect(result).toEqual({ dead: 0, replayed: 0, stale: [d1, other, 'unknown', d1] });
      expect(await ctx.store.deadLetterGet({ id: d1 })).toBeDefined();
      expect(await ctx.store.deadLetterGet({ id: other })).toBeDefined();
      expect(await ctx.store.auditList({ action: 'retention.archive', limit: 10 })).toEqual([]);
      expect((await statsOf(ctx.store, 'orders', T0 + DAY)).archived).toBe(0);
      expect(
        await ctx.store.deadLetterArchive({ ...archiveParams('orders', [], 'a', T0), letters: [] }),
      ).toEqual({ dead: 0, replayed: 0, stale: [] });
    });
  });

  describe('deadLetterImport', () => {
    /** Archives every dead letter of `orders` (died before T0 + 1 day) and returns their records. */
    async function archiveOrders(archiveId: string): Promise<ArchiveRecord[]> {
      const expired = await listAllExpired(ctx.store, 'orders', 'dead', T0 + DAY, 100);
      const now = T0 + 20 * DAY;
      await ctx.store.deadLetterArchive(archiveParams('orders', expired, archiveId, now));
      return expired.map((letter) => toArchiveRecord(letter, { archiveId, archivedAt: now }));
    }

    it('restores what this store archived: archived → dead, groups count them again, nothing counted twice', async () => {
      await createQueues(ctx.store, 'orders');
      const d1 = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 1_000, groupId: 'g1' });
      const d2 = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 2_000, groupId: 'g2' });
      const before = [await ctx.store.deadLetterGet({ id: d1 }), await ctx.store.deadLetterGet({ id: d2 })];
      const records = await archiveOrders('archive-1');
      const stats = { sent: 2, waiting: 0, delayed: 0, leased: 0, done: 0, dropped: 0 };
      await expectStats(ctx.store, 'orders', T0 + 20 * DAY, { ...stats, dead: 0, archived: 2 });

      const now = T0 + 21 * DAY;
      // A dry run answers the same and changes nothing.
      const params = { file: 'orders.jsonl.gz', records, actor: 'alice', now };
      const dry = await ctx.store.deadLetterImport({ ...params, dryRun: true });
      expect(dry).toEqual({ restored: 2, added: 0, history: 0, skipped: [] });
      expect(await ctx.store.deadLetterGet({ id: d1 })).toBeUndefined();
      await expectStats(ctx.store, 'orders', now, { ...stats, dead: 0, archived: 2 });
      expect(await ctx.store.auditList({ action: 'archive.import', limit: 10 })).toEqual([]);

      const result = await ctx.store.deadLetterImport(params);
      expect(result).toEqual({ restored: 2, added: 0, history: 0, skipped: [] });
      expect([await ctx.store.deadLetterGet({ id: d1 }), await ctx.store.deadLetterGet({ id: d2 })]).toEqual(
        before,
      );
      await expectStats(ctx.store, 'orders', now, { ...stats, dead: 2, archived: 0 });
      expect(await ctx.store.groupGet({ id: 'g1' })).toMatchObject({ count: 1, deadCount: 1 });
      expect(await ctx.store.groupGet({ id: 'g2' })).toMatchObject({ count: 1, deadCount: 1 });
      const [entry] = await ctx.store.auditList({ action: 'archive.import', limit: 10 });
      expect(entry).toMatchObject({
        at: now,
        actor: 'alice',
        targetType: 'archive',
        targetId: 'orders.jsonl.gz',
        details: {
          count: 2,
          restored: 2,
          added: 0,
          history: 0,
          skipped: 0,
          queues: ['orders'],
          ids: [d1, d2],
        },
      });

      // A second import finds every id back in the DLQ and changes nothing.
      const again = await ctx.store.deadLetterImport({
        file: 'orders.jsonl.gz',
        records,
        actor: 'alice',
        now,
      });
      expect(again).toEqual({
        restored: 0,
        added: 0,
        history: 0,
        skipped: [
          { id: d1, reason: 'dead' },
          { id: d2, reason: 'dead' },
        ],
      });
      await expectStats(ctx.store, 'orders', now, { ...stats, dead: 2, archived: 0 });
      expect(await ctx.store.auditList({ action: 'archive.import', limit: 10 })).toHaveLength(1);
    });

    it("adds another deployment's dead letters as new ones, creating their groups", async () => {
      await createQueues(ctx.store, 'orders');
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 1_000, groupId: 'g1' });
      const [record] = await archiveOrders('ours');
      if (!record) throw new Error('expected a record');
      const foreign: ArchiveRecord[] = [
        { ...record, id: nextId('foreign'), archiveId: 'theirs', groupId: 'g-new', fingerprint: 'fp-new' },
        { ...record, id: nextId('foreign'), archiveId: 'theirs', diedAt: T0 + 5_000 },
      ];
      const now = T0 + 21 * DAY;
      const result = await ctx.store.deadLetterImport({
        file: 'x.jsonl.gz',
        records: foreign,
        actor: 'bob',
        now,
      });
      expect(result).toEqual({ restored: 0, added: 2, history: 0, skipped: [] });
      // New dead letters, as if sent here and dead: sent grows with them.
      await expectStats(ctx.store, 'orders', now, {
        sent: 3,
        waiting: 0,
        delayed: 0,
        leased: 0,
        done: 0,
        dead: 2,
        dropped: 0,
        archived: 1,
      });
      expect(await ctx.store.groupGet({ id: 'g-new' })).toMatchObject({
        fingerprint: 'fp-new',
        errorName: record.error.name,
        normalizedMessage: 'normalised g1',
        tier: record.tier,
        status: 'new',
        count: 1,
        deadCount: 1,
        queues: ['orders'],
        firstSeen: record.diedAt,
        lastSeen: record.diedAt,
      });
      expect(await ctx.store.groupGet({ id: 'g1' })).toMatchObject({
        count: 2,
        deadCount: 1,
        lastSeen: T0 + 5_000,
      });
      expect((await ctx.store.deadLetterGet({ id: foreign[1]?.id ?? '' }))?.diedAt).toBe(T0 + 5_000);
    });

    it('puts replayed records back into the replay history, never into the DLQ, and archives them from there', async () => {
      await createQueues(ctx.store, 'orders');
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 1_000, groupId: 'g1' });
      const [record] = await archiveOrders('ours');
      if (!record) throw new Error('expected a record');
      const replayed = replayedRecord(record, { id: nextId('replayed'), replayedAt: T0 + 3 * DAY });
      const result = await ctx.store.deadLetterImport({
        file: 'r.jsonl.gz',
        records: [replayed],
        actor: 'bob',
        now: T0 + 21 * DAY,
      });
      expect(result).toEqual({ restored: 0, added: 0, history: 1, skipped: [] });
      expect(await ctx.store.deadLetterGet({ id: replayed.id })).toBeUndefined();
      const counts = {
        sent: 1,
        waiting: 0,
        delayed: 0,
        leased: 0,
        done: 0,
        dead: 0,
        dropped: 0,
        archived: 1,
      };
      await expectStats(ctx.store, 'orders', T0 + 21 * DAY, counts);

      // Replayed history expires by when it was replayed.
      expect(await listAllExpired(ctx.store, 'orders', 'replayed', T0 + 3 * DAY, 10)).toEqual([]);
      const [row] = await listAllExpired(ctx.store, 'orders', 'replayed', T0 + 3 * DAY + 1, 10);
      const { formatVersion: _v, archiveId: _a, archivedAt: _t, ...letter } = replayed;
      expect(row).toEqual(letter);
      expect(await ctx.store.deadLetterCountExpired({ queue: 'orders', before: T0 + 4 * DAY })).toEqual({
        dead: 0,
        replayed: 1,
      });
      if (!row) throw new Error('expected the replayed row');
      const archived = await ctx.store.deadLetterArchive(
        archiveParams('orders', [row], 'ours', T0 + 22 * DAY),
      );
      expect(archived).toEqual({ dead: 0, replayed: 1, stale: [] });
      // The replay history carries no count of its own: archiving it changes no counter.
      await expectStats(ctx.store, 'orders', T0 + 22 * DAY, counts);
      expect(await listAllExpired(ctx.store, 'orders', 'replayed', T0 + 30 * DAY, 10)).toEqual([]);
      // Back again, it is skipped the second time.
      await ctx.store.deadLetterImport({ file: 'r', records: [replayed], actor: 'bob', now: T0 + 23 * DAY });
      expect(
        (
          await ctx.store.deadLetterImport({
            file: 'r',
            records: [replayed],
            actor: 'bob',
            now: T0 + 23 * DAY,
          })
        ).skipped,
      ).toEqual([{ id: replayed.id, reason: 'replayed' }]);
    });

    it('skips ids that are messages or tombstones, and imports nothing when a queue does not exist', async () => {
      await createQueues(ctx.store, 'orders');
      await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 1_000, groupId: 'g1' });
      const [record] = await archiveOrders('ours');
      if (!record) throw new Error('expected a record');
      const gone = await killOne(ctx.store, { queue: 'orders', diedAt: T0 + 2 * DAY, groupId: 'g1' });
      await ctx.store.deadLetterDiscard({ ids: [gone], reason: 'test', actor: 'bob', now: T0 + 2 * DAY });
      const discarded = await ctx.store.deadLetterImport({
        file: 'f',
        records: [{ ...record, id: gone }],
        actor: 'bob',
        now: T0 + 2 * DAY,
      });
      expect(discarded.skipped).toEqual([{ id: gone, reason: 'discarded' }]);
      const live = (
        await ctx.store.messageInsertBatch({
          queue: 'orders',
          messages: [{ id: nextId('live'), body: 1, headers: {}, idempotencyKey: null, visibleAt: T0 }],
          now: T0,
        })
      )[0]?.id as string;
      const result = await ctx.store.deadLetterImport({
        file: 'f',
        records: [{ ...record, id: live }],
        actor: 'bob',
        now: T0 + DAY,
      });
      expect(result.skipped).toEqual([{ id: live, reason: 'message' }]);

      const stray = { ...record, id: nextId('stray'), queue: 'nope' };
      await expect(
        ctx.store.deadLetterImport({ file: 'f', records: [record, stray], actor: 'bob', now: T0 + DAY }),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect(await ctx.store.deadLetterGet({ id: record.id })).toBeUndefined();
      expect((await statsOf(ctx.store, 'orders', T0 + DAY)).archived).toBe(1);
      expect(await ctx.store.auditList({ action: 'archive.import', limit: 10 })).toEqual([]);
    });
  });
}
