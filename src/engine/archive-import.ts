import { resolve } from 'node:path';
import type { ArchiveRecord } from '../core/archive-record.ts';
import type { Clock } from '../core/clock.ts';
import { NotFoundError } from '../core/errors.ts';
import type { ImportSkipReason, Store } from '../store/store.ts';
import { readArchiveFile } from './archive-file.ts';

const DAY_MS = 86_400_000;
/** Records per import transaction. */
const IMPORT_BATCH = 1_000;
/** Skipped ids kept in the result, for people to look at. */
const SKIPPED_SAMPLE = 20;

/** What `dlq archive import` did (or, with `dryRun`, would do). */
export interface ArchiveImportResult {
  /** Absolute path of the file. */
  file: string;
  dryRun: boolean;
  /** Records in the file. */
  records: number;
  /** Queues the records belong to. */
  queues: string[];
  /** Dead letters this store had archived, back in the DLQ (counters archived → dead). */
  restored: number;
  /** Dead letters new to this store (another deployment's archive), added to the DLQ. */
  added: number;
  /** Replayed dead letters back in the replay history (never in the DLQ). */
  history: number;
  /** Records skipped because their id is already here, by where it is. */
  skipped: Record<ImportSkipReason, number>;
  /** The first skipped ids and why. */
  skippedSample: { id: string; reason: ImportSkipReason }[];
  /**
   * Imported dead letters that died longer ago than their queue's retention: the next retention
   * sweep archives them again (raise the retention first to keep them).
   */
  pastRetention: number;
}

/**
 * Imports an archive file back into the store. The whole file is read and checked first: a
 * corrupt line (its number is named), a record of a newer format or of a queue that does not
 * exist imports nothing. Then records go in batches, each one transaction; ids already in the
 * DLQ, the replay history, a tombstone or a queue are skipped, so importing a file twice (or
 * again after an interrupted import) adds nothing twice.
 *
 * An imported dead letter keeps the time it died, so it expires again by its queue's retention:
 * raise the retention first to keep old ones around.
 */
export async function importArchive(params: {
  store: Store;
  clock: Clock;
  path: string;
  actor: string;
  dryRun?: boolean;
  onProgress?: (done: number, total: number) => void;
}): Promise<ArchiveImportResult> {
  const file = resolve(params.path);
  let records = 0;
  const queues = new Set<string>();
  for await (const record of readArchiveFile(file)) {
    records++;
    queues.add(record.queue);
  }
  const retentionDays = new Map<string, number>();
  for (const queue of queues) {
    const record = await params.store.queueGet({ name: queue });
    if (!record) {
      throw new NotFoundError(
        `${file} holds dead letters of queue "${queue}", which does not exist here: create it first (dlq queue create ${queue})`,
      );
    }
    retentionDays.set(queue, record.retentionDays);
  }
  const result: ArchiveImportResult = {
    file,
    dryRun: params.dryRun === true,
    records,
    queues: [...queues].sort(),
    restored: 0,
    added: 0,
    history: 0,
    skipped: { dead: 0, replayed: 0, discarded: 0, message: 0 },
    skippedSample: [],
    pastRetention: 0,
  };
  let done = 0;
  let batch: ArchiveRecord[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const now = params.clock.now();
    const imported = await params.store.deadLetterImport({
      file,
      records: batch,
      actor: params.actor,
      now,
      ...(params.dryRun && { dryRun: true }),
    });
    const skippedIds = new Set(imported.skipped.map((skip) => skip.id));
    for (const record of batch) {
      const days = retentionDays.get(record.queue) ?? 0;
      if (
        record.state === 'dead' &&
        !skippedIds.has(record.id) &&
        days > 0 &&
        record.diedAt < now - days * DAY_MS
      ) {
        result.pastRetention++;
      }
    }
    result.restored += imported.restored;
    result.added += imported.added;
    result.history += imported.history;
    for (const skip of imported.skipped) {
      result.skipped[skip.reason]++;
      if (result.skippedSample.length < SKIPPED_SAMPLE) result.skippedSample.push(skip);
    }
    done += batch.length;
    batch = [];
    params.onProgress?.(done, records);
  };
  for await (const { line: _line, ...record } of readArchiveFile(file)) {
    batch.push(record);
    if (batch.length >= IMPORT_BATCH) await flush();
  }
  await flush();
  return result;
}
