import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/** A new unique id, ordered by creation time (UUIDv7), used for messages and dead letters. */
export function newId(): string {
  return v7();
}

/**
 * `count` new ids at once, for batches (a replay's new messages): one draw of randomness for
 * all instead of one per id. Time-ordered across milliseconds like {@link newId}; within one
 * millisecond their order is random.
 */
export function newIds(count: number): string[] {
  const random = randomFillSync(new Uint8Array(16 * count));
  const ids: string[] = new Array(count);
  for (let k = 0; k < count; k++) ids[k] = v7({ random: random.subarray(16 * k, 16 * k + 16) });
  return ids;
}
