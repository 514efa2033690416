import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { MaintenanceRunner } from '../../src/engine/maintenance.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/store.ts';
import { tempDir } from '../support/temp-dir.ts';

let tmp: ReturnType<typeof tempDir>;
let stores: Store[];

beforeEach(() => {
  tmp = tempDir();
  stores = [];
});
afterEach(async () => {
  await Promise.all(stores.map((s) => s.close()));
  tmp.remove();
});

async function open(): Promise<Store> {
  const store = await openStore(`sqlite:${join(tmp.dir, 'dl.db')}`, { migrate: true });
  stores.push(store);
  return store;
}

describe('maintenance leadership', () => {
  it('runs the services in one runner only; a new leader takes over within the lease when the old one dies', async () => {
    const clock = new ManualClock();
    const runs = { a: 0, b: 0 };
    const a = new MaintenanceRunner(
      await open(),
      clock,
      [{ name: 's', intervalMs: 1000, run: async () => void runs.a++ }],
      {
        leaseMs: 15_000,
      },
    );
    const b = new MaintenanceRunner(
      await open(),
      clock,
      [{ name: 's', intervalMs: 1000, run: async () => void runs.b++ }],
      {
        leaseMs: 15_000,
      },
    );
    for (let i = 0; i < 10; i++) {
      await a.tick();
      await b.tick();
      clock.advance(1000);
    }
    expect(a.isLeader).toBe(true);
    expect(b.isLeader).toBe(false);
    expect(runs).toEqual({ a: 10, b: 0 });

    // `a` dies without resigning: `b` waits for the lease to run out, then takes over.
    let waited = 0;
    while (!b.isLeader) {
      clock.advance(1000);
      waited += 1000;
      await b.tick();
      expect(waited).toBeLessThanOrEqual(15_000 + 5_000);
    }
    expect(runs.b).toBeGreaterThan(0);
  });

  it('a runner that stops resigns, so another takes over at once', async () => {
    const clock = new ManualClock();
    const a = new MaintenanceRunner(await open(), clock, []);
    const b = new MaintenanceRunner(await open(), clock, []);
    await a.tick();
    await b.tick();
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    await a.stop();
    clock.advance(5_000);
    await b.tick();
    expect(b.isLeader).toBe(true);
  });
});
