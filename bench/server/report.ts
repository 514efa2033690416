import { runChild } from '../lib/child.ts';
import { SERVER_P99_TARGET_MS, type ServerLoadResult } from './load.ts';

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
    for (const r of result.requests)
      console.log(
        `${r.name}: p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${Math.round(r.requestsPerSecond)} req/s`,
      );
    return { result };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    console.log(`server load: did not finish: ${error}`);
    return { error };
  }
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const percent = (busy: number | undefined) => (busy === undefined ? '?' : `${Math.round(busy * 100)} %`);

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
      `dead-lettered ${Math.round(r.writer.deadLettersPerSecond)} messages/s ` +
      `(${int(r.writer.deadLettered)} during the check). ` +
      (r.cacheTtlMs > 0
        ? `The server's response cache was on (identical list GETs share one answer for ${r.cacheTtlMs} ms; ` +
          'a change through the API clears it): with 50 clients asking the same question it is mostly hits.'
        : 'The response cache was off (`--no-cache`): every request ran its own query.'),
    '',
    `The machine was ${percent(r.busyBefore)} busy with other work before the check.`,
    '',
    `| request | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | errors | CPU busy | p99 < ${SERVER_P99_TARGET_MS} ms |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  );
  for (const q of r.requests) {
    out.push(
      `| ${q.name} (\`${q.path}\`) | ${int(q.requestsPerSecond)} | ${q.p50Ms} | ${q.p90Ms} | ${q.p99Ms} | ${q.maxMs} | ` +
        `${q.non2xx} | ${q.errors} | ${percent(q.busy)} | ${q.p99Ms < SERVER_P99_TARGET_MS ? 'yes' : '**no**'} |`,
    );
  }
  out.push('');
  return out;
}
