import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import {
  ConflictError,
  MalformedError,
  NotFoundError,
  PermanentError,
  TransientError,
  ValidationError,
} from '../../src/core/errors.ts';
import type { ClaimedMessage } from '../../src/core/message.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import type { Worker } from '../../src/engine/worker.ts';
import { openStore } from '../../src/store/open.ts';
import { tempDir } from '../support/temp-dir.ts';

let tmp: ReturnType<typeof tempDir>;
let dl: Deadletter;
let clock: ManualClock;

function econnreset(): Error {
  return Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
}

/** Waits (real time, bounded) until `check` passes; the worker loop runs on real timers. */
async function until(check: () => Promise<boolean> | boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function statsOf(queue: string) {
  const row = (await dl.stats()).find((s) => s.queue === queue);
  if (!row) throw new Error(`no stats for ${queue}`);
  return row;
}

beforeEach(async () => {
  tmp = tempDir();
  clock = new ManualClock(Date.UTC(2026, 10, 25, 8, 0, 0));
  // The tests sweep expired leases themselves, at chosen moments of the manual clock.
  dl = await Deadletter.open({ store: `sqlite:${join(tmp.dir, 'dl.db')}`, clock, maintenance: false });
});

afterEach(async () => {
  await dl.close();
  tmp.remove();
});

describe('worker pipeline', () => {
  it('processes every message once and marks it done', async () => {
    await dl.createQueue('q');
    const seen: number[] = [];
    await dl.sendBatch(
      'q',
      Array.from({ length: 250 }, (_, i) => ({ body: { i } })),
    );
    const worker = await dl.work<{ i: number }>('q', (m) => void seen.push(m.body.i), {
      concurrency: 8,
      batchSize: 16,
      drain: true,
    });
    await worker.stopped;
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(await statsOf('q')).toMatchObject({ waiting: 0, delayed: 0, leased: 0, done: 250, dead: 0 });
    expect(worker.counters.completed).toBe(250);
  });

  it('retries a transient failure with the backoff and succeeds', async () => {
    await dl.createQueue('q', { backoff: 'fixed:10s' });
    const { id } = await dl.send('q', { n: 1 });
    let calls = 0;
    const worker = await dl.work('q', () => {
      calls++;
      if (calls < 3) throw econnreset();
    });
    await until(async () => (await statsOf('q')).delayed === 1, 'first retry');
    // Not visible before the backoff has passed.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls).toBe(1);
    clock.advance(10_000);
    await until(async () => (await statsOf('q')).delayed === 1 && calls === 2, 'second retry');
    clock.advance(10_000);
    await until(async () => (await statsOf('q')).done === 1, 'done');
    await worker.stop();
    const message = await dl.getMessage(id);
    expect(message.state).toBe('done');
    expect(message.receives).toBe(3);
    expect(message.attempts.map((a) => a.error.code)).toEqual(['ECONNRESET', 'ECONNRESET']);
  });

  it('dead-letters after maxReceives with every attempt, worker identity and the group', async () => {
    await dl.createQueue('q', { maxReceives: 3, backoff: 'fixed:0' });
    const { id } = await dl.send(
      'q',
      { order: 42 },
      { headers: { 'x-trace': 't1' }, idempotencyKey: 'order-42' },
    );
    const worker = await dl.work(
      'q',
      () => {
        throw econnreset();
      },
      { workerId: 'w-1', workerVersion: '1.2.3' },
    );
    await until(async () => (await statsOf('q')).dead === 1, 'dead letter');
    await worker.stop();
    const dead = await dl.getDeadLetter(id);
    expect(dead).toMatchObject({
      id,
      queue: 'q',
      body: { order: 42 },
      headers: { 'x-trace': 't1' },
      idempotencyKey: 'order-42',
      tier: 'transient',
      error: { name: 'Error', message: 'read ECONNRESET', code: 'ECONNRESET' },
    });
    expect(dead.attempts.map((a) => a.number)).toEqual([1, 2, 3]);
    for (const attempt of dead.attempts) {
      expect(attempt).toMatchObject({
        workerId: 'w-1',
        workerVersion: '1.2.3',
        error: { code: 'ECONNRESET' },
      });
      expect(attempt.host.length).toBeGreaterThan(0);
      expect(attempt.error.stack).toContain('ECONNRESET');
    }
    const group = await dl.getGroup(dead.groupId);
    expect(group).toMatchObject({ count: 1, deadCount: 1, tier: 'transient', status: 'new', queues: ['q'] });
    expect(await statsOf('q')).toMatchObject({ done: 0, dead: 1, waiting: 0, leased: 0 });
  });

  it.each([
    ['PermanentError', () => new PermanentError('card declined'), 'permanent'],
    ['MalformedError', () => new MalformedError('missing field "email"'), 'malformed'],
    ['JSON SyntaxError', () => new SyntaxError('Unexpected end of JSON input'), 'malformed'],
  ] as const)('%s goes to the DLQ on the first receive', async (_name, make, tier) => {
    await dl.createQueue('q', { maxReceives: 5, backoff: 'fixed:0' });
    const { id } = await dl.send('q', {});
    const worker = await dl.work('q', () => {
      throw make();
    });
    await until(async () => (await statsOf('q')).dead === 1, 'dead letter');
    await worker.stop();
    const dead = await dl.getDeadLetter(id);
    expect(dead.tier).toBe(tier);
    expect(dead.attempts).toHaveLength(1);
  });

  it('TransientError retries until maxReceives', async () => {
    await dl.createQueue('q', { maxReceives: 4, backoff: 'fixed:0' });
    const { id } = await dl.send('q', {});
    const worker = await dl.work('q', () => {
      throw new TransientError('upstream busy');
    });
    await until(async () => (await statsOf('q')).dead === 1, 'dead letter');
    await worker.stop();
    expect((await dl.getDeadLetter(id)).attempts).toHaveLength(4);
  });

  it('drops (and counts) failures of a queue whose DLQ is turned off', async () => {
    await dl.createQueue('q', { deadLetter: false, maxReceives: 2, backoff: 'fixed:0' });
    await dl.sendBatch('q', [{ body: 1 }, { body: 2 }]);
    const worker = await dl.work('q', () => {
      throw new Error('nope');
    });
    await until(async () => (await statsOf('q')).dropped === 2, 'drops');
    await worker.stop();
    expect(await statsOf('q')).toMatchObject({ dead: 0, dropped: 2, waiting: 0, leased: 0 });
    expect((await dl.listDeadLetters({ queue: 'q' })).items).toHaveLength(0);
  });

  it('user classifier and fingerprint rules per queue change tier and grouping', async () => {
    await dl.close();
    dl = await Deadletter.open({
      store: `sqlite:${join(tmp.dir, 'dl.db')}`,
      clock,
      maintenance: false,
      queues: {
        q: {
          classifierRules: [
            { name: 'quota', tier: 'resource', retryable: false, match: { message: /quota/ } },
          ],
          fingerprintRules: [{ name: 'quota', match: { message: /quota/ }, fingerprint: 'quota-exceeded' }],
        },
      },
    });
    await dl.createQueue('q', { backoff: 'fixed:0' });
    const sent = await dl.sendBatch('q', [{ body: 'a' }, { body: 'b' }]);
    const worker = await dl.work<string>('q', (m) => {
      throw new Error(m.body === 'a' ? 'quota of tenant 7 exceeded' : 'quota exceeded: storage full');
    });
    await until(async () => (await statsOf('q')).dead === 2, 'dead letters');
    await worker.stop();
    const [a, b] = await Promise.all(sent.map((s) => dl.getDeadLetter(s.id)));
    expect(a?.tier).toBe('resource');
    expect(a?.attempts).toHaveLength(1);
    expect(a?.groupId).toBe(b?.groupId);
    expect((await dl.getGroup(a?.groupId ?? '')).count).toBe(2);
  });
});

describe('leases', () => {
  it('an expired lease makes the message visible again and counts as a receive', async () => {
    await dl.createQueue('q', { visibilityTimeout: '30s', maxReceives: 2, backoff: 'fixed:0' });
    const { id } = await dl.send('q', {});
    let receives = 0;
    const hang = new Promise<void>(() => undefined);
    const worker = await dl.work('q', () => {
      receives++;
      return hang;
    });
    await until(() => receives === 1, 'first receive');
    clock.advance(30_001);
    const first = await dl.sweepExpiredLeases();
    expect(first).toMatchObject({ expired: 1, retried: 1 });
    await until(() => receives === 2, 'second receive');
    clock.advance(30_001);
    expect(await dl.sweepExpiredLeases()).toMatchObject({ expired: 1, deadLettered: 1 });
    const dead = await dl.getDeadLetter(id);
    expect(dead.tier).toBe('timeout');
    expect(dead.attempts.map((a) => a.error.name)).toEqual(['LeaseExpiredError', 'LeaseExpiredError']);
    await worker.stop({ timeout: 0 });
    // The hung handlers' leases were lost: nothing was released back.
    expect(await statsOf('q')).toMatchObject({ waiting: 0, leased: 0, dead: 1 });
  });

  it('extendLease keeps the message leased past the visibility timeout; the signal fires before expiry', async () => {
    await dl.createQueue('q', { visibilityTimeout: '10s' });
    await dl.send('q', {});
    let context: { extend: () => Promise<void>; signal: AbortSignal } | undefined;
    let release: () => void = () => undefined;
    const worker = await dl.work('q', (_m, ctx) => {
      context = { extend: () => ctx.extendLease('60s'), signal: ctx.signal };
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    await until(() => context !== undefined, 'handler start');
    await context?.extend();
    clock.advance(30_000);
    expect((await dl.sweepExpiredLeases()).expired).toBe(0);
    expect(context?.signal.aborted).toBe(false);
    clock.advance(29_500);
    await until(() => context?.signal.aborted === true, 'abort signal before expiry');
    release();
    await until(async () => (await statsOf('q')).done === 1, 'done');
    await worker.stop();
  });

  it('a late ack after the lease was lost is refused', async () => {
    await dl.createQueue('q', { visibilityTimeout: '5s', backoff: 'fixed:0' });
    await dl.send('q', {});
    const releases: Array<() => void> = [];
    const worker = await dl.work('q', () => new Promise<void>((resolve) => releases.push(resolve)));
    await until(() => releases.length === 1, 'first receive');
    clock.advance(5_001);
    await dl.sweepExpiredLeases();
    await until(() => releases.length === 2, 'second receive');
    releases[0]?.(); // the first (stale) handler finishes late
    await until(() => worker.counters.leasesLost === 1, 'lost lease counted');
    expect(await statsOf('q')).toMatchObject({ leased: 1, done: 0 });
    // The stale handler's end must not be mistaken for the second receive's.
    expect(worker.inFlightCount).toBe(1);
    releases[1]?.();
    await until(async () => (await statsOf('q')).done === 1, 'done');
    await worker.stop();
  });

  it('extendLease after the lease was lost throws ConflictError', async () => {
    await dl.createQueue('q', { visibilityTimeout: '5s', backoff: 'fixed:0' });
    await dl.send('q', {});
    let extend: (() => Promise<void>) | undefined;
    const worker = await dl.work('q', (_m, ctx) => {
      extend ??= () => ctx.extendLease();
      return new Promise<void>(() => undefined);
    });
    await until(() => extend !== undefined, 'receive');
    clock.advance(5_001);
    await dl.sweepExpiredLeases();
    await expect(extend?.()).rejects.toBeInstanceOf(ConflictError);
    await worker.stop({ timeout: 0 });
  });
});

describe('store errors', () => {
  it('keeps the outcomes of a failed ack write and writes them with the next one', async () => {
    const file = join(tmp.dir, 'flaky.db');
    const inner = await openStore(`sqlite:${file}`, { migrate: true });
    // The store fails the first two writes that settle outcomes, whichever call carries them.
    let failures = 2;
    const flaky = (call: () => Promise<unknown>) => {
      if (failures > 0) {
        failures--;
        return Promise.reject(new Error('disk I/O error'));
      }
      return call();
    };
    const store = new Proxy(inner, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (typeof value !== 'function') return value;
        if (key === 'messageComplete' || key === 'messageSettleAndClaim') {
          return (params: never) => flaky(() => value.call(target, params));
        }
        return value.bind(target);
      },
    });
    const local = await Deadletter.open({ store, clock, maintenance: false });
    try {
      await local.createQueue('q');
      await local.sendBatch(
        'q',
        Array.from({ length: 30 }, (_, i) => ({ body: { i } })),
      );
      const errors: unknown[] = [];
      const worker = await local.work('q', () => undefined, {
        concurrency: 10,
        onError: (error) => errors.push(error),
      });
      await until(async () => (await local.stats())[0]?.done === 30, 'all done', 20_000);
      await worker.stop();
      expect(errors.length).toBeGreaterThan(0);
      expect((await local.stats())[0]).toMatchObject({ done: 30, leased: 0, waiting: 0, dead: 0 });
      expect(worker.counters.completed).toBe(30);
    } finally {
      await local.close();
      await inner.close();
    }
  });
});

describe('a failure that cannot be planned', () => {
  it('reports the error and leaves the message leased for its lease to expire; the worker goes on', async () => {
    const local = await Deadletter.open({
      store: `sqlite:${join(tmp.dir, 'plan.db')}`,
      clock,
      maintenance: false,
      rules: {
        backoff: () => {
          throw new Error('backoff exploded');
        },
      },
    });
    try {
      await local.createQueue('q');
      await local.sendBatch('q', [{ body: { fail: true } }, { body: { fail: false } }]);
      const errors: unknown[] = [];
      const worker = await local.work<{ fail: boolean }>(
        'q',
        (m) => {
          if (m.body.fail) throw econnreset();
        },
        { concurrency: 2, onError: (error) => errors.push(error) },
      );
      await until(
        async () => (await local.stats())[0]?.done === 1 && errors.length === 1,
        'one done, one error',
      );
      await worker.stop();
      expect((errors[0] as Error).message).toBe('backoff exploded');
      expect((await local.stats())[0]).toMatchObject({ done: 1, leased: 1, waiting: 0, dead: 0 });
    } finally {
      await local.close();
    }
  });
});

describe('graceful stop', () => {
  it('finishes running handlers within the timeout', async () => {
    await dl.createQueue('q');
    await dl.sendBatch(
      'q',
      Array.from({ length: 5 }, () => ({ body: {} })),
    );
    let started = 0;
    const worker = await dl.work(
      'q',
      async () => {
        started++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      },
      { concurrency: 5 },
    );
    await until(() => started === 5, 'all started');
    await worker.stop({ timeout: '5s' });
    expect(await statsOf('q')).toMatchObject({ done: 5, leased: 0 });
  });

  it('releases what is still running past the timeout and aborts its signal', async () => {
    await dl.createQueue('q');
    const { id } = await dl.send('q', {});
    let signal: AbortSignal | undefined;
    const worker: Worker = await dl.work('q', (_m, ctx) => {
      signal = ctx.signal;
      return new Promise<void>(() => undefined);
    });
    await until(() => signal !== undefined, 'receive');
    await worker.stop({ timeout: 50 });
    expect(signal?.aborted).toBe(true);
    expect(await statsOf('q')).toMatchObject({ waiting: 1, leased: 0 });
    expect((await dl.getMessage(id)).receives).toBe(1);
  });
});

describe('send', () => {
  it('deduplicates a live message by idempotency key', async () => {
    await dl.createQueue('q');
    const first = await dl.send('q', { a: 1 }, { idempotencyKey: 'k' });
    const second = await dl.send('q', { a: 2 }, { idempotencyKey: 'k' });
    expect(second).toEqual({ id: first.id, deduplicated: true });
    expect((await statsOf('q')).waiting).toBe(1);
  });

  it('delays a message until its delay has passed', async () => {
    await dl.createQueue('q');
    await dl.send('q', {}, { delay: '1m' });
    expect(await statsOf('q')).toMatchObject({ waiting: 0, delayed: 1 });
    clock.advance(60_000);
    expect(await statsOf('q')).toMatchObject({ waiting: 1, delayed: 0 });
  });

  it('rejects bad input with a clear error and stores nothing', async () => {
    await dl.createQueue('q');
    await expect(dl.send('nope', {})).rejects.toBeInstanceOf(NotFoundError);
    await expect(dl.send('q', undefined as never)).rejects.toBeInstanceOf(ValidationError);
    await expect(dl.send('q', { n: 1n } as never)).rejects.toThrow(/not JSON-serialisable/);
    await expect(dl.send('q', {}, { delay: 'soon' })).rejects.toThrow(/invalid delay/);
    await expect(dl.sendBatch('q', [{ body: 1 }, { body: 2, headers: { n: 3 as never } }])).rejects.toThrow(
      /message 2/,
    );
    await expect(dl.createQueue('q')).rejects.toBeInstanceOf(ConflictError);
    await expect(dl.createQueue('bad name!')).rejects.toBeInstanceOf(ValidationError);
    await expect(dl.createQueue('q2', { maxReceives: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(dl.work('nope', () => undefined)).rejects.toBeInstanceOf(NotFoundError);
    expect(await statsOf('q')).toMatchObject({ waiting: 0, delayed: 0 });
  });

  it('passes body, headers, key and receive count to the handler', async () => {
    await dl.createQueue('q');
    await dl.send('q', { hello: 'world' }, { headers: { a: 'b' }, idempotencyKey: 'key-1' });
    let got: ClaimedMessage | undefined;
    const worker = await dl.work('q', (m) => {
      got = m;
    });
    await until(() => got !== undefined, 'receive');
    await worker.stop();
    expect(got).toMatchObject({
      queue: 'q',
      body: { hello: 'world' },
      headers: { a: 'b' },
      idempotencyKey: 'key-1',
      receives: 1,
      attempts: [],
    });
  });
});
