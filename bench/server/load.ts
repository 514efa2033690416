/**
 * The server's load check: `dlq serve` (the real binary, its own process) on SQLite with the
 * read path's seeded DLQ (1,000,000 dead letters over 200 groups and 10 queues, copied so the
 * cached seed stays as it was), answering list and group requests to 50 concurrent clients
 * (autocannon, keep-alive connections) while a worker process keeps writing dead letters into
 * the same file. Target: p99 < 50 ms for each request. Options: `--dead-letters N`, `--reseed`,
 * `--duration S` (per request kind, default 15), `--connections N` (default 50), `--rate N`
 * (messages/s the writer dead-letters, default 200), `--no-cache` (turn the server's 1-second
 * response cache off, to time every request's own query), `--write` (put the section into
 * bench/RESULTS.md between its markers, leaving the rest of the file alone), `--server-root DIR`
 * (run `dlq serve` from another checkout of Deadletter at the same schema, e.g. the commit
 * before a change, to compare on the same machine back to back; it does not write).
 *
 * Each request kind is first asked for 2 s untimed (a long-running server is warm: compiled
 * code, SQLite's page cache), then timed. The server's own CPU time per request (from
 * /proc/<pid>/stat) is reported beside the latencies: on a machine shared with other work the
 * latencies move with that work, the CPU cost of a request much less.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { constants, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createApiToken } from '../../src/engine/api-tokens.ts';
import { openStore } from '../../src/index.ts';
import { childMain, isEntryScript, log } from '../lib/child.ts';
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
  /** CPU time (user + system) of the server process per answered request, in ms; undefined off Linux. */
  serverCpuMsPerRequest: number | undefined;
  /** Size of one answer, in bytes. */
  responseBytes: number;
}

export interface ServerLoadResult {
  seed: SeedDescription;
  connections: number;
  durationSeconds: number;
  /** Without the response cache first (every request runs its query), then with it. */
  runs: ServerLoadRun[];
  writer: WriterResult;
  /** Dead letters in the store when the check ended (the seed plus what the writer added). */
  deadLettersAtEnd: number;
  /** The checkout `dlq serve` ran from, when not this one (`--server-root`). */
  serverRoot?: string;
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

/** One run of every request kind against one `dlq serve` process. */
export interface ServerLoadRun {
  /** The server's response cache time-to-live: 0 (off, every request runs its query) or 1000 ms. */
  cacheTtlMs: number;
  /** Fraction of the CPU busy (writer included) just before the run. */
  busyBefore: number | undefined;
  requests: ServerLoadRequest[];
}

/** CPU time (user + system) a process has used so far, in ms, from /proc; undefined off Linux. */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command name (in parentheses): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** Starts `dlq serve` on the store and resolves with it and its URL once it listens. */
async function startServer(storeUrl: string, cacheTtlMs: number, root = ROOT) {
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
    root,
  );
  const url = await waitFor(
    'dlq serve to listen',
    () => /"url": "(http:\/\/[^"]+)"/.exec(server.stdout())?.[1],
    120_000,
  );
  log(`server load: dlq serve on ${url}, response cache ${cacheTtlMs > 0 ? `${cacheTtlMs} ms` : 'off'}`);
  return { ...server, url };
}

/** The request kinds: the lists and group views a dashboard and the CLI ask for. */
async function requestKinds(
  url: string,
  headers: Record<string, string>,
): Promise<{ name: string; path: string }[]> {
  const groups = (await (await fetch(`${url}/api/groups?limit=20`, { headers })).json()) as {
    groups: { id: string }[];
  };
  const group = groups.groups[groups.groups.length - 1]?.id ?? '';
  const deep = (await (await fetch(`${url}/api/dead-letters?limit=1000`, { headers })).json()) as {
    nextCursor: string;
  };
  return [
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
    // The list's items before they were briefs (whole summaries: stacks, fingerprints), for comparison.
    { name: 'list, newest page, whole summaries', path: '/api/dead-letters?limit=50&fields=full' },
  ];
}

