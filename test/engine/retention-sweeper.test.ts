import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArchiveRecord } from '../../src/core/archive-record.ts';
import { ManualClock } from '../../src/core/clock.ts';
import type { DeadLetter } from '../../src/core/dead-letter.ts';
import { ConflictError, ValidationError } from '../../src/core/errors.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { RETENTION_LEADERSHIP, RetentionSweeper } from '../../src/engine/retention-sweeper.ts';
import { killOne, sentOf } from '../../src/store/conformance/fixtures.ts';
import { dropSchemas, storeUrl, tempSchema } from '../store/postgres-schema.ts';
import { tempDir } from '../support/temp-dir.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Day 1 of the tests: 2026-03-01 (UTC). */
const T = Date.UTC(2026, 2, 1);

const schemas: string[] = [];
afterAll(() => dropSchemas(...schemas));

/** The stores the sweeper is tested on: each call gives the URL of a new, empty one. */
const STORES: [string, (dir: string, name: string) => string][] = [
  ['sqlite', (dir, name) => `sqlite:${join(dir, `${name}.db`)}`],
  [
    'postgres',
    () => {
      const schema = tempSchema('dl_retention');
      schemas.push(schema);
      return storeUrl(schema);
    },
  ],
];

describe.each(STORES)('on %s', (_kind, newStore) => {
  let tmp: ReturnType<typeof tempDir>;
  let clock: ManualClock;
  let dl: Deadletter;
  let archiveDir: string;
  let url: string;

  beforeEach(async () => {
    tmp = tempDir();
    clock = new ManualClock(T);
    archiveDir = join(tmp.dir, 'archive');
    url = newStore(tmp.dir, 'dl');
    dl = await Deadletter.open({
      store: url,
      clock,
      archiveDir,
      retention: { batchSize: 2 },
      maintenance: false,
    });
  });

  afterEach(async () => {
    await dl.close();
    tmp.remove();
  });

  /** Every record of every archive file, by file (relative to the archive directory). */
  async function archiveContents(): Promise<Map<string, ArchiveRecord[]>> {
    const files = new Map<string, ArchiveRecord[]>();
    for (const info of await dl.listArchives()) {
      const records: ArchiveRecord[] = [];
      for await (const { line: _line, ...record } of dl.readArchive(info.path))
        records.push(record as ArchiveRecord);
      files.set(`${info.queue}/${info.day}`, records);
      expect(info.records).toBe(records.length);
    }
    return files;
  }

  /** A dead letter as an archive record keeps it (without the archive's own fields). */
  function asDead(letter: DeadLetter) {
    return { ...letter, state: 'dead', originalBody: null, edits: [] };
  }

  async function statsOf(queue: string) {
    const row = (await dl.stats()).find((s) => s.queue === queue);
    if (!row) throw new Error(`no queue ${queue}`);
    return row;
  }

  describe('the retention sweeper', () => {
    it('archives only expired dead letters, one gzip JSON-lines file per queue and UTC day, then deletes them', async () => {
      await dl.createQueue('orders', { retentionDays: 14 });
      await dl.createQueue('emails', { retentionDays: 2 });
      await dl.createQueue('ledger', { retentionDays: 0 });
      const o1 = await killOne(dl.store, { queue: 'orders', diedAt: T + 10 * HOUR, groupId: 'g1' });
      const o2 = await killOne(dl.store, { queue: 'orders', diedAt: T + DAY - 1, groupId: 'g1' });
      const o3 = await killOne(dl.store, { queue: 'orders', diedAt: T + DAY, groupId: 'g2' });
      const o4 = await killOne(dl.store, { queue: 'orders', diedAt: T + 2 * DAY + 5, groupId: 'g1' });
      const o5 = await killOne(dl.store, { queue: 'orders', diedAt: T + 10 * DAY, groupId: 'g1' });
      const e1 = await killOne(dl.store, { queue: 'emails', diedAt: T + HOUR, groupId: 'g1' });
      const e2 = await killOne(dl.store, { queue: 'emails', diedAt: T + 15 * DAY, groupId: 'g3' });
      const l1 = await killOne(dl.store, { queue: 'ledger', diedAt: T, groupId: 'g1' });
      const before = new Map<string, DeadLetter>();
      for (const id of [o1, o2, o3, o4, o5, e1, e2, l1]) before.set(id, await dl.getDeadLetter(id));

      // Day 17: orders keeps what died since day 3, emails since day 15, ledger everything.
      clock.set(T + 16 * DAY + HOUR);
      const result = await dl.sweepRetention();
      expect(result).toMatchObject({ dryRun: false, dead: 5, replayed: 0, errors: 0, archiveDir });
      expect(result.queues.map((q) => [q.queue, q.dead, q.files.map((f) => [f.day, f.dead])])).toEqual([
        ['emails', 1, [['2026-03-01', 1]]],
        ['ledger', 0, []],
        [
          'orders',
          4,
          [
            ['2026-03-01', 2],
            ['2026-03-02', 1],
            ['2026-03-03', 1],
          ],
        ],
      ]);

      const files = await archiveContents();
      expect([...files.keys()]).toEqual([
        'emails/2026-03-01',
        'orders/2026-03-01',
        'orders/2026-03-02',
        'orders/2026-03-03',
      ]);
      expect(readdirSync(join(archiveDir, 'orders'))).toEqual([
        '2026-03-01.jsonl.gz',
        '2026-03-02.jsonl.gz',
        '2026-03-03.jsonl.gz',
      ]);
      const day1 = files.get('orders/2026-03-01') ?? [];
      expect(day1.map((r) => r.id)).toEqual([o1, o2]);
      for (const record of day1) {
        const { formatVersion, archiveId, archivedAt, normalizedMessage, ...letter } = record;
        expect(letter).toEqual(asDead(before.get(record.id) as DeadLetter));
        expect([formatVersion, archivedAt, normalizedMessage]).toEqual([
          1,
          T + 16 * DAY + HOUR,
          'normalised g1',
        ]);
        expect(archiveId).toBe(day1[0]?.archiveId);
      }
      expect(files.get('orders/2026-03-02')?.map((r) => r.id)).toEqual([o3]);
      expect(files.get('orders/2026-03-03')?.map((r) => r.id)).toEqual([o4]);
      expect(files.get('emails/2026-03-01')?.map((r) => r.id)).toEqual([e1]);

      // Gone from the store; the rest stays.
      for (const id of [o1, o2, o3, o4, e1]) expect(await dl.store.deadLetterGet({ id })).toBeUndefined();
      for (const id of [o5, e2, l1]) expect(await dl.getDeadLetter(id)).toEqual(before.get(id));
      const orders = await statsOf('orders');
      expect([orders.dead, orders.archived, sentOf(orders)]).toEqual([1, 4, 5]);
      expect(orders.nextExpiryAt).toBe(T + 24 * DAY);
      expect([(await statsOf('emails')).archived, (await statsOf('ledger')).dead]).toEqual([1, 1]);
      expect(await dl.getGroup('g1')).toMatchObject({ count: 6, deadCount: 2 });
      expect(await dl.getGroup('g2')).toMatchObject({ count: 1, deadCount: 0 });

      // One audit entry per file (batches of 2: the first orders day is one batch).
      const audit = (await dl.listAudit({ action: 'retention.archive' })).items;
      expect(audit.map((entry) => [entry.actor, entry.details.file, entry.details.count])).toEqual([
        ['system', join(archiveDir, 'orders', '2026-03-03.jsonl.gz'), 1],
        ['system', join(archiveDir, 'orders', '2026-03-02.jsonl.gz'), 1],
        ['system', join(archiveDir, 'orders', '2026-03-01.jsonl.gz'), 2],
        ['system', join(archiveDir, 'emails', '2026-03-01.jsonl.gz'), 1],
      ]);
      expect(audit[2]?.details).toMatchObject({
        queue: 'orders',
        day: '2026-03-01',
        dead: 2,
        replayed: 0,
        firstId: o1,
        lastId: o2,
        archiveId: day1[0]?.archiveId,
      });

      // Nothing more has expired: a second sweep changes nothing.
      const again = await dl.sweepRetention();
      expect([again.dead, again.replayed]).toEqual([0, 0]);
      expect(await archiveContents()).toEqual(files);
    });

    it('adds to an existing day file without duplicating it or changing its archiveId', async () => {
      await dl.createQueue('orders', { retentionDays: 1 });
      const a = await killOne(dl.store, { queue: 'orders', diedAt: T + HOUR });
      const b = await killOne(dl.store, { queue: 'orders', diedAt: T + 20 * HOUR });
      clock.set(T + DAY + 2 * HOUR);
      await dl.sweepRetention();
      const first = (await archiveContents()).get('orders/2026-03-01') ?? [];
      expect(first.map((r) => r.id)).toEqual([a]);

      clock.set(T + 2 * DAY);
      const result = await dl.sweepRetention();
      expect(result.queues[0]?.files).toEqual([
        {
          day: '2026-03-01',
          file: join(archiveDir, 'orders', '2026-03-01.jsonl.gz'),
          dead: 1,
          replayed: 0,
          kept: 1,
          stale: 0,
        },
      ]);
      const second = (await archiveContents()).get('orders/2026-03-01') ?? [];
      expect(second.map((r) => r.id).sort()).toEqual([a, b].sort());
      expect(new Set(second.map((r) => r.archiveId))).toEqual(new Set([first[0]?.archiveId]));
      expect((await statsOf('orders')).archived).toBe(2);
    });

    it('counts what a dry run would archive and changes nothing', async () => {
      await dl.createQueue('orders', { retentionDays: 1 });
      const id = await killOne(dl.store, { queue: 'orders', diedAt: T });
      clock.set(T + 3 * DAY);
      const result = await dl.sweepRetention({ dryRun: true });
      expect(result).toMatchObject({ dryRun: true, dead: 1, replayed: 0 });
      expect(result.queues).toEqual([
        { queue: 'orders', retentionDays: 1, before: T + 2 * DAY, dead: 1, replayed: 0, files: [] },
      ]);
      expect(await dl.getDeadLetter(id)).toBeDefined();
      expect(await dl.listArchives()).toEqual([]);
      expect((await dl.listAudit({ action: 'retention.archive' })).items).toEqual([]);
    });

    it('archives replay history by the time of the replay, marked as replayed, in the file of its death day', async () => {
      await dl.createQueue('orders', { retentionDays: 5 });
      const id = await killOne(dl.store, { queue: 'orders', diedAt: T + HOUR });
      clock.set(T + 4 * DAY);
      const replay = await dl.replay({ ids: [id] }, { actor: 'alice' });
      expect(replay.job.status).toBe('completed');
      const replayedTo = (await dl.findReplayedDeadLetter(id))?.replayedTo;

      // Day 6: the dead letter died more than 5 days ago, but was replayed 2 days ago: kept.
      clock.set(T + 6 * DAY);
      expect((await dl.sweepRetention()).replayed).toBe(0);
      clock.set(T + 9 * DAY + 1);
      const result = await dl.sweepRetention();
      expect([result.dead, result.replayed]).toEqual([0, 1]);
      const [record] = (await archiveContents()).get('orders/2026-03-01') ?? [];
      expect(record).toMatchObject({
        id,
        state: 'replayed',
        replayedAt: T + 4 * DAY,
        replayedBy: 'alice',
        replayedTo,
        destination: 'orders',
      });
      expect(await dl.findReplayedDeadLetter(id)).toBeUndefined();
      // The replay history had no count of its own: the counters still add up.
      const stats = await statsOf('orders');
      expect([stats.replayed, stats.archived, stats.waiting, sentOf(stats)]).toEqual([1, 0, 1, 2]);
    });

    it('leaves out of the file, and in the store, a dead letter edited or discarded while the sweep wrote it', async () => {
      await dl.createQueue('orders', { retentionDays: 1 });
      const edited = await killOne(dl.store, { queue: 'orders', diedAt: T + HOUR, body: { n: 1 } });
      const discarded = await killOne(dl.store, { queue: 'orders', diedAt: T + 2 * HOUR });
      const kept = await killOne(dl.store, { queue: 'orders', diedAt: T + 3 * HOUR });
      clock.set(T + 3 * DAY);
      const sweeper = new RetentionSweeper({
        store: dl.store,
        clock,
        config: dl.retention.config,
        hooks: {
          afterTempWritten: async () => {
            await dl.editDeadLetter(edited, { n: 2 }, { actor: 'alice' });
            await dl.discard({ ids: [discarded] }, { reason: 'spam', actor: 'alice' });
          },
        },
      });
      const result = await sweeper.run();
      expect(result.queues[0]?.files[0]).toMatchObject({ dead: 1, stale: 2, kept: 0 });
      expect((await archiveContents()).get('orders/2026-03-01')?.map((r) => r.id)).toEqual([kept]);
      expect((await dl.getDeadLetter(edited)).body).toEqual({ n: 2 });

      // The next sweep archives the edited dead letter as it is now.
      await dl.sweepRetention();
      const records = (await archiveContents()).get('orders/2026-03-01') ?? [];
      expect(records.map((r) => r.id).sort()).toEqual([edited, kept].sort());
      expect(records.find((r) => r.id === edited)).toMatchObject({ body: { n: 2 }, originalBody: { n: 1 } });
      const stats = await statsOf('orders');
      expect([stats.dead, stats.archived, stats.discarded]).toEqual([0, 2, 1]);
    });

    it('does not touch a queue whose archive file it cannot read, and still sweeps the others', async () => {
      await dl.createQueue('orders', { retentionDays: 1 });
      await dl.createQueue('emails', { retentionDays: 1 });
      const id = await killOne(dl.store, { queue: 'orders', diedAt: T + HOUR });
      const other = await killOne(dl.store, { queue: 'emails', diedAt: T + HOUR });
      mkdirSync(join(archiveDir, 'orders'), { recursive: true });
      const corrupt = join(archiveDir, 'orders', '2026-03-01.jsonl.gz');
      writeFileSync(corrupt, gzipSync('{"id":"x"}\nnot json\n'));
      clock.set(T + 3 * DAY);
      const result = await dl.sweepRetention();
      expect(result.errors).toBe(1);
      const error = result.queues.find((q) => q.queue === 'orders')?.error ?? '';
      expect(
        error.startsWith(`archive file ${corrupt} is corrupt (line 1: not a Deadletter archive record`),
      ).toBe(true);
      expect(error.endsWith('move it away or repair it')).toBe(true);
      expect(await dl.getDeadLetter(id)).toBeDefined();
      expect(await dl.store.deadLetterGet({ id: other })).toBeUndefined();
      expect(readdirSync(join(archiveDir, 'orders'))).toEqual(['2026-03-01.jsonl.gz']);
    });

    it('never rewrites an archive file over a line it cannot read', async () => {
      await dl.createQueue('orders', { retentionDays: 1 });
      await killOne(dl.store, { queue: 'orders', diedAt: T + HOUR });
      const late = await killOne(dl.store, { queue: 'orders', diedAt: T + 20 * HOUR });
      clock.set(T + DAY + 2 * HOUR);
      await dl.sweepRetention();
      const file = join(archiveDir, 'orders', '2026-03-01.jsonl.gz');
      appendFileSync(file, gzipSync('garbage\n')); // a second gzip member: valid gzip, not a record
      const bytes = readFileSync(file);

      clock.set(T + 2 * DAY);
      const result = await dl.sweepRetention();
      expect(result.queues[0]?.error).toBe(
        `archive file ${file} is corrupt at line 2: move it away or repair it`,
      );
      expect(await dl.getDeadLetter(late)).toBeDefined();
      expect(readFileSync(file)).toEqual(bytes);
      expect(readdirSync(join(archiveDir, 'orders'))).toEqual(['2026-03-01.jsonl.gz']);
    });

    it('refuses to run while another sweep holds the leadership', async () => {
      await dl.createQueue('orders', { retentionDays: 1 });
      await killOne(dl.store, { queue: 'orders', diedAt: T });
      clock.set(T + 3 * DAY);
      await dl.store.leaderAttemptElect({
        name: RETENTION_LEADERSHIP,
        holder: 'elsewhere',
        ttlMs: 60_000,
        now: clock.now(),
      });
      await expect(dl.sweepRetention()).rejects.toBeInstanceOf(ConflictError);
      expect(await dl.listArchives()).toEqual([]);
      // Once that lease has run out (its process died), a sweep takes over.
      clock.advance(60_000);
      expect((await dl.sweepRetention()).dead).toBe(1);
    });

    it('runs as a maintenance service of the elected process', async () => {
      await dl.close();
      dl = await Deadletter.open({
        store: url,
        clock,
        archiveDir,
        maintenance: { tickMs: 10 },
      });
      await dl.createQueue('orders', { retentionDays: 1 });
      const id = await killOne(dl.store, { queue: 'orders', diedAt: T });
      clock.set(T + 3 * DAY);
      dl.startMaintenance();
      for (let i = 0; i < 500 && (await dl.store.deadLetterGet({ id })); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(await dl.store.deadLetterGet({ id })).toBeUndefined();
      expect((await dl.listArchives()).map((f) => [f.queue, f.day, f.records])).toEqual([
        ['orders', '2026-03-01', 1],
      ]);
    });

    it('validates its options before opening a store', async () => {
      await expect(
        Deadletter.open({ store: 'sqlite::memory:', retention: { batchSize: 0 } }),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(
        Deadletter.open({ store: 'sqlite::memory:', retention: { interval: '10ms' } }),
      ).rejects.toThrow(/interval/);
      await expect(Deadletter.open({ store: 'sqlite::memory:', archiveDir: ' ' })).rejects.toBeInstanceOf(
        ValidationError,
      );
    });
  });

  describe('archive import', () => {
    it('brings archived dead letters back as they were; a second import skips them all', async () => {
      await dl.createQueue('orders', { retentionDays: 1 });
      const ids = [
        await killOne(dl.store, { queue: 'orders', diedAt: T + HOUR, groupId: 'g1' }),
        await killOne(dl.store, { queue: 'orders', diedAt: T + 2 * HOUR, groupId: 'g2' }),
        await killOne(dl.store, { queue: 'orders', diedAt: T + 3 * HOUR, groupId: 'g1' }),
      ];
      const before = await Promise.all(ids.map((id) => dl.getDeadLetter(id)));
      const groupsBefore = await dl.listGroups();
      clock.set(T + 3 * DAY);
      await dl.sweepRetention();
      expect((await statsOf('orders')).archived).toBe(3);

      // Keep them this time, then import the day's file by its name in the archive directory.
      await dl.updateQueue('orders', { retentionDays: 30 });
      const progress: number[] = [];
      const result = await dl.importArchive('orders/2026-03-01', {
        actor: 'alice',
        onProgress: (done) => progress.push(done),
      });
      expect(result).toMatchObject({
        file: join(archiveDir, 'orders', '2026-03-01.jsonl.gz'),
        dryRun: false,
        records: 3,
        queues: ['orders'],
        restored: 3,
        added: 0,
        history: 0,
        skipped: { dead: 0, replayed: 0, discarded: 0, message: 0 },
      });
      expect(progress).toEqual([3]);
      expect(await Promise.all(ids.map((id) => dl.getDeadLetter(id)))).toEqual(before);
      expect(await dl.listGroups()).toEqual(groupsBefore);
      const stats = await statsOf('orders');
      expect([stats.dead, stats.archived, sentOf(stats)]).toEqual([3, 0, 3]);
      const [entry] = (await dl.listAudit({ action: 'archive.import' })).items;
      expect(entry).toMatchObject({ actor: 'alice', details: { count: 3, restored: 3, ids } });

      const again = await dl.importArchive(join(archiveDir, 'orders', '2026-03-01.jsonl.gz'));
      expect(again).toMatchObject({ restored: 0, added: 0, skipped: { dead: 3 } });
      expect(again.skippedSample.map((s) => s.id)).toEqual(ids);
      expect([(await statsOf('orders')).dead, (await statsOf('orders')).archived]).toEqual([3, 0]);
    });

    it("adds another deployment's archive as new dead letters and dry-runs without changes", async () => {
      await dl.createQueue('orders', { retentionDays: 1 });
      await killOne(dl.store, { queue: 'orders', diedAt: T + HOUR, groupId: 'g1' });
      clock.set(T + 3 * DAY);
      await dl.sweepRetention();
      const [info] = await dl.listArchives();
      if (!info) throw new Error('expected an archive file');

      // A second deployment with a queue of the same name.
      const other = await Deadletter.open({
        store: newStore(tmp.dir, 'other'),
        clock,
        maintenance: false,
      });
      try {
        await other.createQueue('orders');
        const dry = await other.importArchive(info.path, { dryRun: true });
        expect(dry).toMatchObject({ dryRun: true, records: 1, restored: 0, added: 1 });
        expect((await other.stats())[0]?.dead).toBe(0);
        const result = await other.importArchive(info.path);
        expect(result).toMatchObject({ restored: 0, added: 1 });
        const stats = (await other.stats())[0];
        expect([stats?.dead, stats?.archived, stats ? sentOf(stats) : -1]).toEqual([1, 0, 1]);
        expect(await other.getGroup('g1')).toMatchObject({ count: 1, deadCount: 1, status: 'new' });
      } finally {
        await other.close();
      }
    });

    it('imports nothing from a file with a corrupt line, and names the line', async () => {
      await dl.createQueue('orders', { retentionDays: 1 });
      await killOne(dl.store, { queue: 'orders', diedAt: T + HOUR });
      await killOne(dl.store, { queue: 'orders', diedAt: T + 2 * HOUR });
      clock.set(T + 3 * DAY);
      await dl.sweepRetention();
      const [info] = await dl.listArchives();
      if (!info) throw new Error('expected an archive file');
      const lines: string[] = [];
      for await (const { line: _line, ...record } of dl.readArchive(info.path))
        lines.push(JSON.stringify(record));
      const broken = join(tmp.dir, 'broken.jsonl.gz');
      writeFileSync(broken, gzipSync(`${lines[0]}\n{"id": "truncated"\n${lines[1]}\n`));
      await expect(dl.importArchive(broken)).rejects.toThrow(/line 2: not JSON/);
      expect((await statsOf('orders')).dead).toBe(0);

      const missingQueue = join(tmp.dir, 'other-queue.jsonl.gz');
      writeFileSync(missingQueue, gzipSync(`${lines[0]?.replace('"queue":"orders"', '"queue":"nope"')}\n`));
      await expect(dl.importArchive(missingQueue)).rejects.toThrow(/queue "nope", which does not exist/);
      expect((await statsOf('orders')).dead).toBe(0);
    });
  });
});
