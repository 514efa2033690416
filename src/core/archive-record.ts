import { z } from 'zod';
import type { DeadLetter, DeadLetterEdit } from './dead-letter.ts';
import { ValidationError } from './errors.ts';
import type { ReplayedDeadLetter } from './lineage.ts';
import type { Json } from './message.ts';
import { TIERS } from './tier.ts';

/**
 * The archive format: one gzip-compressed JSON-lines file per queue and UTC day of death,
 * `<archiveDir>/<queue>/<YYYY-MM-DD>.jsonl.gz`, one {@link ArchiveRecord} per line. Readers
 * refuse records of a newer `formatVersion` rather than guess.
 */
export const ARCHIVE_FORMAT_VERSION = 1;

/** What an archive record keeps beyond the {@link DeadLetter} fields, whatever its state. */
interface ArchiveExtras {
  /** The body it died with when it was edited (`dlq edit`), else null. */
  originalBody: Json | null;
  /** Every edit of the body, oldest first. */
  edits: DeadLetterEdit[];
  /** Its group's normalised message, so that an import into another store can create the group. */
  normalizedMessage: string;
}

/**
 * A row the retention sweeper archives: a dead letter still in the DLQ (`state: 'dead'`), or a
 * replayed one from the replay history (`state: 'replayed'`, with the replay's fields).
 */
export type ArchivableDeadLetter =
  | (DeadLetter & ArchiveExtras & { state: 'dead' })
  | (ReplayedDeadLetter & ArchiveExtras & { state: 'replayed' });

/** Identifies the archive file a record was written to, and when. */
export interface ArchiveStamp {
  /**
   * A random id given to an archive file when it is first written and kept by every rewrite.
   * The store's `retention.archive` audit entries name it, so an import can tell a record this
   * store archived (it moves back archived → dead) from another deployment's (a new dead letter).
   */
  archiveId: string;
  archivedAt: number;
}

/** One line of an archive file. */
export type ArchiveRecord = { formatVersion: typeof ARCHIVE_FORMAT_VERSION } & ArchiveStamp &
  ArchivableDeadLetter;

const DAY_MS = 86_400_000;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The UTC day of an epoch-milliseconds time, `YYYY-MM-DD`: the archive file a dead letter goes to. */
export function archiveDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The epoch-milliseconds start (00:00 UTC) of a `YYYY-MM-DD` day; throws ValidationError. */
export function dayStart(day: string): number {
  const ms = DAY.test(day) ? Date.parse(`${day}T00:00:00Z`) : Number.NaN;
  if (!Number.isFinite(ms) || archiveDay(ms) !== day) {
    throw new ValidationError(`invalid day "${day}": use YYYY-MM-DD`);
  }
  return ms;
}

/** The start of the day after the UTC day holding `ms`. */
export function nextDayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS + DAY_MS;
}

/** File name of a day's archive in its queue's directory. */
export function archiveFileName(day: string): string {
  return `${day}.jsonl.gz`;
}

const ARCHIVE_FILE_NAME = /^(\d{4}-\d{2}-\d{2})\.jsonl\.gz$/;

/** The day of an archive file name (`2026-01-01.jsonl.gz`), or undefined for any other name. */
export function dayOfArchiveFile(name: string): string | undefined {
  const match = ARCHIVE_FILE_NAME.exec(name);
  if (!match?.[1]) return undefined;
  try {
    dayStart(match[1]);
    return match[1];
  } catch {
    return undefined;
  }
}

/** A record for a line of an archive file, fields in a readable order (identity first). */
export function toArchiveRecord(letter: ArchivableDeadLetter, stamp: ArchiveStamp): ArchiveRecord {
  return {
    formatVersion: ARCHIVE_FORMAT_VERSION,
    archiveId: stamp.archiveId,
    archivedAt: stamp.archivedAt,
    ...letter,
  };
}

// ---- validation of records read back (archive read and import)

const json: z.ZodType<Json> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(json), z.record(z.string(), json)]),
);
const time = z.number().int().nonnegative();
const failure = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  code: z.string().optional(),
  status: z.number().int().optional(),
});
const common = {
  formatVersion: z.literal(ARCHIVE_FORMAT_VERSION),
  archiveId: z.string().min(1).max(200),
  archivedAt: time,
  id: z.string().min(1).max(200),
  queue: z.string().min(1).max(128),
  body: json,
  headers: z.record(z.string(), z.string()),
  idempotencyKey: z.string().nullable(),
  enqueuedAt: time,
  attempts: z.array(
    z.object({
      number: z.number().int().positive(),
      startedAt: time,
      durationMs: z.number().nonnegative(),
      error: failure,
      workerId: z.string(),
      workerVersion: z.string(),
      host: z.string(),
    }),
  ),
  error: failure,
  tier: z.enum(TIERS),
  fingerprint: z.string(),
  groupId: z.string().min(1),
  diedAt: time,
  replayCount: z.number().int().nonnegative(),
  previousId: z.string().nullable(),
  originalBody: json.nullable(),
  edits: z.array(z.object({ at: time, actor: z.string(), body: json })),
  normalizedMessage: z.string(),
};
const recordSchema = z.discriminatedUnion('state', [
  z.object({ ...common, state: z.literal('dead') }),
  z.object({
    ...common,
    state: z.literal('replayed'),
    replayedAt: time,
    replayedBy: z.string(),
    replayJobId: z.string().nullable(),
    replayedTo: z.string().min(1),
    destination: z.string().min(1),
  }),
]);

/**
 * Parses and checks one line of an archive file. Throws `ValidationError` naming the line and
 * what is wrong: not JSON, a newer format version, a missing or mistyped field.
 */
export function parseArchiveLine(text: string, lineNumber: number): ArchiveRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`line ${lineNumber}: not JSON (${(error as Error).message})`);
  }
  const version = (value as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version === 'number' && version > ARCHIVE_FORMAT_VERSION) {
    throw new ValidationError(
      `line ${lineNumber}: archive format version ${version} was written by a newer Deadletter (this one reads version ${ARCHIVE_FORMAT_VERSION})`,
    );
  }
  const parsed = recordSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new ValidationError(
      `line ${lineNumber}: not a Deadletter archive record${where}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data as ArchiveRecord;
}
