import { ValidationError } from './errors.ts';

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** A duration: milliseconds as a number, or a string such as `250ms`, `30s`, `5m`, `2h`, `14d`, `1h30m`. */
export type Duration = number | string;

/**
 * Parses a {@link Duration} into milliseconds. A bare number (or numeric string) is milliseconds.
 * Throws {@link ValidationError} on anything else, negative values included.
 */
export function parseDuration(value: Duration, what = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new ValidationError(`invalid ${what}: ${value}`);
    return Math.round(value);
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(re)) {
    total += Number(match[1]) * (UNITS[match[2] as string] as number);
    consumed += match[0].length;
  }
  if (text.length === 0 || consumed !== text.length) {
    throw new ValidationError(
      `invalid ${what} "${value}": use a number of milliseconds or units like 500ms, 30s, 5m, 2h, 14d`,
    );
  }
  return Math.round(total);
}

/** Formats milliseconds compactly: `1500` → `1.5s`, `90000` → `1m30s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
