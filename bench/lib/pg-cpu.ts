import { readFileSync } from 'node:fs';
import pg from 'pg';

/**
 * CPU time of the PostgreSQL backends that serve one system under test. PostgreSQL runs one
 * process per connection; each system's connections carry an `application_name` of their own,
 * so its backends are found in `pg_stat_activity` and their CPU time read from `/proc` (the
 * server runs on this machine). Other work on the same server is not counted, which makes
 * "CPU per message" comparable on a shared machine where wall time is not.
 *
 * A backend that closed between two snapshots is missed (the pools here keep their
 * connections for 30 s idle or more, longer than the gap between a run's last send and its end).
 */
export const POSTGRES_URL =
  process.env.DEADLETTER_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) of process `pid` so far, or undefined if it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: count fields after its end.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** CPU seconds of each backend whose `application_name` is `name`, by process id. */
export async function backendCpu(name: string): Promise<Map<number, number>> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
      [name],
    );
    const out = new Map<number, number>();
    for (const { pid } of rows) {
      const seconds = processCpuSeconds(pid);
      if (seconds !== undefined) out.set(pid, seconds);
    }
    return out;
  } finally {
    await client.end();
  }
}

/** CPU seconds the backends of `after` used since `before` (a backend new since then counts whole). */
export function cpuSince(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/** Drops a schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** The server's version, e.g. `15.20 (Debian 15.20-0+deb12u1)`. */
export async function serverVersion(): Promise<string> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? 'unknown';
  } finally {
    await client.end();
  }
}
