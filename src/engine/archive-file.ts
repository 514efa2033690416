import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, createGzip, type Gzip } from 'node:zlib';
import {
  type ArchiveRecord,
  archiveFileName,
  dayOfArchiveFile,
  parseArchiveLine,
} from '../core/archive-record.ts';
import { NotFoundError, ValidationError } from '../core/errors.ts';

/**
 * Archive files on disk: gzip-compressed JSON lines, one file per queue and UTC day,
 * `<archiveDir>/<queue>/<YYYY-MM-DD>.jsonl.gz`. Files are never changed in place: a new
 * version is written to a temporary file in the same directory, fsynced, renamed over the old
 * one and the directory fsynced, so a crash leaves either the old file or the new one.
 */

/** The path of a queue's archive file for a day. */
export function archiveFilePath(archiveDir: string, queue: string, day: string): string {
  return join(archiveDir, queue, archiveFileName(day));
}

/**
 * The file an archive command means: an absolute path as it is; a relative path that exists
 * from `cwd`; else a name relative to the archive directory (`orders/2026-01-01.jsonl.gz`, as
 * `dlq archive list` shows it, with or without `.jsonl.gz`). A file found nowhere resolves
 * against `cwd`, where reading it reports it missing.
 */
export function locateArchiveFile(file: string, archiveDir: string, cwd = process.cwd()): string {
  if (isAbsolute(file)) return file;
  const local = resolve(cwd, file);
  if (existsSync(local)) return local;
  for (const candidate of [resolve(archiveDir, file), resolve(archiveDir, `${file}.jsonl.gz`)]) {
    if (existsSync(candidate)) return candidate;
  }
  return local;
}

/** Temporary files of interrupted writes: `.<name>.<pid>-<random>.tmp`, removed by the next sweep. */
const TEMP_FILE = /^\..+\.\d+-[0-9a-f]+\.tmp$/;

