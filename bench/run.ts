/**
 * `npm run bench`: Deadletter (on SQLite, and on PostgreSQL with several worker processes)
 * against BullMQ and pg-boss on the pipeline workload, then the read path on a million dead
 * letters (on SQLite, then on PostgreSQL); writes `bench/RESULTS.md`. Each system runs in its own
 * child process, one after the other. Options: see `lib/options.ts` and `README.md`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from './lib/child.ts';
import { waitForQuiet } from './lib/cpu.ts';
import { describeMachine } from './lib/machine.ts';
import { keepMarkedSections } from './lib/marked-sections.ts';
import { PIPELINE_SYSTEMS, parseOptions } from './lib/options.ts';
import { type PipelineOutcome, type ReadPathOutcome, renderReport } from './lib/report.ts';
import type { PipelineResult } from './pipeline/harness.ts';
import type { ReadPathResult } from './read-path/read-path.ts';
import type { SeedDescription } from './read-path/seed.ts';
import { type ReplayOutcome, runReplayBench } from './replay/report.ts';
import { runServerLoad, type ServerLoadOutcome } from './server/report.ts';

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const options = parseOptions(args);
  const date = new Date();
  const machine = describeMachine();
  console.log(
    `Deadletter bench: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GiB, Node ${machine.node}`,
  );

  const pipeline: PipelineOutcome[] = PIPELINE_SYSTEMS.filter((system) => options.parts.has(system)).map(
    (system) => ({ system, rounds: [] }),
  );
  const quiet = async () => {
    if (!options.waitForQuiet) return undefined;
    return waitForQuiet(0.2, 180_000, (busy) =>
      console.log(
        `  waiting for a quiet machine: ${Math.round(busy * 100)} % of the CPU busy with other work`,
      ),
    );
  };
  // Interleaved rounds: a burst of outside load slows one round of each, not every round of one.
  for (let round = 1; round <= options.rounds; round++) {
    for (const outcome of pipeline) {
      const { system } = outcome;
      console.log(
        `\n== pipeline: ${system}, ${options.messages.toLocaleString('en-US')} messages, round ${round} of ${options.rounds}`,
      );
      const busyBefore = await quiet();
      try {
        const result = await runChild<PipelineResult>(`pipeline/${system}.ts`, [
          '--messages',
          String(options.messages),
        ]);
        outcome.rounds.push({ result, busyBefore });
        const verdict =
          result.problems.length === 0 ? 'end state correct' : `WRONG: ${result.problems.join('; ')}`;
        console.log(
          `${system}: ${Math.round(result.messagesPerSecond)} messages/s, peak RSS ${result.peakRssMb} MB, ${verdict}`,
        );
      } catch (err) {
        outcome.rounds.push({ error: errorText(err), busyBefore });
        console.log(`${system}: did not finish: ${errorText(err)}`);
      }
    }
  }

  let readPath: ReadPathOutcome | undefined;
  if (options.parts.has('read-path')) {
    console.log(`\n== read path: ${options.deadLetters.toLocaleString('en-US')} dead letters`);
    readPath = {};
    try {
      readPath.seed = await runChild<SeedDescription>('read-path/seed.ts', [
        '--dead-letters',
        String(options.deadLetters),
        ...(options.reseed ? ['--reseed'] : []),
      ]);
      await quiet();
      readPath.result = await runChild<ReadPathResult>('read-path/read-path.ts', [
        '--file',
        readPath.seed.file,
        '--reps',
        String(options.reps),
      ]);
      for (const r of readPath.result.reads) {
        console.log(`${r.read}: p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`);
      }
    } catch (err) {
      readPath.error = errorText(err);
      console.log(`read path: did not finish: ${readPath.error}`);
    }
  }

  let readPathPg: ReadPathOutcome | undefined;
  if (options.parts.has('read-path-pg')) {
    console.log(`\n== read path on PostgreSQL: ${options.deadLetters.toLocaleString('en-US')} dead letters`);
    readPathPg = {};
    try {
      readPathPg.seed = await runChild<SeedDescription>('read-path/seed-pg.ts', [
        '--dead-letters',
        String(options.deadLetters),
        ...(options.reseed ? ['--reseed'] : []),
      ]);
      await quiet();
      readPathPg.result = await runChild<ReadPathResult>('read-path/read-path.ts', [
        '--store',
        readPathPg.seed.file,
        '--reps',
        String(options.reps),
      ]);
      for (const r of readPathPg.result.reads) {
        console.log(`${r.read}: p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`);
      }
    } catch (err) {
      readPathPg.error = errorText(err);
      console.log(`read path on PostgreSQL: did not finish: ${readPathPg.error}`);
    }
  }

  let serverLoad: ServerLoadOutcome | undefined;
  if (options.parts.has('server-load')) {
    console.log(`\n== server under load: ${options.deadLetters.toLocaleString('en-US')} dead letters`);
    serverLoad = await runServerLoad(options);
  }

  let replay: ReplayOutcome | undefined;
  if (options.parts.has('replay')) {
    console.log(`\n== replay: ${options.deadLetters.toLocaleString('en-US')} dead letters`);
    replay = await runReplayBench({ ...options, quiet });
  }

  const markdown = renderReport({
    date,
    machine,
    command: ['npm run bench', ...(args.length > 0 ? ['--', ...args] : [])].join(' '),
    full: options.full,
    defaultSizes: options.defaultSizes,
    parts: [...options.parts],
    messages: options.messages,
    pipeline,
    ...(readPath ? { readPath } : {}),
    ...(readPathPg ? { readPathPg } : {}),
    ...(serverLoad ? { serverLoad } : {}),
    ...(replay ? { replay } : {}),
  });
  let target = fileURLToPath(new URL('RESULTS.md', import.meta.url));
  if (!options.full && !options.write) {
    // A partial run must not overwrite the recorded results.
    mkdirSync(join(tmpdir(), 'deadletter-bench'), { recursive: true });
    target = join(tmpdir(), 'deadletter-bench', 'RESULTS.partial.md');
  }
  // Sections this run did not produce (replay, server load, dashboard: recorded by their own
  // scripts) stay as they were.
  writeFileSync(target, keepMarkedSections(target, markdown));
  console.log(`\nResults written to ${target}`);

  const broken =
    pipeline.some((p) => p.rounds.some((r) => !r.result || r.result.problems.length > 0)) ||
    (readPath !== undefined && !readPath.result) ||
    (readPathPg !== undefined && !readPathPg.result) ||
    (serverLoad !== undefined && !serverLoad.result) ||
    (replay !== undefined &&
      (replay.error !== undefined || replay.results.some((r) => r.problems.length > 0)));
  return broken ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
