import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { newId } from '../../src/core/ids.ts';
import { alertRetryDelay, deliverAlerts } from '../../src/engine/alert-delivery.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { tempDir } from '../support/temp-dir.ts';

describe('alertRetryDelay', () => {
  it('doubles from the base up to the cap, with half of it random', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (attempts, r) => {
          const options = { baseDelayMs: 10_000, maxDelayMs: 900_000, random: () => r };
          const exponential = Math.min(900_000, 10_000 * 2 ** (attempts - 1));
          const delay = alertRetryDelay(attempts, options);
          expect(delay).toBeGreaterThanOrEqual(Math.round(exponential / 2));
          expect(delay).toBeLessThanOrEqual(exponential);
        },
      ),
    );
    const fixed = { baseDelayMs: 1_000, maxDelayMs: 5_000, random: () => 0 };
    expect([1, 2, 3, 4, 5].map((n) => alertRetryDelay(n, fixed))).toEqual([500, 1_000, 2_000, 2_500, 2_500]);
  });
});

describe('a receiver that hangs', () => {
  let tmp: ReturnType<typeof tempDir>;
  let dl: Deadletter;
  let server: Server;

  beforeEach(async () => {
    tmp = tempDir();
    dl = await Deadletter.open({
      store: `sqlite:${join(tmp.dir, 'dl.db')}`,
      clock: new ManualClock(),
      maintenance: false,
    });
    // Reads the request and never answers.
    server = createServer((req) => req.resume());
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    await dl.close();
    tmp.remove();
  });

  it('times the attempt out and schedules a retry', async () => {
    const clock = dl.clock as ManualClock;
    const { port } = server.address() as AddressInfo;
    const id = newId();
    await dl.store.alertDeliveryInsert({
      deliveries: [
        {
          id,
          alertId: null,
          event: 'review',
          channel: 'webhook',
          url: `http://127.0.0.1:${port}/hang`,
          payload: { event: 'review' },
          attempts: 0,
          status: 'pending',
          createdAt: clock.now(),
          nextAttemptAt: clock.now(),
          lastError: null,
          deliveredAt: null,
        },
      ],
    });
    const result = await deliverAlerts({ store: dl.store, clock, timeoutMs: 200, random: () => 0 });
    expect(result).toEqual({ delivered: 0, retried: 1, failed: 0 });
    const [delivery] = await dl.store.alertDeliveryList({ limit: 1 });
    expect(delivery).toMatchObject({
      id,
      status: 'pending',
      attempts: 1,
      nextAttemptAt: clock.now() + 5_000,
    });
    expect(delivery?.lastError).toMatch(/timeout|aborted/i);
  });
});
