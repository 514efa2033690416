import { monitorEventLoopDelay } from 'node:perf_hooks';
import { log } from '../lib/child.ts';
import { megabytes, PeakRss } from '../lib/memory.ts';
import { bodyOf, expectedEndState, SEND_CHUNK, type WorkloadBody, WorkloadHandler } from './workload.ts';

/** What the harness needs from one system: each system's file implements it with its own API. */
export interface SystemUnderTest {
  /** Name and versions, e.g. `{ bullmq: '6.7.0', redis: '7.0.15' }`, for the report. */
  describe(): Promise<Record<string, string>>;
  /** Creates a fresh namespace and starts the workers, which call `handler.handle`. */
  start(handler: WorkloadHandler): Promise<void>;
  /** Sends one chunk of messages. */
  send(bodies: WorkloadBody[]): Promise<void>;
  /** The system's own counts, from its store (not from the handler). */
  counts(): Promise<SystemCounts>;
  /**
   * Checks the dead set in the store after the run: which messages are dead and whether each
   * carries its context (attempts, the error). Returns problems found, empty when all is well.
   */
  checkDead(expectedDead: number): Promise<string[]>;
  /** Stops the workers and closes connections; must not delete the data (checks come after). */
  stop(): Promise<void>;
  /** Deletes everything the run created (files, keys, schemas). */
  cleanUp(): Promise<void>;
  /** How the system was tuned, in words, for the report. */
  readonly tuning: string;
}

export interface SystemCounts {
  /** Not yet at an end: waiting, delayed, retrying or in progress. */
  pending: number;
  done: number;
  dead: number;
}

export interface PipelineResult {
  system: string;
  versions: Record<string, string>;
  tuning: string;
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  peakRssMb: number;
  /** RSS once the system's libraries are loaded, before it starts: the floor under the peak. */
  loadedRssMb: number;
  /** Event-loop delay over the timed run (ms): how long other callbacks of the process waited. */
  eventLoopDelay: { p99Ms: number; maxMs: number };
  /** CPU time of this process during the timed run, in cores (1 = one core busy throughout). */
  cpuCores: number;
  /**
   * Systems that run in several processes (the parent sends, children work): each process's
   * role, peak RSS and CPU over the timed run. The top-level RSS and CPU are the parent's.
   */
  processes?: ProcessUsage[];
  /**
   * CPU of the PostgreSQL backends serving this system over the timed run, in cores; with the
   * Node processes' CPU it gives the CPU per message, which outside load does not change much.
   */
  databaseCpuCores?: number;
  handlerCalls: number;
  counts: SystemCounts;
  expected: { done: number; dead: number; handlerCalls: number };
  /** Empty when the end state is right. */
  problems: string[];
}

/** One process of a system that runs in several. */
export interface ProcessUsage {
  role: string;
  peakRssMb: number;
  loadedRssMb: number;
  /** CPU time over the timed run, in cores. */
  cpuCores: number;
  handlerCalls: number;
}

/** Longest a run may take before it is declared stuck: generous, a slow system still finishes. */
function deadlineMs(messages: number): number {
  return Math.max(120_000, messages * 10);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the workload against one system: start its workers, send every message in chunks
 * while they run, wait until the system's own counts show every message done or dead, then
 * check the end state. Time runs from the first send to the moment the store shows nothing
 * pending. Peak RSS covers the whole run, set-up and checks included.
 */
export async function runPipeline(
  system: string,
  sut: SystemUnderTest,
  messages: number,
): Promise<PipelineResult> {
  const rss = new PeakRss();
  const loadedRssMb = megabytes(process.memoryUsage.rss());
  const expected = expectedEndState(messages);
  const handler = new WorkloadHandler();
  try {
    const versions = await sut.describe();
    await sut.start(handler);
    log(`${system}: workers started, sending ${messages} messages`);
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    for (let first = 0; first < messages; first += SEND_CHUNK) {
      const bodies: WorkloadBody[] = [];
      for (let i = first; i < Math.min(messages, first + SEND_CHUNK); i++) bodies.push(bodyOf(i));
      await sut.send(bodies);
      // A producer shares its process with the workers: let other callbacks run between sends
      // (a network client yields here anyway; an embedded store's send may not).
      await new Promise((resolve) => setImmediate(resolve));
    }
    const sentAt = performance.now();
    log(`${system}: sent in ${((sentAt - started) / 1000).toFixed(1)} s; waiting for the end state`);
    const counts = await waitForEnd(sut, handler, messages, expected.handlerCalls, started);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    loopDelay.disable();
    log(
      `${system}: settled in ${seconds.toFixed(2)} s (${Math.round(messages / seconds)} msg/s), ` +
        `${handler.calls} handler calls, peak RSS so far ${megabytes(rss.peak())} MB`,
    );
    await sut.stop();
    const problems = checkCounts(counts, handler.calls, expected);
    problems.push(...(await sut.checkDead(expected.dead)));
    return {
      system,
      versions,
      tuning: sut.tuning,
      messages,
      seconds,
      messagesPerSecond: messages / seconds,
      peakRssMb: megabytes(rss.stop()),
      loadedRssMb,
      cpuCores: (cpu.user + cpu.system) / 1e6 / seconds,
      eventLoopDelay: { p99Ms: loopDelay.percentile(99) / 1e6, maxMs: loopDelay.max / 1e6 },
      handlerCalls: handler.calls,
      counts,
      expected,
      problems,
    };
  } finally {
    await sut.cleanUp();
  }
}

/**
 * Polls the handler's own tally cheaply and the system's counts only when the tally says the
 * end is near (or once a second, in case the tally is off), so polling does not slow the run.
 */
async function waitForEnd(
  sut: SystemUnderTest,
  handler: WorkloadHandler,
  messages: number,
  expectedCalls: number,
  started: number,
): Promise<SystemCounts> {
  const deadline = started + deadlineMs(messages);
  // Not every system tells a handler which attempt it runs; the call count is the other hint.
  const nearEnd = () => handler.settled() >= messages || handler.calls >= expectedCalls;
  let lastAsked = 0;
  let lastLogged = performance.now();
  for (;;) {
    const now = performance.now();
    if (nearEnd() || now - lastAsked >= 1_000) {
      lastAsked = now;
      const counts = await sut.counts();
      if (counts.pending === 0 && counts.done + counts.dead >= messages) return counts;
      if (now - lastLogged >= 5_000) {
        lastLogged = now;
        log(
          `  … ${counts.done} done, ${counts.dead} dead, ${counts.pending} pending, ${handler.calls} handler calls`,
        );
      }
      if (now > deadline) {
        throw new Error(
          `no end state after ${Math.round((now - started) / 1000)} s: ${JSON.stringify(counts)}, ` +
            `${handler.calls} handler calls`,
        );
      }
    }
    await sleep(nearEnd() ? 5 : 20);
  }
}

function checkCounts(
  counts: SystemCounts,
  handlerCalls: number,
  expected: { done: number; dead: number; handlerCalls: number },
): string[] {
  const problems: string[] = [];
  if (counts.done !== expected.done) problems.push(`done is ${counts.done}, expected ${expected.done}`);
  if (counts.dead !== expected.dead) problems.push(`dead is ${counts.dead}, expected ${expected.dead}`);
  if (handlerCalls !== expected.handlerCalls) {
    problems.push(`handler ran ${handlerCalls} times, expected ${expected.handlerCalls} (1.8 × N)`);
  }
  return problems;
}

/** A pipeline script's numeric option `--name N` (after the script name), or `fallback`. */
export function intArg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}
