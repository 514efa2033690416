import { runChild } from '../lib/child.ts';
import { writeMarkedSection } from '../lib/marked-sections.ts';
import type { ServerLoadResult } from './load.ts';

/** The p99 every request kind must stay under (the target). */
export const SERVER_P99_TARGET_MS = 50;

/** The load check of `dlq serve` as the report sees it: its result, or why there is none. */
export interface ServerLoadOutcome {
  result?: ServerLoadResult;
  error?: string;
}

/** Runs `server/load.ts` in its own process (the `server-load` part of `npm run bench`). */
export async function runServerLoad(options: {
  deadLetters: number;
  reseed: boolean;
}): Promise<ServerLoadOutcome> {
  try {
    const result = await runChild<ServerLoadResult>('server/load.ts', [
      '--dead-letters',
      String(options.deadLetters),
      ...(options.reseed ? ['--reseed'] : []),
    ]);
    for (const run of result.runs) {
      for (const r of run.requests) {
        const cache = run.cacheTtlMs > 0 ? 'cache on' : 'cache off';
        console.log(
          `${r.name} (${cache}): p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${Math.round(r.requestsPerSecond)} req/s`,
        );
      }
    }
    return { result };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    console.log(`server load: did not finish: ${error}`);
    return { error };
  }
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const percent = (busy: number | undefined) => (busy === undefined ? '?' : `${Math.round(busy * 100)} %`);
const cpuMs = (ms: number | undefined) => (ms === undefined ? '?' : ms.toFixed(3));

/** Puts the section into `bench/RESULTS.md` (see {@link writeMarkedSection}). */
export function writeServerLoadSection(outcome: ServerLoadOutcome, date = new Date()): string {
  return writeMarkedSection('server-load', [
    ...serverLoadSection(outcome),
    `Measured ${date.toISOString().slice(0, 10)} with \`node --import tsx server/load.ts --write\` (from \`bench/\`).`,
  ]);
}

/** The `## Server under load` section of RESULTS.md. */
export function serverLoadSection(outcome: ServerLoadOutcome): string[] {
  const out = ['## Server under load', ''];
  const r = outcome.result;
  if (!r) return [...out, `Did not finish: ${outcome.error ?? 'no result'}.`, ''];
  out.push(
    `\`dlq serve\` (its own process, the real binary) on a copy of the read path's SQLite store ` +
      `(${int(r.seed.deadLetters)} dead letters, ${r.seed.groups} groups, ${r.seed.queues} queues), ` +
      `${r.connections} concurrent keep-alive clients (autocannon, on the same machine) for ` +
      `${r.durationSeconds} s per request kind, with a viewer token, while a worker process on the same file ` +
      `dead-lettered ${Math.round(r.writer.deadLettersPerSecond)} messages/s throughout ` +
      `(${int(r.writer.deadLettered)} in all; ${int(r.deadLettersAtEnd)} dead letters at the end). ` +
      'Everything (server, writer, autocannon) shares the machine’s cores; the CPU column is the ' +
      'whole machine during each request kind, so other work on a shared machine shows there. ' +
      'Each request kind is asked for 2 s untimed first (a running server is warm). ' +
      '“Server CPU” is the server process’s own CPU time per answered request (user + system, ' +
      'from /proc), which other work on the machine moves much less than the latencies; ' +
      '1,000 divided by it is the requests one core could answer per second.',
    '',
  );
  for (const run of r.runs) {
    out.push(
      (run.cacheTtlMs > 0
        ? `**With the response cache** (the default: identical list and stats GETs share one answer for ${run.cacheTtlMs} ms, ` +
          'a change through the API clears it; 50 clients asking the same question are mostly answered from it). '
        : '**Without the response cache** (`--cache-ttl 0`: every request runs its own query). ') +
        `The machine was ${percent(run.busyBefore)} busy before the run.`,
      '',
      `| request | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | errors | CPU busy | server CPU ms/req | answer bytes | p99 < ${SERVER_P99_TARGET_MS} ms |`,
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    );
    for (const q of run.requests) {
      out.push(
        `| ${q.name} (\`${q.path}\`) | ${int(q.requestsPerSecond)} | ${q.p50Ms} | ${q.p90Ms} | ${q.p99Ms} | ${q.maxMs} | ` +
          `${q.non2xx} | ${q.errors} | ${percent(q.busy)} | ${cpuMs(q.serverCpuMsPerRequest)} | ` +
          `${q.responseBytes === undefined ? '?' : int(q.responseBytes)} | ${q.p99Ms < SERVER_P99_TARGET_MS ? 'yes' : '**no**'} |`,
      );
    }
    out.push('');
  }
  return out;
}
