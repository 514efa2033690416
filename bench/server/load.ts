/**
 * The server's load check: `dlq serve` (the real binary, its own process) on SQLite with the
 * read path's seeded DLQ (1,000,000 dead letters over 200 groups and 10 queues, copied so the
 * cached seed stays as it was), answering list and group requests to 50 concurrent clients
 * (autocannon, keep-alive connections) while a worker process keeps writing dead letters into
 * the same file. Target: p99 < 50 ms for each request. Options: `--dead-letters N`, `--reseed`,
 * `--duration S` (per request kind, default 15), `--connections N` (default 50), `--rate N`
 * (messages/s the writer dead-letters, default 200), `--no-cache` (turn the server's 1-second
 * response cache off, to time every request's own query), `--write` (put the section into
 * bench/RESULTS.md between its markers, leaving the rest of the file alone).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { constants, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createApiToken } from '../../src/engine/api-tokens.ts';
import { openStore } from '../../src/index.ts';
import { childMain, log } from '../lib/child.ts';
import { machineBusy, waitForQuiet } from '../lib/cpu.ts';
import { QUEUES } from '../read-path/catalog.ts';
import { ensureSeed, type SeedDescription } from '../read-path/seed.ts';
import { writeServerLoadSection } from './report.ts';
import type { WriterResult } from './writer.ts';

/** One request kind under load. */
export interface ServerLoadRequest {
  name: string;
  path: string;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Responses other than 2xx, and connection errors or timeouts: both must be 0. */
  non2xx: number;
  errors: number;
  /** Fraction of the machine's CPU busy during the run (server, writer and autocannon included). */
  busy: number | undefined;
}

export interface ServerLoadResult {
  seed: SeedDescription;
  /** The server's response cache time-to-live (0: off, `--no-cache`). */
  cacheTtlMs: number;
  /** Fraction of the CPU busy with other work before the check started. */
  busyBefore: number | undefined;
  connections: number;
  durationSeconds: number;
  requests: ServerLoadRequest[];
  writer: WriterResult;
  /** Dead letters in the store when the check ended (the seed plus what the writer added). */
  deadLettersAtEnd: number;
}

