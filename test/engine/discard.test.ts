import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { NotFoundError, ValidationError } from '../../src/core/errors.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { killOne } from '../../src/store/conformance/fixtures.ts';
import { tempDir } from '../support/temp-dir.ts';

const T = Date.UTC(2026, 2, 1);
let tmp: ReturnType<typeof tempDir>;
let dl: Deadletter;
let clock: ManualClock;

beforeEach(async () => {
  tmp = tempDir();
  clock = new ManualClock(T + 60_000);
  dl = await Deadletter.open({
    store: `sqlite:${join(tmp.dir, 'dl.db')}`,
    clock,
    maintenance: false,
    actor: 'ops-bot',
  });
  await dl.createQueue('orders');
  await dl.createQueue('emails');
});

afterEach(async () => {
  await dl.close();
  tmp.remove();
});

let deaths = 0;

/** Kills `n` dead letters in `queue`, each a millisecond after the previous one. */
async function kill(n: number, spec: { queue: string; groupId?: string; tier?: 'malformed' }) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    deaths += 1;
    ids.push(
      await killOne(dl.store, {
        queue: spec.queue,
        diedAt: T + deaths,
        ...(spec.groupId !== undefined && { groupId: spec.groupId }),
        ...(spec.tier !== undefined && { tier: spec.tier }),
        body: { n: i, customer: { country: i % 2 === 0 ? 'DE' : 'FR' } },
      }),
    );
  }
  return ids;
}

describe('discard', () => {
  it('answers a dry run with counts per queue, group and tier, and samples, changing nothing', async () => {
    await kill(3, { queue: 'orders', groupId: 'g1' });
    await kill(2, { queue: 'orders', groupId: 'g22', tier: 'malformed' });
    await kill(1, { queue: 'emails', groupId: 'g1' });
    const plan = await dl.discard({ queue: 'orders' }, { dryRun: true });
    expect(plan).toMatchObject({
      dryRun: true,
      reason: null,
      matched: 5,
      discarded: 0,
      byQueue: [{ queue: 'orders', count: 5 }],
      byGroup: [
        { groupId: 'g1', count: 3 },
        { groupId: 'g22', count: 2 },
      ],
      byTier: [
        { tier: 'permanent', count: 3 },
        { tier: 'malformed', count: 2 },
      ],
      resolvedGroup: null,
    });
    expect(plan.samples).toHaveLength(5);
    expect((await dl.stats()).find((s) => s.queue === 'orders')?.dead).toBe(5);
    expect((await dl.listAudit()).items.filter((e) => e.action === 'discard')).toEqual([]);
  });

  it('discards by filter in batches, one audit entry per batch, with the handle actor', async () => {
    const ids = await kill(7, { queue: 'orders' });
    await kill(2, { queue: 'emails' });
    const progress: [number, number][] = [];
    const report = await dl.discard(
      { queue: 'orders', where: [{ path: ['customer', 'country'], value: 'DE' }] },
      { reason: 'test orders from DE', batchSize: 2, onProgress: (p) => progress.push([p.done, p.total]) },
    );
    const de = ids.filter((_, i) => i % 2 === 0);
    expect(report).toMatchObject({ dryRun: false, matched: 4, discarded: 4, skipped: 0 });
    expect(progress).toEqual([
      [2, 4],
      [4, 4],
    ]);
    for (const id of de) {
      expect(await dl.getTombstone(id)).toMatchObject({
        id,
        reason: 'test orders from DE',
        actor: 'ops-bot',
      });
      await expect(dl.getDeadLetter(id)).rejects.toBeInstanceOf(NotFoundError);
    }
    const entries = (await dl.listAudit({ action: 'discard' })).items;
    expect(entries).toHaveLength(2);
    expect(entries.flatMap((e) => e.details.ids as string[]).sort()).toEqual([...de].sort());
    const orders = (await dl.stats()).find((s) => s.queue === 'orders');
    expect({ dead: orders?.dead, discarded: orders?.discarded }).toEqual({ dead: 3, discarded: 4 });
  });

  it('resolves a group discarded whole, with its own audit entry; a narrower selection does not', async () => {
    await kill(3, { queue: 'orders', groupId: 'g1' });
    await kill(2, { queue: 'orders', groupId: 'g2' });
    const dry = await dl.discard({ groupId: 'g1' }, { dryRun: true });
    expect(dry.resolvedGroup).toBe('g1');
    const report = await dl.discard({ groupId: 'g1' }, { reason: 'fixed upstream', actor: 'ada' });
    expect(report).toMatchObject({ discarded: 3, resolvedGroup: 'g1' });
    expect(await dl.getGroup('g1')).toMatchObject({ status: 'resolved', deadCount: 0 });
    expect((await dl.listAudit({ action: 'group.status' })).items[0]).toMatchObject({
      actor: 'ada',
      targetId: 'g1',
      details: { from: 'new', to: 'resolved' },
    });

    const narrower = await dl.discard({ groupId: 'g2', queue: 'orders' }, { reason: 'r' });
    expect(narrower.resolvedGroup).toBeNull();
    expect((await dl.getGroup('g2')).status).toBe('new');
  });

  it('refuses bad input and changes nothing', async () => {
    const [a] = await kill(2, { queue: 'orders', groupId: 'g1' });
    const before = await dl.stats();
    await expect(dl.discard({ queue: 'orders' }, {})).rejects.toThrow(/needs a reason/);
    await expect(dl.discard({ queue: 'orders' }, { reason: '   ' })).rejects.toBeInstanceOf(ValidationError);
    await expect(dl.discard({}, { reason: 'all' })).rejects.toThrow(/select the dead letters first/);
    await expect(dl.discard({ groupId: 'nope' }, { reason: 'r' })).rejects.toThrow(/unknown group "nope"/);
    await expect(dl.discard({ queue: 'nope' }, { reason: 'r' })).rejects.toThrow(/unknown queue "nope"/);
    await expect(dl.discard({ ids: [a as string, 'x1', 'x2'] }, { reason: 'r' })).rejects.toThrow(
      /2 dead letters are not in the DLQ: x1, x2; nothing was changed/,
    );
    await expect(dl.discard({ queue: 'emails' }, { reason: 'r' })).rejects.toThrow(/no dead letter matches/);
    await expect(dl.discard({ queue: 'orders' }, { reason: 'r', batchSize: 0 })).rejects.toThrow(
      /batch size/,
    );
    expect(await dl.stats()).toEqual(before);
    expect(await dl.store.tombstoneGet({ id: a as string })).toBeUndefined();
  });

  it('says who discarded an id already discarded, when and why', async () => {
    const [a] = await kill(1, { queue: 'orders' });
    await dl.discard({ ids: [a as string] }, { reason: 'duplicate', actor: 'ada' });
    await expect(dl.discard({ ids: [a as string] }, { reason: 'again' })).rejects.toThrow(
      new RegExp(`${a} \\(discarded by ada at 2026-03-01T00:01:00Z: duplicate\\)`),
    );
  });
});
