import type { Json } from '../../src/core/message.ts';
import { killOne } from '../../src/store/conformance/fixtures.ts';
import { openStore } from '../../src/store/open.ts';

/** One dead letter to seed: its queue, group and body; it died `agoMs` before now. */
export interface SeedLetter {
  queue: string;
  groupId?: string;
  tier?: 'transient' | 'timeout' | 'malformed' | 'resource' | 'permanent';
  body?: Json;
  agoMs?: number;
}

/**
 * Writes dead letters straight into a CLI fixture's store (the queues must exist), through the
 * store's own send, claim and failure path; returns their ids in the order given.
 */
export async function seedDeadLetters(storeUrl: string, letters: SeedLetter[]): Promise<string[]> {
  const store = await openStore(storeUrl);
  try {
    const ids: string[] = [];
    const now = Date.now();
    for (const [i, letter] of letters.entries()) {
      ids.push(
        await killOne(store, {
          queue: letter.queue,
          diedAt: now - (letter.agoMs ?? 60_000) + i,
          ...(letter.groupId !== undefined && { groupId: letter.groupId }),
          ...(letter.tier !== undefined && { tier: letter.tier }),
          ...(letter.body !== undefined && { body: letter.body }),
        }),
      );
    }
    return ids;
  } finally {
    await store.close();
  }
}
