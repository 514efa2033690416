import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import Database from 'better-sqlite3';

/** What the numbers were measured on. Redis and PostgreSQL versions come from the peers' runs. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  kernel: string;
  node: string;
  sqlite: string;
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) return match[1].trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

export function describeMachine(): Machine {
  const probe = new Database(':memory:');
  const sqlite = (probe.prepare('select sqlite_version() as v').get() as { v: string }).v;
  probe.close();
  return {
    cpu: cpuModel(),
    cores: availableParallelism(),
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    kernel: `Linux ${release()}`,
    node: process.version,
    sqlite,
  };
}
