import { relative } from 'node:path';
import type { Command } from 'commander';
import type { ArchiveRecord } from '../../core/archive-record.ts';
import { listArchiveFiles, locateArchiveFile, readArchiveFile } from '../../engine/archive-file.ts';
import type { ArchiveImportResult } from '../../engine/archive-import.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { parseIntOption } from '../option-parsers.ts';
import { errorLine, formatTable, formatTime, writeLine } from '../output.ts';
import { progressBar } from '../progress.ts';

/** A size in bytes as people read it: `812 B`, `12.3 KiB`, `4.0 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * `dlq archive list|read|import`: the gzip JSON-lines files the retention sweeper writes.
 * `list` and `read` need only the archive directory (no store); `import` puts records back
 * into the store. Files are named by path, or relative to the archive directory as `list`
 * shows them (`orders/2026-01-01.jsonl.gz`). A missing file, one that is not gzip, or a
 * corrupt line (named by its number) is exit 2 and imports nothing.
 */
export function registerArchiveCommands(program: Command, io: CliIo): void {
  const archive = program
    .command('archive')
    .description('list, read and import the archive files of expired dead letters (see --archive-dir)');

  archive
    .command('list')
    .description('archive files by queue and day, with their record counts and sizes')
    .option('--queue <name>', 'only this queue')
    .action(async (flags: { queue?: string }, command: Command) => {
      const ctx = CliContext.of(command, io);
      const remote = ctx.remote();
      // Through a server: its archive directory, files named relative to it.
      const files: { queue: string; day: string; records: number; bytes: number; name: string }[] = remote
        ? (await remote.listArchives(flags.queue === undefined ? {} : { queue: flags.queue })).map((f) => ({
            ...f,
            name: f.file,
          }))
        : (await listArchiveFiles(ctx.archiveDir, flags.queue)).map((f) => ({
            ...f,
            name: relative(ctx.archiveDir, f.path),
          }));
      const where = remote ? 'the server' : ctx.archiveDir;
      if (ctx.json) return ctx.printJson(files.map(({ name: _name, ...file }) => file));
      if (files.length === 0) return ctx.print(`no archive files in ${where}`);
      ctx.print(
        formatTable(
          [
            { header: 'QUEUE' },
            { header: 'DAY' },
            { header: 'RECORDS', align: 'right' },
            { header: 'SIZE', align: 'right' },
            { header: 'FILE' },
          ],
          files.map((file) => [
            file.queue,
            file.day,
            String(file.records),
            formatBytes(file.bytes),
            file.name,
          ]),
        ),
      );
      const records = files.reduce((sum, file) => sum + file.records, 0);
      ctx.print(`\n${files.length} files, ${records} records in ${where}`);
    });

  archive
    .command('read')
    .description('print the records of an archive file (with --json: one JSON record per line)')
    .argument('<file>', 'a path, or a file as `dlq archive list` names it (orders/2026-01-01.jsonl.gz)')
    .option('--limit <n>', 'at most this many records (default: all)')
    .action(async (file: string, flags: { limit?: string }, command: Command) => {
      const ctx = CliContext.of(command, io);
      const limit =
        flags.limit === undefined
          ? Number.POSITIVE_INFINITY
          : parseIntOption(flags.limit, '--limit', { min: 1, max: 10_000_000 });
      const remote = ctx.remote();
      const path = remote ? file : locateArchiveFile(file, ctx.archiveDir, ctx.cwd);
      const records = remote
        ? (remote.readArchive(file, Math.min(limit, 1000)) as AsyncGenerator<ArchiveRecord>)
        : readArchiveFile(path);
      const rows: string[][] = [];
      let count = 0;
      for await (const { line: _line, ...record } of records as AsyncGenerator<
        ArchiveRecord & { line?: number }
      >) {
        if (count >= limit) break;
        count++;
        // JSON lines, streamed: a large archive is never held in memory.
        if (ctx.json) writeLine(io.stdout, JSON.stringify(record));
        else {
          rows.push([
            record.id,
            record.state,
            record.queue,
            record.tier,
            record.groupId,
            formatTime(record.diedAt),
            errorLine(record.error, 60),
          ]);
        }
      }
      if (ctx.json) return;
      if (rows.length === 0) return ctx.print(`${path} holds no records`);
      ctx.print(
        formatTable(
          [
            { header: 'ID' },
            { header: 'STATE' },
            { header: 'QUEUE' },
            { header: 'TIER' },
            { header: 'GROUP' },
            { header: 'DIED' },
            { header: 'ERROR' },
          ],
          rows,
        ),
      );
    });

  archive
    .command('import')
    .description('put the dead letters of an archive file back into the DLQ (ids already here are skipped)')
    .argument('<file>', 'a path, or a file as `dlq archive list` names it')
    .option('--dry-run', 'only show what would be imported and skipped; change nothing')
    .action(async (file: string, flags: { dryRun?: boolean }, command: Command) => {
      const ctx = CliContext.of(command, io);
      // Through a server the file is one of its archive files, named as `dlq archive list` shows.
      const path = ctx.server ? file : locateArchiveFile(file, ctx.archiveDir, ctx.cwd);
      const result = await ctx.withApi(async (api) => {
        const bar = progressBar(ctx, flags.dryRun ? 'checking' : 'importing');
        try {
          return await api.importArchive(path, {
            actor: ctx.actor,
            dryRun: flags.dryRun === true,
            onProgress: (done, total) => bar.update(done, total),
          });
        } finally {
          bar.stop();
        }
      });
      if (ctx.json) return ctx.printJson(result);
      ctx.print(renderImport(result));
    });
}

/** The summary of an import for people. */
export function renderImport(result: ArchiveImportResult): string {
  const verb = result.dryRun ? 'would import' : 'imported';
  const imported = result.restored + result.added + result.history;
  const skipped = Object.values(result.skipped).reduce((sum, n) => sum + n, 0);
  const lines = [
    `${result.file}: ${result.records} records of ${result.queues.join(', ') || 'no queue'}`,
    `${verb} ${imported}: ${result.restored} back from this store's archive (archived -> dead), ` +
      `${result.added} new from another deployment, ${result.history} into the replay history`,
  ];
  if (skipped > 0) {
    const reasons = Object.entries(result.skipped)
      .filter(([, n]) => n > 0)
      .map(([reason, n]) => `${n} ${SKIP_WORDS[reason as keyof typeof SKIP_WORDS]}`);
    lines.push(`skipped ${skipped}, already here: ${reasons.join(', ')}`);
    lines.push(
      `  e.g. ${result.skippedSample
        .slice(0, 5)
        .map((s) => s.id)
        .join(', ')}`,
    );
  }
  if (result.pastRetention > 0) {
    lines.push(
      `note: ${result.pastRetention} of them died longer ago than their queue's retention: the next ` +
        `retention sweep archives them again unless you raise it (dlq queue update ${result.queues.length === 1 ? result.queues[0] : '<queue>'} --retention 90d)`,
    );
  }
  if (result.dryRun) lines.push('dry run: nothing was changed');
  return lines.join('\n');
}

const SKIP_WORDS = {
  dead: 'in the DLQ',
  replayed: 'in the replay history',
  discarded: 'discarded (tombstone)',
  message: 'a message in a queue',
} as const;