const RESULT_MARKER = '@@bench-result ';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BENCH = fileURLToPath(new URL('../', import.meta.url));

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at > 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} needs a positive whole number`);
  return value;
}

/** Spawns a process with piped output; `lines` collects its stdout. */
function start(
  command: string[],
  cwd: string,
): { child: ChildProcess; stdout: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, command, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    out += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, exited };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<ServerLoadResult> {
  const deadLetters = option('--dead-letters', 1_000_000);
  const duration = option('--duration', 15);
  const connections = option('--connections', 50);
  const rate = option('--rate', 200);
  const cacheTtlMs = process.argv.includes('--no-cache') ? 0 : 1_000;
  const seed = await ensureSeed(deadLetters, process.argv.includes('--reseed'));

  const dir = mkdtempSync(join(tmpdir(), 'deadletter-server-load-'));
  const file = join(dir, 'load.db');
  try {
    log(`server load: copying the seeded store (${seed.fileMb} MB)`);
    copyFileSync(seed.file, file, constants.COPYFILE_FICLONE);
    const storeUrl = `sqlite:${file}`;
    const store = await openStore(storeUrl);
    const { secret } = await createApiToken(store, {
      name: 'bench',
      role: 'viewer',
      actor: 'bench',
      now: Date.now(),
    });
    await store.close();

    const server = start(
      [
        'bin/dlq.js',
        'serve',
        '--store',
        storeUrl,
        '--port',
        '0',
        '--no-demo',
        '--json',
        '--log-level',
        'warn',
        '--cache-ttl',
        `${cacheTtlMs}ms`,
      ],
      ROOT,
    );
    const url = await waitFor(
      'dlq serve to listen',
      () => /"url": "(http:\/\/[^"]+)"/.exec(server.stdout())?.[1],
      120_000,
    );
    log(`server load: dlq serve on ${url}`);
    const writer = start(
      ['--import', 'tsx', 'server/writer.ts', '--store', storeUrl, '--rate', String(rate)],
      BENCH,
    );
    const headers = { authorization: `Bearer ${secret}` };
    try {
      const groups = (await (await fetch(`${url}/api/groups?limit=20`, { headers })).json()) as {
        groups: { id: string }[];
      };
      const group = groups.groups[groups.groups.length - 1]?.id ?? '';
      const deep = (await (await fetch(`${url}/api/dead-letters?limit=1000`, { headers })).json()) as {
        nextCursor: string;
      };
      const kinds: { name: string; path: string }[] = [
        { name: 'list, newest page', path: '/api/dead-letters?limit=50' },
        { name: 'list, one queue', path: `/api/dead-letters?queue=${QUEUES[2]}&limit=50` },
        { name: 'list, one group', path: `/api/dead-letters?group=${group}&limit=50` },
        {
          name: 'list, tier and time range',
          path: '/api/dead-letters?tier=transient&since=7d&until=1d&limit=50',
        },
        { name: 'list, next page (cursor)', path: `/api/dead-letters?limit=50&cursor=${deep.nextCursor}` },
        { name: 'groups, by count', path: '/api/groups?limit=50' },
        { name: 'groups, one queue, new', path: `/api/groups?queue=${QUEUES[0]}&status=new&limit=50` },
        { name: 'one dead letter', path: `/api/dead-letters/${(await firstId(url, headers)) ?? 'none'}` },
      ];
      const requests: ServerLoadRequest[] = [];
      const busyBefore = await waitForQuiet(0.3, 120_000, (busy) =>
        log(
          `server load: waiting for a quiet machine: ${Math.round(busy * 100)} % of the CPU busy with other work`,
        ),
      );
      for (const kind of kinds) {
        log(`server load: ${kind.name}: ${connections} connections for ${duration}s`);
        const busy = machineBusy(duration * 1000 - 500);
        const result = await autocannon({
          url: url + kind.path,
          connections,
          duration,
          headers,
          timeout: 10,
        });
        requests.push({
          name: kind.name,
          path: kind.path
            .replace(/cursor=[^&]+/, 'cursor=…')
            .replace(/dead-letters\/[0-9a-f-]{36}/, 'dead-letters/:id'),
          requests: result.requests.total,
          requestsPerSecond: result.requests.average,
          p50Ms: result.latency.p50,
          p90Ms: result.latency.p90,
          p99Ms: result.latency.p99,
          maxMs: result.latency.max,
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
          busy: await busy,
        });
        log(
          `  p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${Math.round(result.requests.average)} req/s`,
        );
      }
      writer.child.kill('SIGTERM');
      await writer.exited;
      const writerLine = writer
        .stdout()
        .split('\n')
        .find((line) => line.startsWith(RESULT_MARKER));
      if (!writerLine) throw new Error('the writer ended without a result');
      const writerResult = JSON.parse(writerLine.slice(RESULT_MARKER.length)) as WriterResult;
      const stats = (await (await fetch(`${url}/api/stats`, { headers })).json()) as {
        queues: { dead: number }[];
      };
      return {
        seed,
        cacheTtlMs,
        busyBefore,
        connections,
        durationSeconds: duration,
        requests,
        writer: writerResult,
        deadLettersAtEnd: stats.queues.reduce((sum, q) => sum + q.dead, 0),
      };
    } finally {
      writer.child.kill('SIGTERM');
      server.child.kill('SIGTERM');
      await Promise.all([writer.exited, server.exited]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function firstId(url: string, headers: Record<string, string>): Promise<string | undefined> {
  const page = (await (
    await fetch(`${url}/api/dead-letters?limit=1&queue=${QUEUES[1]}`, { headers })
  ).json()) as {
    items: { id: string }[];
  };
  return page.items[0]?.id;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  childMain(async () => {
    const result = await main();
    if (process.argv.includes('--write'))
      log(`server load: written to ${writeServerLoadSection({ result })}`);
    return result;
  });
}
