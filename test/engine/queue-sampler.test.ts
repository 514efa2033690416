import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { PermanentError } from '../../src/core/errors.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { queueSamplerService, sampleQueues } from '../../src/engine/queue-sampler.ts';
import type { AttemptObservation } from '../../src/engine/worker.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/store.ts';
import { tempDir } from '../support/temp-dir.ts';

const MINUTE = 60_000;
let tmp: ReturnType<typeof tempDir>;
let store: Store;
let dl: Deadletter;

beforeEach(async () => {
  tmp = tempDir();
  store = await openStore(`sqlite:${join(tmp.dir, 'dl.db')}`, { migrate: true });
  dl = await Deadletter.open({ store, maintenance: false });
  await dl.createQueue('orders', { maxReceives: 1 });
  await dl.createQueue('idle');
});
afterEach(async () => {
  await dl.close();
  await store.close();
  tmp.remove();
});

/** Sends `n` messages to `orders` and dead-letters them all (through `handle`, default `dl`). */
async function kill(n: number, handle: Deadletter = dl): Promise<void> {
  await handle.sendBatch(
    'orders',
    Array.from({ length: n }, (_, i) => ({ body: { i } })),
  );
  const worker = await handle.work(
    'orders',
    () => {
      throw new PermanentError('no');
    },
    { drain: true },
  );
  await worker.stopped;
}

describe('the queue sampler', () => {
  it('records each DLQ’s depth and the dead letters that arrived since the previous sample, per minute', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 10, 0, 30));
    await sampleQueues({ store, clock });
    await kill(3);
    clock.advance(MINUTE);
    await sampleQueues({ store, clock });
    await kill(2);
    clock.advance(MINUTE);
    const third = await sampleQueues({ store, clock });
    expect(third.samples.find((s) => s.queue === 'orders')).toMatchObject({
      depth: 5,
      inflow: 2,
      deadTotal: 5,
    });
    const samples = await store.queueSampleList({ queue: 'orders' });
    expect(samples.map(({ at, depth, inflow }) => ({ at, depth, inflow }))).toEqual([
      { at: Date.UTC(2026, 10, 25, 10, 0), depth: 0, inflow: 0 },
      { at: Date.UTC(2026, 10, 25, 10, 1), depth: 3, inflow: 3 },
      { at: Date.UTC(2026, 10, 25, 10, 2), depth: 5, inflow: 2 },
    ]);
    expect((await store.queueSampleList({ queue: 'idle' })).map((s) => s.depth)).toEqual([0, 0, 0]);
  });

  it('counts dead letters that left the DLQ (discarded) in the inflow, not against it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 10, 0, 0));
    await sampleQueues({ store, clock });
    await kill(4);
    await dl.discard({ queue: 'orders' }, { reason: 'test', actor: 'test' });
    clock.advance(MINUTE);
    const { samples } = await sampleQueues({ store, clock });
    expect(samples.find((s) => s.queue === 'orders')).toMatchObject({ depth: 0, inflow: 4 });
  });

  it('gives no inflow after a gap of more than 10 minutes, keeps the first sample of a minute, and keeps 30 days', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 1, 0, 0, 0));
    await sampleQueues({ store, clock });
    await kill(2);
    clock.advance(11 * MINUTE);
    const afterGap = await sampleQueues({ store, clock });
    expect(afterGap.samples.find((s) => s.queue === 'orders')).toMatchObject({ depth: 2, inflow: 0 });
    await kill(1);
    clock.advance(10_000);
    await sampleQueues({ store, clock });
    const sameMinute = await store.queueSampleList({ queue: 'orders', since: Date.UTC(2026, 10, 1, 0, 11) });
    expect(sameMinute.map((s) => s.depth)).toEqual([2]);
    clock.advance(30 * 86_400_000);
    const later = await sampleQueues({ store, clock });
    expect(later.deleted).toBe(4);
    expect((await store.queueSampleList({ queue: 'orders' })).map((s) => s.at)).toEqual([
      later.samples[0]?.at,
    ]);
  });

  it('counts, in a first sample (or the first after a gap), what died in the minute before it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 10, 0, 0));
    // Deaths at the manual clock's times: a handle of its own on the same store.
    const timed = await Deadletter.open({ store, clock, maintenance: false });
    await kill(2, timed);
    clock.advance(90_000);
    await kill(3, timed);
    clock.advance(30_000);
    // Sampled at 10:02:00 (minute 10:02): the 3 deaths at 10:01:30 are in the minute before it,
    // the 2 at 10:00:00 are not.
    const first = await sampleQueues({ store, clock });
    expect(first.samples.find((s) => s.queue === 'orders')).toMatchObject({ depth: 5, inflow: 3 });
    await timed.close();
  });

  it('is a maintenance service that runs once a minute', () => {
    const service = queueSamplerService({ store, clock: new ManualClock() });
    expect(service).toMatchObject({ name: 'queue sampler', intervalMs: MINUTE });
  });
});

describe('the onAttempt observer', () => {
  it('sees every handler run with its queue, duration and outcome; one that throws does not stop the worker', async () => {
    const seen: AttemptObservation[] = [];
    const errors: unknown[] = [];
    const observed = await Deadletter.open({
      store,
      maintenance: false,
      onAttempt: (attempt) => {
        seen.push(attempt);
        if (seen.length === 1) throw new Error('observer bug');
      },
    });
    try {
      await observed.sendBatch('orders', [
        { body: { ok: true } },
        { body: { ok: false } },
        { body: { ok: true } },
      ]);
      const worker = await observed.work<{ ok: boolean }>(
        'orders',
        (message) => {
          if (!message.body.ok) throw new PermanentError('bad');
        },
        { drain: true, onError: (error) => errors.push(error) },
      );
      await worker.stopped;
      expect(seen.map((s) => s.outcome).sort()).toEqual(['dead', 'done', 'done']);
      expect(seen.every((s) => s.queue === 'orders' && s.durationMs >= 0)).toBe(true);
      expect(errors).toEqual([new Error('observer bug')]);
      expect(worker.counters).toMatchObject({ completed: 2, deadLettered: 1 });
    } finally {
      await observed.close();
    }
  });
});
