import { parseDuration } from '../../core/duration.ts';
import { ValidationError } from '../../core/errors.ts';

/**
 * A time given in a query: an ISO 8601 date or time (`2026-01-01`, `2026-01-01T10:00:00Z`),
 * or a duration ago (`2h` = two hours before `now`). Throws ValidationError (422).
 */
export function parseTimeQuery(value: string, name: string, now: number): number {
  const text = value.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return ms;
  } else if (/^\d+(\.\d+)?[a-z]/.test(text)) {
    try {
      return now - parseDuration(text, name);
    } catch {
      // Fall through to the message that names both accepted forms.
    }
  }
  throw new ValidationError(
    `invalid ${name} "${value}": use an ISO time (2026-01-01T10:00:00Z) or a duration ago (30m, 2h, 7d)`,
  );
}
