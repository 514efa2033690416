import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runChild } from '../lib/child.ts';
import { machineBusy } from '../lib/cpu.ts';
import type { ReplayBenchResult } from './replay-bench.ts';

/** The issue's target for replay throughput, in dead letters per second. */
export const REPLAY_TARGET_PER_SECOND = 20_000;
/** Amazon SQS's dead-letter-queue redrive, for comparison: at most this many messages/s. */
const SQS_REDRIVE_PER_SECOND = 500;

/** The replay part as the report sees it: its result, how busy the machine was, or why there is none. */
export interface ReplayOutcome {
  result?: ReplayBenchResult;
  busyBefore?: number | undefined;
  error?: string;
}

/** Runs `replay/replay-bench.ts` in its own process (the `replay` part of `npm run bench`). */
export async function runReplayBench(options: {
  deadLetters: number;
  reseed: boolean;
  quiet: () => Promise<number | undefined>;
}): Promise<ReplayOutcome> {
  try {
    // The seed is built (or found) first, so that waiting for a quiet machine is not spent seeding.
    await runChild('read-path/seed.ts', [
      '--dead-letters',
      String(options.deadLetters),
      ...(options.reseed ? ['--reseed'] : []),
    ]);
    const busyBefore = (await options.quiet()) ?? (await machineBusy());
    const result = await runChild<ReplayBenchResult>('replay/replay-bench.ts', [
      '--dead-letters',
      String(options.deadLetters),
    ]);
    const verdict =
      result.problems.length === 0 ? 'end state correct' : `WRONG: ${result.problems.join('; ')}`;
    console.log(
      `replay: ${Math.round(result.deadLettersPerSecond)} dead letters/s, peak RSS ${result.peakRssMb} MB, ${verdict}`,
    );
    return { result, busyBefore: busyBefore ?? result.busyBefore };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    console.log(`replay: did not finish: ${error}`);
    return { error };
  }
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const percent = (busy: number | undefined) => (busy === undefined ? '?' : `${Math.round(busy * 100)} %`);

const START = '<!-- replay:start -->';
const END = '<!-- replay:end -->';

/**
 * Puts the section into `bench/RESULTS.md` between its markers (replacing the previous one, or
 * appended), leaving the other sections alone: what `replay/replay-bench.ts --write` does when
 * it runs by itself rather than within `npm run bench`.
 */
export function writeReplaySection(outcome: ReplayOutcome, date = new Date()): string {
  const file = fileURLToPath(new URL('../RESULTS.md', import.meta.url));
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const section = [
    START,
    ...replaySection(outcome),
    `Measured ${date.toISOString().slice(0, 10)} with \`node --import tsx replay/replay-bench.ts --write\` (from \`bench/\`).`,
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

/** The `## Replay throughput` section of RESULTS.md. */
export function replaySection(outcome: ReplayOutcome): string[] {
  const out = ['## Replay throughput', ''];
  const r = outcome.result;
  if (!r) return [...out, `Did not finish: ${outcome.error ?? 'no result'}.`, ''];
  const met = r.deadLettersPerSecond >= REPLAY_TARGET_PER_SECOND && r.problems.length === 0;
  out.push(
    `Every dead letter of a copy of the read path's store (${int(r.deadLetters)} dead letters with their ` +
      'whole context, 10 queues) replayed back to its source queue as one job through ' +
      `\`Deadletter.replay\` (foreground, no rate limit, batches of ${int(r.batchSize)}): each batch is one ` +
      'transaction that sends the new messages, moves the dead letters to the replay history and ' +
      "advances the job's position. Then the end state is checked: the job completed, the DLQ is " +
      'empty, and every dead letter has exactly one new message.',
    '',
    `The machine was ${percent(outcome.busyBefore ?? r.busyBefore)} busy with other work before the run.`,
    '',
    '| dead letters/s (job) | end to end (with the dry run) | job seconds | dry run seconds | CPU seconds | peak RSS | end state |',
    '|---:|---:|---:|---:|---:|---:|---|',
    `| ${int(r.deadLettersPerSecond)} | ${int(r.endToEndPerSecond)} | ${r.jobSeconds.toFixed(1)} | ` +
      `${r.dryRunSeconds.toFixed(1)} | ${r.cpuSeconds.toFixed(1)} | ${r.peakRssMb} MB | ` +
      `${r.problems.length === 0 ? 'correct' : `**${r.problems.join('; ')}**`} |`,
    '',
    `Target ≥ ${int(REPLAY_TARGET_PER_SECOND)} dead letters/s: ${met ? 'yes' : '**no**'} ` +
      `(for comparison, Amazon SQS redrive moves at most ${SQS_REDRIVE_PER_SECOND} messages/s). ` +
      `CPU-bound, the run would reach ${int(r.deadLetters / Math.max(r.cpuSeconds, 0.001))} dead letters/s ` +
      '(dead letters per CPU second of the process).',
    '',
  );
  return out;
}
