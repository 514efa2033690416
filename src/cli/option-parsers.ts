import { parseDuration } from '../core/duration.ts';
import { ValidationError } from '../core/errors.ts';
import { GROUP_STATUSES, type GroupStatus } from '../core/group.ts';
import { isTier, TIERS, type Tier } from '../core/tier.ts';

/**
 * Validators of CLI option values. Each throws `ValidationError` (exit 2) naming the option
 * and what it accepts, before anything is opened or changed.
 */

/** A whole number within `[min, max]`. */
export function parseIntOption(value: string, option: string, range: { min: number; max: number }): number {
  const text = value.trim();
  const n = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
    throw new ValidationError(
      `invalid ${option} "${value}": use a whole number from ${range.min} to ${range.max}`,
    );
  }
  return n;
}

/**
 * A point in time for `--since`/`--until`: an ISO 8601 date or time (`2026-01-01`,
 * `2026-01-01T10:00:00Z`), or a duration ago (`2h` = two hours before `now`). A bare number
 * is refused: it is unclear whether it means milliseconds ago or an epoch.
 */
export function parseTimeOption(value: string, option: string, now: number): number {
  const text = value.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return ms;
  } else if (/^\d+(\.\d+)?[a-z]/.test(text)) {
    try {
      return now - parseDuration(text, option);
    } catch {
      // Fall through to the message that names both accepted forms.
    }
  }
  throw new ValidationError(
    `invalid ${option} "${value}": use an ISO time (2026-01-01T10:00:00Z) or a duration ago (30m, 2h, 7d)`,
  );
}

/** A tier name; the message lists the valid ones. */
export function parseTierOption(value: string): Tier {
  if (isTier(value)) return value;
  throw new ValidationError(`unknown tier "${value}": use one of ${TIERS.join(', ')}`);
}

/** A group status name; the message lists the valid ones. */
export function parseGroupStatusOption(value: string): GroupStatus {
  if ((GROUP_STATUSES as readonly string[]).includes(value)) return value as GroupStatus;
  throw new ValidationError(`unknown group status "${value}": use one of ${GROUP_STATUSES.join(', ')}`);
}

/** `--header k=v` values as an object; a header given twice keeps its last value. */
export function parseHeaderOptions(values: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0) throw new ValidationError(`invalid --header "${value}": use name=value`);
    headers[value.slice(0, at).trim()] = value.slice(at + 1);
  }
  return headers;
}

/** Commander's accumulator for repeatable options (`--header a=1 --header b=2`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
