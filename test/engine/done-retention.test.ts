import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { NotFoundError } from '../../src/core/errors.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { doneRetentionService } from '../../src/engine/done-retention.ts';
import { MaintenanceRunner } from '../../src/engine/maintenance.ts';
import { tempDir } from '../support/temp-dir.ts';

const MINUTE = 60_000;

let tmp: ReturnType<typeof tempDir>;
let clock: ManualClock;
let dl: Deadletter;

beforeEach(async () => {
  tmp = tempDir();
  clock = new ManualClock(Date.UTC(2026, 10, 25, 8, 0, 0));
  dl = await Deadletter.open({ store: `sqlite:${join(tmp.dir, 'done.db')}`, clock, maintenance: false });
});

afterEach(async () => {
  await dl.close();
  tmp.remove();
});

/** Sends `count` messages to `queue` and lets a worker handle them all successfully. */
async function succeed(queue: string, count: number): Promise<string[]> {
  const sent = await dl.sendBatch(
    queue,
    Array.from({ length: count }, (_, n) => ({ body: { n } })),
  );
  const worker = await dl.work(queue, () => {}, { drain: true, pollInterval: 5, concurrency: 10 });
  await worker.stopped;
  return sent.map((m) => m.id);
}

async function statsOf(queue: string) {
  const row = (await dl.stats()).find((s) => s.queue === queue);
  if (!row) throw new Error(`no stats for ${queue}`);
  return row;
}

/** Every message the queue accepted: each is in exactly one state. */
function sentOf(s: Awaited<ReturnType<typeof statsOf>>): number {
  return (
    s.waiting + s.delayed + s.leased + s.done + s.dead + s.dropped + s.replayed + s.discarded + s.archived
  );
}

async function present(ids: string[]): Promise<number> {
  let n = 0;
  for (const id of ids) {
    if (await dl.store.messageGet({ id })) n += 1;
  }
  return n;
}

describe('done retention', () => {
  it('keeps done messages for the default hour, then the maintenance sweep deletes them; done still counts them', async () => {
    const queue = await dl.createQueue('orders');
    expect(queue.doneRetentionMs).toBe(60 * MINUTE);
    const ids = await succeed('orders', 12);
    await dl.send('orders', { n: 'later' });
    const runner = dl.startMaintenance();

    clock.advance(59 * MINUTE);
    await runner.tick();
    expect(await present(ids)).toBe(12);

    clock.advance(MINUTE);
    await runner.tick();
    expect(await present(ids)).toBe(0);
    const stats = await statsOf('orders');
    expect(stats).toMatchObject({ waiting: 1, done: 12 });
    expect(sentOf(stats)).toBe(13);
    const error = await dl.getMessage(ids[0] as string).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toMatch(/succeeded and was pruned after its queue's done retention/);
  });

  it('follows each queue its own retention, 0 deleting at once, and a change of it', async () => {
    await dl.createQueue('eager', { doneRetention: 0 });
    await dl.createQueue('slow', { doneRetention: '2h' });
    const eager = await succeed('eager', 5);
    const slow = await succeed('slow', 5);
    // Done retention 0: gone when acked, before any sweep.
    expect(await present(eager)).toBe(0);
    const runner = new MaintenanceRunner(dl.store, clock, [doneRetentionService({ store: dl.store, clock })]);
    await runner.tick();
    expect([await present(eager), await present(slow)]).toEqual([0, 5]);

    clock.advance(61 * MINUTE);
    await runner.tick();
    expect(await present(slow)).toBe(5);
    await dl.updateQueue('slow', { doneRetention: '1h' }, { actor: 'ada' });
    clock.advance(10_000);
    await runner.tick();
    expect(await present(slow)).toBe(0);
    expect((await statsOf('eager')).done).toBe(5);
    expect((await statsOf('slow')).done).toBe(5);
    await runner.stop();
    const [change] = (await dl.store.auditList({ action: 'queue.update', limit: 1 })) ?? [];
    expect(change?.details).toEqual({
      from: { doneRetentionMs: 7_200_000 },
      to: { doneRetentionMs: 3_600_000 },
    });
  });

  it('deletes in batches, at most maxBatches per run, and the next run goes on', async () => {
    await dl.createQueue('orders', { doneRetention: '1s' });
    const ids = await succeed('orders', 10);
    clock.advance(1_000);
    const first = await dl.pruneDoneMessages({ batchSize: 3, maxBatches: 2 });
    expect(first).toEqual({ deleted: 6, byQueue: [{ queue: 'orders', deleted: 6 }], more: true });
    expect(await present(ids)).toBe(4);
    const second = await dl.pruneDoneMessages({ batchSize: 3, maxBatches: 2 });
    expect(second).toEqual({ deleted: 4, byQueue: [{ queue: 'orders', deleted: 4 }], more: false });
    expect(await dl.pruneDoneMessages({ batchSize: 3 })).toEqual({ deleted: 0, byQueue: [], more: false });
    expect((await statsOf('orders')).done).toBe(10);
  });

  it('never deletes waiting or leased messages', async () => {
    await dl.createQueue('orders', { doneRetention: 0 });
    const sent = await dl.sendBatch('orders', [{ body: 1 }, { body: 2 }]);
    const claimed = await dl.store.messageClaim({
      queue: 'orders',
      limit: 1,
      now: clock.now(),
      leaseMs: 30_000,
      worker: { workerId: 'w', workerVersion: '1', host: 'h' },
    });
    clock.advance(24 * 60 * MINUTE);
    expect((await dl.pruneDoneMessages()).deleted).toBe(0);
    expect((await dl.getMessage(claimed[0]?.id ?? '')).state).toBe('leased');
    expect(await present(sent.map((m) => m.id))).toBe(2);
    expect((await statsOf('orders')).waiting).toBe(1);
  });
});
