import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/core/duration.ts';
import { ValidationError } from '../../src/core/errors.ts';
import {
  formatBackoff,
  parseBackoff,
  resolveQueueSettings,
  validateQueueName,
} from '../../src/core/queue-settings.ts';
import { backoffDelay, decideFailure } from '../../src/core/retry-policy.ts';

describe('durations', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['14d', 1_209_600_000],
    ['1500', 1500],
    [42, 42],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'soon', '5 minutes', '-3s', '3x', 's5', -1, Number.NaN])('rejects %s', (text) => {
    expect(() => parseDuration(text)).toThrow(ValidationError);
  });

  it('formats what it parses back to the same value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }).map((s) => s * 1000),
        (ms) => {
          expect(parseDuration(formatDuration(ms))).toBe(ms);
        },
      ),
    );
  });
});

describe('backoff', () => {
  it('parses and formats the CLI forms', () => {
    expect(parseBackoff('exponential:1s:5m')).toEqual({ type: 'exponential', baseMs: 1000, capMs: 300_000 });
    expect(parseBackoff('fixed:0')).toEqual({ type: 'fixed', delayMs: 0 });
    expect(formatBackoff(parseBackoff('exponential:2s:1m'))).toBe('exponential:2s:1m');
    for (const bad of ['linear:1s', 'exponential:5m:1s', 'fixed:1s:2s', 'exponential:x']) {
      expect(() => parseBackoff(bad)).toThrow(ValidationError);
    }
  });

  it('exponential backoff uses full jitter under a growing, capped ceiling', () => {
    const spec = { type: 'exponential', baseMs: 1000, capMs: 8000 } as const;
    expect(backoffDelay(spec, 1, () => 0.999_999)).toBe(999);
    expect(backoffDelay(spec, 3, () => 0.999_999)).toBe(3999);
    expect(backoffDelay(spec, 10, () => 0.999_999)).toBe(7999);
    expect(backoffDelay(spec, 10, () => 0)).toBe(0);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (n, r) => {
          const delay = backoffDelay(spec, n, () => r);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(8000);
        },
      ),
    );
  });
});

describe('retry decision', () => {
  const base = {
    tier: 'transient' as const,
    retryable: true,
    maxReceives: 3,
    deadLetter: true,
    delayMs: () => 7,
  };
  it('retries below maxReceives, dead-letters at it', () => {
    expect(decideFailure({ ...base, receives: 2 })).toEqual({ kind: 'retry', delayMs: 7 });
    expect(decideFailure({ ...base, receives: 3 })).toEqual({ kind: 'dead', tier: 'transient' });
  });
  it('dead-letters a non-retryable failure at once, drops when the DLQ is off', () => {
    expect(decideFailure({ ...base, retryable: false, tier: 'malformed', receives: 1 })).toEqual({
      kind: 'dead',
      tier: 'malformed',
    });
    expect(decideFailure({ ...base, deadLetter: false, receives: 3 })).toEqual({
      kind: 'drop',
      tier: 'transient',
    });
  });
});

describe('queue settings', () => {
  it('validates names and settings', () => {
    expect(validateQueueName('orders.eu-1')).toBe('orders.eu-1');
    expect(() => validateQueueName('')).toThrow(ValidationError);
    expect(() => validateQueueName('has space')).toThrow(ValidationError);
    expect(resolveQueueSettings({ retention: '7d', visibilityTimeout: '1m', maxReceives: 2 })).toEqual({
      retentionDays: 7,
      visibilityTimeoutMs: 60_000,
      maxReceives: 2,
    });
    expect(() => resolveQueueSettings({ maxReceives: 1.5 })).toThrow(ValidationError);
    expect(() => resolveQueueSettings({ visibilityTimeout: '1ms' })).toThrow(ValidationError);
    expect(() => resolveQueueSettings({ retention: 'forever' })).toThrow(ValidationError);
  });

  it('takes a done retention as a duration, 0 (delete at once) to a year', () => {
    expect(resolveQueueSettings({ doneRetention: '1h30m' })).toEqual({ doneRetentionMs: 5_400_000 });
    expect(resolveQueueSettings({ doneRetention: 0 })).toEqual({ doneRetentionMs: 0 });
    expect(resolveQueueSettings({ doneRetention: '365d' })).toEqual({ doneRetentionMs: 365 * 86_400_000 });
    expect(() => resolveQueueSettings({ doneRetention: '366d' })).toThrow(/invalid done retention/);
    expect(() => resolveQueueSettings({ doneRetention: -1 })).toThrow(ValidationError);
    expect(() => resolveQueueSettings({ doneRetention: 'soon' })).toThrow(ValidationError);
  });
});
