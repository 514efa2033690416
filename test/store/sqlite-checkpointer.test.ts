import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { queueRecord, T0 } from '../../src/store/conformance/fixtures.ts';
import { openStore } from '../../src/store/open.ts';
import { CHECKPOINT_INTERVAL_MS, WRITER_AUTOCHECKPOINT_PAGES } from '../../src/store/sqlite/checkpointer.ts';
import type { Store } from '../../src/store/store.ts';
import { tempDir } from '../support/temp-dir.ts';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

const size = (path: string) => (existsSync(path) ? statSync(path).size : 0);

/** Sends messages of about 2 kB until `bytes` went to the WAL. */
async function write(store: Store, bytes: number): Promise<void> {
  const pad = 'x'.repeat(2_000);
  for (let sent = 0; sent < bytes; sent += 200 * 2_000) {
    await store.messageInsertBatch({
      queue: 'q',
      messages: Array.from({ length: 200 }, (_, k) => ({
        id: `m-${sent}-${k}`,
        body: { pad },
        headers: {},
        idempotencyKey: null,
        visibleAt: T0,
      })),
      now: T0,
    });
  }
}

describe('SQLite WAL checkpoints', () => {
  it('are run by a thread of their own: the database file fills while the writer is idle', async () => {
    const file = join(tmp.dir, 'dl.db');
    const store = await openStore(`sqlite:${file}`, { migrate: true });
    try {
      await store.queueCreate({ queue: queueRecord('q') });
      // Well under the writer's own autocheckpoint: only the thread can move these pages.
      const bytes = 4 * 1024 * 1024;
      expect(bytes / 4096).toBeLessThan(WRITER_AUTOCHECKPOINT_PAGES / 2);
      const before = size(file);
      await write(store, bytes);
      const deadline = Date.now() + 100 * CHECKPOINT_INTERVAL_MS;
      while (size(file) - before < bytes && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, CHECKPOINT_INTERVAL_MS));
      }
      expect(size(file) - before).toBeGreaterThanOrEqual(bytes);
    } finally {
      await store.close();
    }
  });

  it('stop with the store: close returns, and the last connection folds the WAL back', async () => {
    const file = join(tmp.dir, 'dl.db');
    const store = await openStore(`sqlite:${file}`, { migrate: true });
    await store.queueCreate({ queue: queueRecord('q') });
    await write(store, 1024 * 1024);
    await store.close();
    expect(size(`${file}-wal`)).toBe(0);
  });
});