/** Turns a file-system or zlib error on `path` into Deadletter's typed errors where it is the caller's input. */
function readError(path: string, error: unknown): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return new NotFoundError(`no archive file at ${path}`, { cause: error });
  if (code === 'EISDIR')
    return new ValidationError(`${path} is a directory, not an archive file`, { cause: error });
  if (code === 'Z_DATA_ERROR') {
    return new ValidationError(`${path} is not a gzip file (or is corrupt): ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (code === 'Z_BUF_ERROR' || (error as Error | null)?.message === 'unexpected end of file') {
    return new ValidationError(`${path} is empty or truncated: the gzip stream ends early`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * The lines of a gzip file, with their 1-based numbers, streamed (a large archive is never
 * held in memory). Empty lines are skipped. Throws `NotFoundError` for a missing file and
 * `ValidationError` for one that is not gzip or is truncated.
 */
export async function* readGzipLines(path: string): AsyncGenerator<{ line: number; text: string }> {
  const gunzip = createGunzip();
  const source = createReadStream(path);
  const piping = pipeline(source, gunzip).catch((error: unknown) => {
    gunzip.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let line = 0;
  try {
    for await (const chunk of gunzip) {
      pending += decoder.write(chunk as Buffer);
      let at = pending.indexOf('\n');
      while (at >= 0) {
        line++;
        const text = pending.slice(0, at);
        pending = pending.slice(at + 1);
        if (text.trim() !== '') yield { line, text };
        at = pending.indexOf('\n');
      }
    }
    pending += decoder.end();
    if (pending.trim() !== '') yield { line: line + 1, text: pending };
  } catch (error) {
    throw readError(path, error);
  } finally {
    source.destroy();
    gunzip.destroy();
    await piping;
  }
}

/** The records of an archive file, checked line by line; a bad line throws `ValidationError` naming the file and line. */
export async function* readArchiveFile(path: string): AsyncGenerator<ArchiveRecord & { line: number }> {
  for await (const { line, text } of readGzipLines(path)) {
    try {
      yield { ...parseArchiveLine(text, line), line };
    } catch (error) {
      if (error instanceof ValidationError) throw new ValidationError(`${path}: ${error.message}`);
      throw error;
    }
  }
}

/** The archiveId of an archive file (its first record's), or undefined when the file does not exist. */
export async function archiveIdOf(path: string): Promise<string | undefined> {
  try {
    for await (const { text, line } of readGzipLines(path)) return parseArchiveLine(text, line).archiveId;
    return undefined;
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw new Error(
      `archive file ${path} is corrupt (${(error as Error).message}): move it away or repair it`,
      {
        cause: error,
      },
    );
  }
}

/** Fsyncs a directory, so that a file created or renamed in it survives a power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // Some platforms cannot open or fsync a directory (Windows); there is nothing more to do there.
    const code = (error as { code?: unknown }).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL') throw error;
  } finally {
    await handle?.close();
  }
}

/** Creates a directory and its missing parents, fsyncing each parent that gained an entry. */
export async function ensureDirectory(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let current = dir; ; current = dirname(current)) {
    await syncDirectory(dirname(current));
    if (current === first || dirname(current) === current) return;
  }
}

/** Removes the temporary files that interrupted writes left in a directory; returns their names. */
export async function removeTempFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return [];
    throw error;
  }
  const stale = names.filter((name) => TEMP_FILE.test(name));
  for (const name of stale) await rm(join(dir, name), { force: true });
  return stale;
}

/** Characters of lines collected before they go to gzip. */
const CHUNK = 64 * 1024;

/**
 * Writes a new version of a gzip file: lines go through gzip into a temporary file beside the
 * target; `commit` fsyncs it, renames it over the target and fsyncs the directory; `abort`
 * removes it. The target is untouched until the rename.
 */
export class GzipFileWriter {
  readonly target: string;
  readonly tempPath: string;
  private readonly handle: FileHandle;
  private readonly gzip: Gzip;
  private readonly flowing: Promise<void>;
  private failure: Error | undefined;
  private lines = 0;
  private pending = '';

  private constructor(target: string, tempPath: string, handle: FileHandle) {
    this.target = target;
    this.tempPath = tempPath;
    this.handle = handle;
    this.gzip = createGzip();
    this.flowing = pipeline(this.gzip, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) await this.handle.write(chunk);
    }).catch((error: unknown) => {
      this.failure = error instanceof Error ? error : new Error(String(error));
    });
  }

  /** Opens a temporary file in the target's directory (created if missing). */
  static async open(target: string): Promise<GzipFileWriter> {
    const dir = dirname(target);
    await ensureDirectory(dir);
    const name = `.${target.slice(dir.length + 1)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
    const tempPath = join(dir, name);
    return new GzipFileWriter(target, tempPath, await open(tempPath, 'wx'));
  }

  /** Lines written so far. */
  get count(): number {
    return this.lines;
  }

  /**
   * Appends one line (a newline is added). Lines are handed to gzip in chunks of about 64 KiB
   * (one small write per line would cost a compression call each), waiting when its buffer is full.
   */
  async writeLine(text: string): Promise<void> {
    if (this.failure) throw this.failure;
    this.lines++;
    this.pending += `${text}\n`;
    if (this.pending.length >= CHUNK) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunk = this.pending;
    this.pending = '';
    if (!this.gzip.write(chunk)) {
      await new Promise<void>((resolve) => {
        this.gzip.once('drain', resolve);
        void this.flowing.then(resolve);
      });
    }
    if (this.failure) throw this.failure;
  }

  /** Ends the gzip stream, fsyncs and closes the temporary file. Then call `publish`. */
  async finish(): Promise<void> {
    await this.flush();
    this.gzip.end();
    await this.flowing;
    if (this.failure) {
      await this.abort();
      throw this.failure;
    }
    await this.handle.sync();
    await this.handle.close();
  }

  /** Renames the finished temporary file over the target and fsyncs the directory. */
  async publish(): Promise<void> {
    await rename(this.tempPath, this.target);
    await syncDirectory(dirname(this.target));
  }

  /** Drops the temporary file; the target is left as it was. */
  async abort(): Promise<void> {
    this.gzip.destroy();
    await this.flowing;
    await this.handle.close().catch(() => undefined);
    await rm(this.tempPath, { force: true });
  }
}

/** One archive file as `dlq archive list` shows it. */
export interface ArchiveFileInfo {
  queue: string;
  day: string;
  /** Absolute path. */
  path: string;
  bytes: number;
  /** Records in the file (counted by reading it). */
  records: number;
}

/**
 * The archive files under `archiveDir`, by queue then day; only `queue` when given. Records
 * are counted by reading each file (gzip is streamed; nothing is cached that could go stale).
 * A missing archive directory holds no files.
 */
export async function listArchiveFiles(archiveDir: string, queue?: string): Promise<ArchiveFileInfo[]> {
  let queues: string[];
  try {
    const entries = await readdir(archiveDir, { withFileTypes: true });
    queues = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return [];
    throw error;
  }
  const files: ArchiveFileInfo[] = [];
  for (const name of queues.sort()) {
    if (queue !== undefined && name !== queue) continue;
    const dir = join(archiveDir, name);
    for (const file of (await readdir(dir)).sort()) {
      const day = dayOfArchiveFile(file);
      if (day === undefined) continue;
      const path = join(dir, file);
      let records = 0;
      for await (const _ of readGzipLines(path)) records++;
      files.push({ queue: name, day, path, bytes: (await stat(path)).size, records });
    }
  }
  return files;
}
