import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { killOne } from '../../src/store/conformance/fixtures.ts';
import { tempDir } from '../support/temp-dir.ts';

const DAY = 86_400_000;
const T = Date.UTC(2026, 2, 1);
let tmp: ReturnType<typeof tempDir>;
let dl: Deadletter;

beforeEach(async () => {
  tmp = tempDir();
  dl = await Deadletter.open({
    store: `sqlite:${join(tmp.dir, 'dl.db')}`,
    clock: new ManualClock(T + DAY),
    maintenance: false,
  });
});

afterEach(async () => {
  await dl.close();
  tmp.remove();
});

describe('stats', () => {
  it('says when the next dead letters expire: the oldest one plus the queue retention', async () => {
    await dl.createQueue('orders', { retentionDays: 10 });
    await dl.createQueue('forever', { retentionDays: 0 });
    await dl.createQueue('empty');
    await killOne(dl.store, { queue: 'orders', diedAt: T + 5_000 });
    await killOne(dl.store, { queue: 'orders', diedAt: T + 1_000 });
    await killOne(dl.store, { queue: 'forever', diedAt: T });

    const stats = await dl.stats();
    expect(stats.map((s) => [s.queue, s.dead, s.retentionDays, s.oldestDeadAt, s.nextExpiryAt])).toEqual([
      ['empty', 0, 14, null, null],
      ['forever', 1, 0, T, null],
      ['orders', 2, 10, T + 1_000, T + 1_000 + 10 * DAY],
    ]);
    for (const row of stats) expect([row.replayed, row.discarded, row.archived]).toEqual([0, 0, 0]);
  });

  it('follows a change of retention', async () => {
    await dl.createQueue('orders', { retentionDays: 10 });
    await killOne(dl.store, { queue: 'orders', diedAt: T });
    await dl.updateQueue('orders', { retention: '36h' });
    const [row] = await dl.stats();
    expect(row?.nextExpiryAt).toBe(T + 1.5 * DAY);
  });
});
