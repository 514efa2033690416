import { afterEach, describe, expect, it, vi } from 'vitest';
import { newId, newIds } from '../../src/core/ids.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The millisecond timestamp a UUIDv7 carries. */
const msOf = (id: string) => Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('newId', () => {
  it('makes UUIDv7 ids carrying the current time', () => {
    const before = Date.now();
    const id = newId();
    expect(id).toMatch(UUID_V7);
    expect(msOf(id)).toBeGreaterThanOrEqual(before);
    expect(msOf(id)).toBeLessThanOrEqual(Date.now());
  });

  it('is unique and sorts in creation order, also within one millisecond', () => {
    const ids = newIds(20_000);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(UUID_V7);
  });

  it('stays ordered past 4,096 ids in one millisecond and when the clock goes back', () => {
    const now = Date.now() + 60_000;
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now);
    const burst = newIds(10_000);
    clock.mockReturnValue(now - 5_000);
    const after = newIds(10);
    const ids = [...burst, ...after];
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // The counter borrowed later milliseconds rather than wrap around.
    expect(msOf(burst.at(-1) as string)).toBeGreaterThan(now);
  });
});
