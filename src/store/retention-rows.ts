import type { ArchivableDeadLetter, ArchiveRecord } from '../core/archive-record.ts';
import type { AuditEntryInput } from '../core/audit.ts';
import { NotFoundError } from '../core/errors.ts';
import type { DeadLetterImportResult, ImportSkipReason } from './store.ts';

// What retention computes without a database, the same in every store: a replay-history row
// as an archivable letter, an import's tally, and the audit entries of an archive pass and of
// an import.

/** The replay record's columns of a row of `replayed_dead_letters`. */
export interface ReplayRecordColumns {
  replayed_at: number;
  replayed_by: string;
  replay_job_id: string | null;
  replayed_to: string;
  destination: string;
}

/** A letter read from the replay history, with its replay record. */
export function asReplayed(letter: ArchivableDeadLetter, row: ReplayRecordColumns): ArchivableDeadLetter {
  return {
    ...letter,
    state: 'replayed',
    replayedAt: row.replayed_at,
    replayedBy: row.replayed_by,
    replayJobId: row.replay_job_id,
    replayedTo: row.replayed_to,
    destination: row.destination,
  };
}

/** The `retention.archive` entry of rows deleted once written to an archive file (`deleted`: their ids, in order). */
export function archiveAudit(
  params: { queue: string; day: string; file: string; archiveId: string; actor: string; now: number },
  deleted: string[],
  counts: { dead: number; replayed: number },
): AuditEntryInput {
  return {
    at: params.now,
    actor: params.actor,
    action: 'retention.archive',
    targetType: 'archive',
    targetId: params.file,
    details: {
      queue: params.queue,
      day: params.day,
      file: params.file,
      archiveId: params.archiveId,
      count: deleted.length,
      dead: counts.dead,
      replayed: counts.replayed,
      firstId: deleted[0] ?? null,
      lastId: deleted[deleted.length - 1] ?? null,
    },
  };
}

/** The `archive.import` entry of an import that wrote the records `imported` (their ids). */
function importAudit(
  params: { file: string; records: ArchiveRecord[]; actor: string; now: number },
  result: DeadLetterImportResult,
  imported: string[],
): AuditEntryInput {
  return {
    at: params.now,
    actor: params.actor,
    action: 'archive.import',
    targetType: 'archive',
    targetId: params.file,
    details: {
      file: params.file,
      count: imported.length,
      restored: result.restored,
      added: result.added,
      history: result.history,
      skipped: result.skipped.length,
      queues: [...new Set(params.records.map((record) => record.queue))].sort(),
      ids: imported,
    },
  };
}

/** An import names a queue this store does not have. */
export function missingQueueError(queue: string): NotFoundError {
  return new NotFoundError(
    `queue "${queue}" does not exist: create it (dlq queue create ${queue}) before importing its dead letters`,
  );
}

/** What an import counts as it goes through the records: its result, the ids written, the queue counters. */
export class ImportTally {
  readonly result: DeadLetterImportResult = { restored: 0, added: 0, history: 0, skipped: [] };
  /** The ids written, in the file's order. */
  readonly imported: string[] = [];
  /** Per queue: the dead letters written, and how many of them were archived by this store (restored). */
  readonly perQueue = new Map<string, { dead: number; restored: number }>();

  skipped(id: string, reason: ImportSkipReason): void {
    this.result.skipped.push({ id, reason });
  }

  wroteHistory(id: string): void {
    this.imported.push(id);
    this.result.history++;
  }

  wroteDead(record: { id: string; queue: string }, restored: boolean): void {
    this.imported.push(record.id);
    const tally = this.perQueue.get(record.queue) ?? { dead: 0, restored: 0 };
    tally.dead++;
    if (restored) tally.restored++;
    this.perQueue.set(record.queue, tally);
    if (restored) this.result.restored++;
    else this.result.added++;
  }

  /** The `archive.import` entry, or none when nothing was written. */
  audit(params: { file: string; records: ArchiveRecord[]; actor: string; now: number }): AuditEntryInput[] {
    return this.imported.length === 0 ? [] : [importAudit(params, this.result, this.imported)];
  }
}
