import { randomFillSync } from 'node:crypto';

/**
 * A new unique id, ordered by creation time: a UUIDv7 (RFC 9562) with a 12-bit counter in
 * `rand_a` (its method 1), so ids made in the same millisecond by this process sort in the
 * order they were made. Used for messages, dead letters and every other record.
 *
 * Made here rather than by a library call per id: a send of a thousand messages draws its
 * randomness from a pool filled once per 512 ids, and formats with a lookup table.
 */
export function newId(): string {
  let ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    // A random start in the lower half leaves room for 2,048+ more ids in this millisecond.
    seq = (nextRandomByte() << 3) & 0x7ff;
  } else {
    // Same millisecond (or the clock went back): count on; past 4,095 borrow the next one.
    seq++;
    if (seq > 0xfff) {
      lastMs++;
      seq = 0;
    }
    ms = lastMs;
  }
  if (offset + 8 > POOL_BYTES) refill();
  const r = offset;
  offset += 8;
  const high = Math.floor(ms / 0x10000);
  const low = ms & 0xffff;
  return (
    `${HEX[(high >>> 24) & 0xff]}${HEX[(high >>> 16) & 0xff]}${HEX[(high >>> 8) & 0xff]}${HEX[high & 0xff]}-` +
    `${HEX[low >>> 8]}${HEX[low & 0xff]}-` +
    `${HEX[0x70 | (seq >>> 8)]}${HEX[seq & 0xff]}-` +
    `${HEX[0x80 | ((pool[r] as number) & 0x3f)]}${HEX[pool[r + 1] as number]}-` +
    `${HEX[pool[r + 2] as number]}${HEX[pool[r + 3] as number]}${HEX[pool[r + 4] as number]}` +
    `${HEX[pool[r + 5] as number]}${HEX[pool[r + 6] as number]}${HEX[pool[r + 7] as number]}`
  );
}

/** `count` new ids at once, in creation order (see {@link newId}). */
export function newIds(count: number): string[] {
  const ids: string[] = new Array(count);
  for (let k = 0; k < count; k++) ids[k] = newId();
  return ids;
}

const POOL_BYTES = 4096;
const pool = new Uint8Array(POOL_BYTES);
let offset = POOL_BYTES;
let lastMs = -1;
let seq = 0;

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function refill(): void {
  randomFillSync(pool);
  offset = 0;
}

function nextRandomByte(): number {
  if (offset + 1 > POOL_BYTES) refill();
  return pool[offset++] as number;
}
