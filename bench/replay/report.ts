import { runChild } from '../lib/child.ts';
import { writeMarkedSection } from '../lib/marked-sections.ts';
import type { ReplayBenchResult } from './replay-bench.ts';

/** The issue's target for replay throughput, in dead letters per second. */
export const REPLAY_TARGET_PER_SECOND = 20_000;
/** Amazon SQS's dead-letter-queue redrive, for comparison: at most this many messages/s. */
const SQS_REDRIVE_PER_SECOND = 500;

/** The replay part as the report sees it: a result per data set, how busy the machine was, or why there is none. */
export interface ReplayOutcome {
  results: ReplayBenchResult[];
  busyBefore?: number | undefined;
  error?: string;
}

/**
 * Runs `replay/replay-bench.ts` in its own process for each data set (the `replay` part of
 * `npm run bench`): the read path's dead letters, then small ones.
 */
export async function runReplayBench(options: {
  deadLetters: number;
  reseed: boolean;
  quiet: () => Promise<number | undefined>;
}): Promise<ReplayOutcome> {
  const outcome: ReplayOutcome = { results: [] };
  try {
    // The seed is built (or found) first, so that waiting for a quiet machine is not spent seeding.
    await runChild('read-path/seed.ts', [
      '--dead-letters',
      String(options.deadLetters),
      ...(options.reseed ? ['--reseed'] : []),
    ]);
    for (const data of ['read-path', 'small'] as const) {
      const busyBefore = await options.quiet();
      outcome.busyBefore ??= busyBefore;
      const result = await runChild<ReplayBenchResult>('replay/replay-bench.ts', [
        '--data',
        data,
        '--dead-letters',
        String(options.deadLetters),
      ]);
      outcome.results.push(result);
      const verdict =
        result.problems.length === 0 ? 'end state correct' : `WRONG: ${result.problems.join('; ')}`;
      console.log(
        `replay (${data}): ${Math.round(result.deadLettersPerSecond)} dead letters/s, peak RSS ${result.peakRssMb} MB, ${verdict}`,
      );
    }
  } catch (err) {
    outcome.error = err instanceof Error ? err.message : String(err);
    console.log(`replay: did not finish: ${outcome.error}`);
  }
  return outcome;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const percent = (busy: number | undefined) => (busy === undefined ? '?' : `${Math.round(busy * 100)} %`);

const START = '<!-- replay:start -->';
const END = '<!-- replay:end -->';

/** Puts the section into `bench/RESULTS.md` (see {@link writeMarkedSection}). */
export function writeReplaySection(outcome: ReplayOutcome, date = new Date()): string {
  return writeMarkedSection('replay', [
    ...replaySection(outcome),
    `Measured ${date.toISOString().slice(0, 10)} with \`node --import tsx replay/replay-bench.ts --write\` (from \`bench/\`).`,
  ]);
}

const DATA_LABELS: Record<ReplayBenchResult['data'], string> = {
  'read-path': "the read path's dead letters (whole context, up to 5 attempts with stacks)",
  small: 'small dead letters (1 attempt, no stack)',
};

/** The section between its markers, as `npm run bench` writes it (so `--write` can replace it later). */
export function markedReplaySection(outcome: ReplayOutcome): string[] {
  return [START, ...replaySection(outcome), END, ''];
}

/** The `## Replay throughput` section of RESULTS.md. */
export function replaySection(outcome: ReplayOutcome): string[] {
  const out = ['## Replay throughput', ''];
  const results = outcome.results;
  if (results.length === 0) return [...out, `Did not finish: ${outcome.error ?? 'no result'}.`, ''];
  const first = results[0] as ReplayBenchResult;
  out.push(
    `Every dead letter of a store replayed back to its source queue as one job through ` +
      `\`Deadletter.replay\` (foreground, no rate limit, batches of ${int(first.batchSize)}): each batch is one ` +
      'transaction that sends the new messages, flags the dead letters replayed (each row stays where ' +
      "it is; a small record of the replay joins the history) and advances the job's position. Then " +
      'the end state is checked: the job completed, the DLQ is ' +
      'empty, and every dead letter has exactly one new message. Two data sets: a copy of the read ' +
      "path's store, and a fresh store of small dead letters (what the engine costs per dead letter " +
      'when there is little data to move). "Per CPU second" divides by the CPU time of the process: ' +
      'what the run would reach if it had a core to itself.',
    '',
    `The machine was ${percent(outcome.busyBefore ?? first.busyBefore)} busy with other work before the run.`,
    '',
    '| dead letters | row size | dead letters/s (job) | end to end (with the dry run) | per CPU second | job seconds | dry run seconds | peak RSS | end state |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
  );
  for (const r of results) {
    out.push(
      `| ${int(r.deadLetters)} ${DATA_LABELS[r.data]} | ${(r.rowBytes / 1000).toFixed(1)} kB | ` +
        `${int(r.deadLettersPerSecond)} | ${int(r.endToEndPerSecond)} | ${int(r.deadLetters / Math.max(r.cpuSeconds, 0.001))} | ` +
        `${r.jobSeconds.toFixed(1)} | ${r.dryRunSeconds.toFixed(1)} | ${r.peakRssMb} MB | ` +
        `${r.problems.length === 0 ? 'correct' : `**${r.problems.join('; ')}**`} |`,
    );
  }
  const main = results.find((r) => r.data === 'read-path');
  const met =
    main !== undefined && main.deadLettersPerSecond >= REPLAY_TARGET_PER_SECOND && main.problems.length === 0;
  out.push(
    '',
    `Target ≥ ${int(REPLAY_TARGET_PER_SECOND)} dead letters/s from a million: ${met ? 'yes' : '**no**'} ` +
      `(for comparison, Amazon SQS redrive moves at most ${SQS_REDRIVE_PER_SECOND} messages/s).`,
    '',
    'Where the time goes: per dead letter, the batch inserts the new message (its body and headers, ' +
      "3 indexes), a small replay record (about 100 bytes, one index) and flips the dead letter's " +
      '`replayed` flag, which takes it out of the 4 (partial) list indexes. The row itself, about 4.6 kB ' +
      'with its attempts and stacks, is neither copied nor deleted: the flag is an integer, whose 0 and ' +
      '1 take no bytes in a SQLite record, so the row keeps its size and SQLite overwrites its first ' +
      'page in place, not its overflow pages (before migration 0008 the row was copied whole into a ' +
      'history table and deleted: about 6 kB written to the WAL per dead letter, and again at ' +
      'checkpoints). The job walks positions only (the list index, not the rows), and the store ' +
      "checkpoints the WAL on a thread of its own. What remains is mostly reading the rows' " +
      'overflow pages (the replay count and group sit after the attempts, and an UPDATE reads the ' +
      'whole record), the index work, and writing the new messages. ' +
      'Batches of 2,000 are used here (500 to 4,000 were within noise of each other before migration 0008).',
    '',
  );
  return out;
}
