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
  clock = new ManualClock(T);
  dl = await Deadletter.open({ store: `sqlite:${join(tmp.dir, 'dl.db')}`, clock, maintenance: false });
});

afterEach(async () => {
  await dl.close();
  tmp.remove();
});

describe('audit of queue and group changes', () => {
  it('records queue create and update and group status, by the call actor or the handle default', async () => {
    await dl.createQueue('orders', { retention: '14d' });
    clock.advance(1_000);
    await dl.updateQueue('orders', { retention: '3d', maxReceives: 2 }, { actor: 'ada' });
    await killOne(dl.store, { queue: 'orders', diedAt: T + 2_000, groupId: 'g1' });
    clock.advance(5_000);
    await dl.setGroupStatus('g1', 'acknowledged', { actor: 'bob' });

    const { items, nextCursor } = await dl.listAudit();
    expect(nextCursor).toBeNull();
    expect(items.map((e) => [e.action, e.actor, e.targetId, e.at])).toEqual([
      ['group.status', 'bob', 'g1', T + 6_000],
      ['queue.update', 'ada', 'orders', T + 1_000],
      ['queue.create', 'library', 'orders', T],
    ]);
    expect(items[1]?.details).toEqual({
      from: { maxReceives: 5, retentionDays: 14 },
      to: { maxReceives: 2, retentionDays: 3 },
    });
  });

  it('filters and pages the audit log', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      await dl.createQueue(name, {}, { actor: name === 'c' ? 'carol' : 'ada' });
      clock.advance(10);
    }
    const first = await dl.listAudit({ limit: 2 });
    expect(first.items.map((e) => e.targetId)).toEqual(['e', 'd']);
    const second = await dl.listAudit({ limit: 2, cursor: first.nextCursor as string });
    expect(second.items.map((e) => e.targetId)).toEqual(['c', 'b']);
    const third = await dl.listAudit({ limit: 2, cursor: second.nextCursor as string });
    expect(third).toMatchObject({ nextCursor: null });
    expect(third.items.map((e) => e.targetId)).toEqual(['a']);
    expect((await dl.listAudit({ actor: 'carol' })).items.map((e) => e.targetId)).toEqual(['c']);
    expect((await dl.listAudit({ targetId: 'b' })).items).toHaveLength(1);
    expect((await dl.listAudit({ since: T + 20, until: T + 40 })).items.map((e) => e.targetId)).toEqual([
      'd',
      'c',
    ]);
    await expect(dl.listAudit({ action: 'nope' as never })).rejects.toBeInstanceOf(ValidationError);
    await expect(dl.listAudit({ cursor: 'x' })).rejects.toThrow(/invalid cursor/);
    await expect(dl.listAudit({ limit: 0 })).rejects.toThrow(/invalid limit/);
  });
});

describe('editDeadLetter', () => {
  it('replaces the body, keeps the original and the history, and says what changed', async () => {
    await dl.createQueue('orders');
    const id = await killOne(dl.store, {
      queue: 'orders',
      diedAt: T,
      body: { amount: '12,50', currency: 'EUR' },
    });
    clock.advance(1_000);
    const result = await dl.editDeadLetter(id, { amount: 1250, currency: 'EUR' }, { actor: 'ada' });
    expect(result.changes).toEqual([{ path: 'amount', kind: 'changed', before: '12,50', after: 1250 }]);
    expect(result.previousBody).toEqual({ amount: '12,50', currency: 'EUR' });
    const letter = await dl.getDeadLetter(id);
    expect(letter.body).toEqual({ amount: 1250, currency: 'EUR' });
    expect(letter.originalBody).toEqual({ amount: '12,50', currency: 'EUR' });
    expect(letter.edits).toEqual([{ at: T + 1_000, actor: 'ada', body: { amount: 1250, currency: 'EUR' } }]);

    const same = await dl.editDeadLetter(id, { currency: 'EUR', amount: 1250 });
    expect(same.changes).toEqual([]);
    expect((await dl.getDeadLetter(id)).edits).toHaveLength(1);
    expect((await dl.listAudit({ action: 'dead_letter.edit' })).items).toHaveLength(1);
  });

  it('refuses an unknown id, a discarded one (saying so) and a body that is too large', async () => {
    await dl.close();
    dl = await Deadletter.open({
      store: `sqlite:${join(tmp.dir, 'dl.db')}`,
      clock,
      maintenance: false,
      maxBodyBytes: 100,
    });
    await dl.createQueue('orders');
    const id = await killOne(dl.store, { queue: 'orders', diedAt: T });
    await expect(dl.editDeadLetter('nope', {})).rejects.toBeInstanceOf(NotFoundError);
    await expect(dl.editDeadLetter(id, { big: 'x'.repeat(200) })).rejects.toThrow(/the limit is 100/);
    await dl.discard({ ids: [id] }, { reason: 'junk', actor: 'eve' });
    await expect(dl.editDeadLetter(id, { a: 1 })).rejects.toThrow(/was discarded by eve at .*: junk/);
  });
});

describe('queue documentation', () => {
  it('reads empty documentation, sets fields partially, and clears them', async () => {
    await dl.createQueue('orders');
    expect(await dl.getQueueDocs('orders')).toMatchObject({ queue: 'orders', owner: null, runbook: null });
    await dl.setQueueDocs(
      'orders',
      { owner: '  payments team ', runbook: '# Runbook\n\nStep 1\n' },
      { actor: 'ada' },
    );
    clock.advance(10);
    const docs = await dl.setQueueDocs('orders', { contact: '#payments', owner: '' });
    expect(docs).toEqual({
      queue: 'orders',
      owner: null,
      contact: '#payments',
      source: null,
      purpose: null,
      failureMeaning: null,
      runbook: '# Runbook\n\nStep 1',
      updatedAt: T + 10,
      updatedBy: 'library',
    });
    expect((await dl.listAudit({ action: 'queue.docs' })).items.map((e) => e.actor)).toEqual([
      'library',
      'ada',
    ]);
  });

  it('refuses an unknown queue, an unknown field and an empty change', async () => {
    await dl.createQueue('orders');
    await expect(dl.getQueueDocs('nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(dl.setQueueDocs('nope', { owner: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(dl.setQueueDocs('orders', { team: 'x' } as never)).rejects.toBeInstanceOf(ValidationError);
    await expect(dl.setQueueDocs('orders', {})).rejects.toThrow(/nothing to set/);
    await expect(dl.setQueueDocs('orders', { owner: 'x'.repeat(1001) })).rejects.toThrow(/owner/);
  });
});
