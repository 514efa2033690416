import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A path for a new SQLite file in the OS temp directory (the file is not created). */
export function tempDbPath(prefix = 'deadletter-test'): string {
  return join(tmpdir(), `${prefix}-${process.pid}-${randomBytes(6).toString('hex')}.db`);
}

/** Deletes a SQLite file and its WAL companions; missing files are fine. */
export async function removeDb(path: string): Promise<void> {
  await Promise.all(
    [path, `${path}-wal`, `${path}-shm`, `${path}-journal`].map((p) => rm(p, { force: true })),
  );
}
