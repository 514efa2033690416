import { formatDuration } from '../core/duration.ts';
import { issuesLine } from '../core/fingerprint.ts';

/** Where the CLI writes text: `process.stdout`, `process.stderr` or a test's capture. */
export interface TextSink {
  write(text: string): unknown;
}

/** One column of a {@link formatTable} table. Numbers read better aligned right. */
export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/**
 * Formats rows as a plain-text table: a header line, then one line per row, columns
 * separated by two spaces and padded to the widest cell. Trailing spaces are trimmed.
 */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...rows.map((row) => displayWidth(row[index] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    columns
      .map((column, index) => {
        const cell = cells[index] ?? '';
        const pad = ' '.repeat(Math.max(0, (widths[index] ?? 0) - displayWidth(cell)));
        return column.align === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.header)), ...rows.map(line)].join('\n');
}

/** Code points, so that `…` and other non-ASCII characters count as one column. */
function displayWidth(text: string): number {
  return [...text].length;
}

/** One line of at most `max` characters: newlines collapse to spaces, overflow ends in `…`. */
export function truncate(text: string, max: number): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' ').trim();
  const chars = [...oneLine];
  return chars.length <= max ? oneLine : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/**
 * An error as one line of a table, cut to `max` characters: `name: message`, where a message
 * that is a JSON list of validation issues (Zod's) shows as its issues on one line
 * (`ZodError: customer.email: Required`), not as the start of the JSON.
 */
export function errorLine(error: { name: string; message: string }, max: number): string {
  return truncate(`${error.name}: ${issuesLine(error.message) ?? error.message}`, max);
}

/** An epoch-milliseconds time as ISO 8601 in UTC, without milliseconds: `2026-01-01T10:00:00Z`. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * How long ago `ms` was, in its largest whole unit: `just now`, `45s ago`, `3m ago`, `2h ago`,
 * `5d ago`. A time in the future reads `in 3m`.
 */
export function formatAgo(ms: number, now: number): string {
  const diff = now - ms;
  const size = Math.abs(diff);
  if (size < 1_000) return 'just now';
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  const [unit, unitMs] = units.find(([, unitMs]) => size >= unitMs) ?? ['s', 1_000];
  const amount = `${Math.floor(size / unitMs)}${unit}`;
  return diff >= 0 ? `${amount} ago` : `in ${amount}`;
}

/**
 * An age such as the oldest dead letter's, in whole seconds like {@link formatAgo}: `20s`,
 * `3m12s`, or `-` when there is none.
 */
export function formatAge(since: number | null, now: number): string {
  if (since === null) return '-';
  const seconds = Math.floor(Math.max(0, now - since) / 1000);
  return seconds === 0 ? '0s' : formatDuration(seconds * 1000);
}

/** A time as `2026-01-01T10:00:00Z (3m ago)`. */
export function formatTimeAndAgo(ms: number, now: number): string {
  return `${formatTime(ms)} (${formatAgo(ms, now)})`;
}

/** Writes one JSON document (pretty, two-space indent) followed by a newline. */
export function writeJson(sink: TextSink, value: unknown): void {
  sink.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes text followed by a newline (none added if it already ends with one). */
export function writeLine(sink: TextSink, text = ''): void {
  sink.write(text.endsWith('\n') ? text : `${text}\n`);
}
