import { describe, expect, it } from 'vitest';
import { formatAge, formatAgo } from '../../src/cli/output.ts';

describe('ages in CLI tables', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');

  it('read in whole seconds, as "… ago" does', () => {
    expect(formatAge(now - 20_600, now)).toBe('20s');
    expect(formatAgo(now - 20_600, now)).toBe('20s ago');
    expect(formatAge(now - 192_400, now)).toBe('3m12s');
    expect(formatAge(now - 26 * 3_600_000 - 5_000, now)).toBe('1d2h5s');
  });

  it('say 0s under a second, never a negative age, and - for none', () => {
    expect(formatAge(now - 400, now)).toBe('0s');
    expect(formatAge(now + 5_000, now)).toBe('0s');
    expect(formatAge(null, now)).toBe('-');
  });
});