async function measure(
  url: string,
  headers: Record<string, string>,
  options: { connections: number; duration: number; serverPid: number | undefined },
): Promise<ServerLoadRequest[]> {
  const requests: ServerLoadRequest[] = [];
  const kinds = await requestKinds(url, headers);
  for (const kind of kinds) {
    await autocannon({ url: url + kind.path, connections: options.connections, duration: 2, headers });
  }
  for (const kind of kinds) {
    const responseBytes = Buffer.byteLength(await (await fetch(url + kind.path, { headers })).text());
    log(`server load: ${kind.name}: ${options.connections} connections for ${options.duration}s`);
    const busy = machineBusy(options.duration * 1000 - 500);
    const cpuBefore = processCpuMs(options.serverPid);
    const result = await autocannon({
      url: url + kind.path,
      connections: options.connections,
      duration: options.duration,
      headers,
      timeout: 10,
    });
    const cpuAfter = processCpuMs(options.serverPid);
    const answered = result.requests.total;
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
      serverCpuMsPerRequest:
        cpuBefore === undefined || cpuAfter === undefined || answered === 0
          ? undefined
          : (cpuAfter - cpuBefore) / answered,
      responseBytes,
    });
    const cpu = requests.at(-1)?.serverCpuMsPerRequest;
    log(
      `  p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${Math.round(result.requests.average)} req/s` +
        (cpu === undefined ? '' : `, server CPU ${cpu.toFixed(3)} ms/request`),
    );
  }
  return requests;
}

async function main(): Promise<ServerLoadResult> {
  const deadLetters = option('--dead-letters', 1_000_000);
  const duration = option('--duration', 15);
  const connections = option('--connections', 50);
  const rate = option('--rate', 200);
  const modes = process.argv.includes('--no-cache') ? [0] : [0, 1_000];
  const rootAt = process.argv.indexOf('--server-root');
  const serverRoot = rootAt > 0 ? process.argv[rootAt + 1] : undefined;
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
    const headers = { authorization: `Bearer ${secret}` };

    const writer = start(
      ['--import', 'tsx', 'server/writer.ts', '--store', storeUrl, '--rate', String(rate)],
      BENCH,
    );
    const runs: ServerLoadRun[] = [];
    let deadLettersAtEnd = 0;
    try {
      for (const cacheTtlMs of modes) {
        const server = await startServer(storeUrl, cacheTtlMs, serverRoot);
        try {
          const busyBefore = await waitForQuiet(0.3, 120_000, (busy) =>
            log(`server load: waiting for a quiet machine: ${Math.round(busy * 100)} % of the CPU busy`),
          );
          runs.push({
            cacheTtlMs,
            busyBefore,
            requests: await measure(server.url, headers, {
              connections,
              duration,
              serverPid: server.child.pid,
            }),
          });
          const stats = (await (await fetch(`${server.url}/api/stats`, { headers })).json()) as {
            queues: { dead: number }[];
          };
          deadLettersAtEnd = stats.queues.reduce((sum, q) => sum + q.dead, 0);
        } finally {
          server.child.kill('SIGTERM');
          await server.exited;
        }
      }
      writer.child.kill('SIGTERM');
      await writer.exited;
      const writerLine = writer
        .stdout()
        .split('\n')
        .find((line) => line.startsWith(RESULT_MARKER));
      if (!writerLine) throw new Error('the writer ended without a result');
      const writerResult = JSON.parse(writerLine.slice(RESULT_MARKER.length)) as WriterResult;
      return {
        seed,
        connections,
        durationSeconds: duration,
        runs,
        writer: writerResult,
        deadLettersAtEnd,
        ...(serverRoot !== undefined && { serverRoot }),
      };
    } finally {
      writer.child.kill('SIGTERM');
      await writer.exited;
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

if (isEntryScript(import.meta.url)) {
  childMain(async () => {
    const result = await main();
    if (process.argv.includes('--write') && result.serverRoot === undefined)
      log(`server load: written to ${writeServerLoadSection({ result })}`);
    return result;
  });
}
