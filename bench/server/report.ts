import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runChild } from '../lib/child.ts';
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

const START = '<!-- server-load:start -->';
const END = '<!-- server-load:end -->';

/**
 * Puts the section into `bench/RESULTS.md` between its markers (replacing the previous one, or
 * appended), leaving the other sections alone: what `server/load.ts --write` does when the
 * check runs by itself rather than within `npm run bench`.
 */
export function writeServerLoadSection(outcome: ServerLoadOutcome, date = new Date()): string {
  const file = fileURLToPath(new URL('../RESULTS.md', import.meta.url));
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const section = [
    START,
    ...serverLoadSection(outcome),
    `Measured ${date.toISOString().slice(0, 10)} with \`node --import tsx server/load.ts --write\` (from \`bench/\`).`,
    END,
  ].join('\n');
  const from = current.indexOf(START);
  const to = current.indexOf(END);
  const next =
    from >= 0 && to > from
      ? current.slice(0, from) + section + current.slice(to + END.length)
      : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
  return file;
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
