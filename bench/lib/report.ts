import type { PipelineResult } from '../pipeline/harness.ts';
import type { ReadPathResult } from '../read-path/read-path.ts';
import type { SeedDescription } from '../read-path/seed.ts';
import { markedReplaySection, type ReplayOutcome } from '../replay/report.ts';
import { type ServerLoadOutcome, serverLoadSection } from '../server/report.ts';
import type { Machine } from './machine.ts';
import type { PipelineSystem } from './options.ts';

/** The targets of the issue that asked for this bench. */
export const TARGETS = {
  messagesPerSecond: 10_000,
  timesBullmq: 3,
  readP99Ms: 20,
  rssMb: 200,
  /** Deadletter on PostgreSQL with several worker processes (issue 4). */
  postgresMessagesPerSecond: 5_000,
  timesPgBoss: 3,
} as const;

/** One run of one system: its result, or why there is none, and how busy the machine was before. */
export interface PipelineRound {
  result?: PipelineResult;
  error?: string;
  /** Fraction of the machine's CPU busy just before the run (other work on a shared machine). */
  busyBefore?: number | undefined;
}

/** Every round of one system. */
export interface PipelineOutcome {
  system: PipelineSystem;
  rounds: PipelineRound[];
}

/** The fastest round with a correct end state, else undefined. */
export function bestRound(outcome: PipelineOutcome | undefined): PipelineResult | undefined {
  let best: PipelineResult | undefined;
  for (const round of outcome?.rounds ?? []) {
    const r = round.result;
    if (r && r.problems.length === 0 && (!best || r.messagesPerSecond > best.messagesPerSecond)) best = r;
  }
  return best;
}

/** Problems of any round, for the end-state column; empty when every round ended correctly. */
function roundProblems(outcome: PipelineOutcome): string[] {
  return outcome.rounds.flatMap((round, k) => {
    if (round.error) return [`round ${k + 1} did not finish: ${round.error}`];
    return (round.result?.problems ?? []).map((p) => `round ${k + 1}: ${p}`);
  });
}

export interface ReadPathOutcome {
  seed?: SeedDescription;
  result?: ReadPathResult;
  error?: string;
}

export interface Report {
  date: Date;
  machine: Machine;
  command: string;
  full: boolean;
  defaultSizes: boolean;
  parts: string[];
  messages: number;
  pipeline: PipelineOutcome[];
  readPath?: ReadPathOutcome;
  /** The same reads on the PostgreSQL store (`read-path/seed-pg.ts`). */
  readPathPg?: ReadPathOutcome;
  /** `dlq serve` under 50 concurrent clients (bench/server/). */
  serverLoad?: ServerLoadOutcome;
  replay?: ReplayOutcome;
}

const LABELS: Record<PipelineSystem, string> = {
  deadletter: 'Deadletter (SQLite, embedded)',
  'deadletter-pg': 'Deadletter (PostgreSQL, worker processes)',
  bullmq: 'BullMQ (Redis)',
  'pg-boss': 'pg-boss (PostgreSQL)',
};

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const loopDelay = (r: PipelineResult) =>
  r.eventLoopDelay ? `${ms(r.eventLoopDelay.p99Ms)} / ${ms(r.eventLoopDelay.maxMs)} ms` : '–';
const yes = (ok: boolean) => (ok ? 'yes' : '**no**');

const HEADER = `# Benchmark results

Written by \`npm run bench\` (see \`bench/README.md\`); every figure below comes from one run
on one machine, the peers measured in the same run as Deadletter. Rerun it rather than edit it.

**Pipeline.** One workload for every system: N messages of about 100 bytes; a trivial handler
that fails exactly every fifth message (index divisible by 5) on every attempt; 5 attempts;
zero backoff; workers started before the first send and running while messages are sent in
batches of 1,000 from the same process (the sender yields to the event loop between batches,
as any networked producer does). The clock runs from the first send until the system's own store shows every
message done or dead. Then the end state is checked: 80 % done, 20 % dead, each dead message
with its 5 attempts and its error, and exactly 1.8 × N handler calls (0.8 N first-time
successes plus 5 calls for each of the 0.2 N failing messages). Each system runs in a fresh
Node process (so its peak RSS is its own: the larger of 100 ms samples and the kernel's
\`VmHWM\`) in a fresh namespace (a new SQLite file, a new Redis key prefix, a new PostgreSQL
schema), removed afterwards. BullMQ and pg-boss are tuned as their docs advise for throughput;
the exact settings are listed with their results, chosen as the fastest of a sweep on this
machine (see \`bench/README.md\`).

Caveats: the RSS of BullMQ and pg-boss is their Node process only; Redis and PostgreSQL run
as servers on the same 2 cores and their memory is not counted. Deadletter's SQLite runs
inside its process, so its RSS includes the database's page cache. Every process runs
compiled JavaScript, as a deployment does (each child script and the repository's TypeScript it
imports bundled with esbuild, packages from node_modules; no TypeScript loader in the process),
without source maps; the "loaded" figure is the RSS once the libraries are loaded (bare Node
holds about 40 MB).

**Pipeline on PostgreSQL.** The same workload and checks with Deadletter's PostgreSQL store as
a team outgrowing one process runs it: several worker processes (each one \`dl.work\`) and the
sender in a process of its own, in a fresh schema; the handler calls are summed over the
processes. pg-boss runs beside it in the same run, tuned as its docs advise. The server keeps
its durability settings (\`synchronous_commit\` on: every commit waits for its WAL flush), so
both are bound by commits more than by CPU; their CPU per message, Node processes and database
backends together, is shown too, since it moves less with other load on a shared machine.

**Read path.** 1,000,000 dead letters over 200 groups (sizes skewed, a few bugs hold most
letters) and 10 queues, with all five tiers, realistic errors and 10-frame stacks (rows of
about 4.7 kB, most of it the attempts), plus a small live backlog. Each dead letter's attempts
are decided by the engine's own \`planFailure\` and written with the store's own statements for
a death; deaths spread over 14 days (see \`read-path/seed.ts\`). Each read is timed through the
public API, interleaved with the others, after a warm-up round. Reads by group and deep pages
mostly touch pages no earlier read of the run touched (each rep takes the next of 200 groups,
or one of 1,000 random cursors), where reads by queue and by tier cycle over 10 queues and 5
tiers, so they repeat first pages already read.`;

export function renderReport(report: Report): string {
  const out: string[] = [HEADER, ''];
  out.push(
    `Run on ${report.date.toISOString().replace('T', ' ').slice(0, 16)} UTC with \`${report.command}\`` +
      (report.full
        ? '.'
        : report.defaultSizes
          ? ` (parts: ${report.parts.join(', ')}; sections of other parts are kept from their last run).`
          : ' (a reduced run: not the full workload).'),
    '',
  );
  out.push(...machineSection(report));
  // Each part's section between markers: a run of some parts keeps the others' sections from
  // their last run (lib/marked-sections.ts) and says when each was measured.
  const measured = `Measured on ${report.date.toISOString().replace('T', ' ').slice(0, 16)} UTC with \`${report.command}\`.`;
  const embedded = report.pipeline.filter((p) => !POSTGRES_SYSTEMS.has(p.system));
  const postgres = report.pipeline.filter((p) => POSTGRES_SYSTEMS.has(p.system));
  if (embedded.length > 0) {
    out.push(...marked('pipeline', pipelineSection(report, embedded, 'Pipeline'), measured));
  }
  if (postgres.length > 0) {
    out.push(
      ...marked(
        'pipeline-pg',
        [
          ...pipelineSection(report, postgres, 'Pipeline on PostgreSQL, several worker processes'),
          ...postgresCpuSection(report),
          ...postgresPipelineTargets(report),
        ],
        measured,
      ),
    );
  }
  if (report.readPath) out.push(...marked('read-path', readPathSection(report.readPath, 'SQLite'), measured));
  if (report.readPathPg) {
    out.push(
      ...marked(
        'read-path-pg',
        [
          ...readPathSection(report.readPathPg, 'PostgreSQL'),
          ...readTarget(report.readPathPg, 'PostgreSQL: '),
        ],
        measured,
      ),
    );
  }
  if (report.serverLoad) out.push(...marked('server-load', serverLoadSection(report.serverLoad), measured));
  if (report.replay) out.push(...markedReplaySection(report.replay));
  if (embedded.length > 0 || report.readPath)
    out.push(...marked('targets', targetsSection(report), measured));
  return `${out.join('\n').trimEnd()}\n`;
}

/** The systems on PostgreSQL, which have their own section. */
const POSTGRES_SYSTEMS: ReadonlySet<PipelineSystem> = new Set(['deadletter-pg', 'pg-boss']);

/** `lines` between the markers of section `name`, with when they were measured; nothing if empty. */
function marked(name: string, lines: string[], measured: string): string[] {
  if (lines.length === 0) return [];
  return [`<!-- ${name}:start -->`, ...lines, measured, `<!-- ${name}:end -->`, ''];
}

function machineSection(report: Report): string[] {
  const m = report.machine;
  const versions = (system: PipelineSystem, key: string) => {
    const found = report.pipeline.find((p) => p.system === system)?.rounds.find((r) => r.result)?.result;
    return found ? (found.versions[key] ?? '?') : 'not measured';
  };
  return [
    '## Machine',
    '',
    '| | |',
    '|---|---|',
    `| CPU | ${m.cpu}, ${m.cores} cores |`,
    `| Memory | ${m.memoryGb} GiB |`,
    `| OS | ${m.kernel} |`,
    `| Node.js | ${m.node} |`,
    `| SQLite | ${m.sqlite} (better-sqlite3, WAL, synchronous NORMAL) |`,
    `| Redis | ${versions('bullmq', 'redis')} (local, default config) |`,
    `| PostgreSQL | ${versions('pg-boss', 'postgresql') === 'not measured' ? versions('deadletter-pg', 'postgresql') : versions('pg-boss', 'postgresql')} (local, default config but autovacuum off) |`,
    '',
  ];
}

function pipelineSection(report: Report, outcomes: PipelineOutcome[], title: string): string[] {
  const out = [
    `## ${title}: ${int(report.messages)} messages, 20 % failing, 5 attempts, zero backoff`,
    '',
    '| system | messages/s (best) | every round | seconds | peak RSS (loaded) | CPU of its process | event-loop delay p99 / max | handler calls | done | dead | end state |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const outcome of outcomes) {
    const best = bestRound(outcome);
    const problems = roundProblems(outcome);
    const every = outcome.rounds
      .map((round) => (round.result ? int(round.result.messagesPerSecond) : 'failed'))
      .join(' / ');
    const peak = Math.max(0, ...outcome.rounds.map((round) => (round.result ? largestRss(round.result) : 0)));
    const state =
      problems.length === 0
        ? `correct in ${outcome.rounds.length} of ${outcome.rounds.length}`
        : `**wrong**: ${problems.join('; ')}`;
    if (!best) {
      out.push(`| ${LABELS[outcome.system]} | – | ${every} | – | – | – | – | – | – | – | ${state} |`);
      continue;
    }
    out.push(
      `| ${LABELS[outcome.system]} | ${int(best.messagesPerSecond)} | ${every} | ${best.seconds.toFixed(2)} | ${peak} MB (${best.loadedRssMb} MB) | ` +
        `${nodeCores(best).toFixed(2)} cores${best.processes ? ` (${best.processes.length + 1} processes)` : ''} | ${loopDelay(best)} | ${int(best.handlerCalls)} | ${int(best.counts.done)} | ${int(best.counts.dead)} | ${state} |`,
    );
  }
  out.push('');
  const dl = bestRound(outcomes.find((p) => p.system === 'deadletter'));
  const dlPg = bestRound(outcomes.find((p) => p.system === 'deadletter-pg'));
  const boss = bestRound(outcomes.find((p) => p.system === 'pg-boss'));
  const ratios: string[] = [];
  if (dlPg && boss) {
    ratios.push(
      `Deadletter on PostgreSQL / pg-boss (same database server, same run): **${(dlPg.messagesPerSecond / boss.messagesPerSecond).toFixed(2)}×** throughput` +
        (dlPg.databaseCpuCores !== undefined && boss.databaseCpuCores !== undefined
          ? `, **${(perCpuSecond(dlPg) / perCpuSecond(boss)).toFixed(2)}×** messages per CPU-second.`
          : '.'),
    );
  }
  for (const peer of ['bullmq', 'pg-boss'] as const) {
    const other = bestRound(outcomes.find((p) => p.system === peer));
    if (dl && other) {
      ratios.push(
        `Deadletter / ${peer === 'bullmq' ? 'BullMQ' : 'pg-boss'}: **${(dl.messagesPerSecond / other.messagesPerSecond).toFixed(2)}×** throughput, ` +
          (other.databaseCpuCores !== undefined
            ? `${(perCpuSecond(dl) / perCpuSecond(other)).toFixed(2)}× messages per CPU-second (its ${peer === 'bullmq' ? 'Redis server' : 'PostgreSQL backends'} counted: ${int(1e6 / perCpuSecond(other))} µs of CPU per message against Deadletter's ${int(1e6 / perCpuSecond(dl))} µs), `
            : '') +
          `${(dl.peakRssMb / other.peakRssMb).toFixed(2)}× peak RSS.`,
      );
    }
  }
  if (ratios.length > 0) out.push(ratios.join(' '), '');
  const busy = outcomes.flatMap((o) =>
    o.rounds.flatMap((r) => (r.busyBefore === undefined ? [] : [r.busyBefore])),
  );
  out.push(
    `Rounds run interleaved (${report.pipeline.map((o) => o.system).join(', ')}, then again); the best ` +
      'correct round counts, the peak RSS is the highest of all rounds, "loaded" the RSS once the ' +
      'libraries were loaded, before any work. "CPU of its process" is the ' +
      "Node process's CPU time over the timed run (Redis and PostgreSQL not included); the " +
      'event-loop delay is how late a 10 ms timer of the same process fired: what an HTTP server ' +
      'sharing the process with the workers would add to its answers. ' +
      (busy.length > 0
        ? `Before each round the bench waited (at most 3 minutes) for a quiet machine; other work used up to ${Math.round(100 * Math.max(...busy))} % of the CPU just before a round (per round: ${busy.map((b) => `${Math.round(100 * b)} %`).join(', ')}).`
        : 'The machine was not checked for other work (`--no-wait`).'),
    '',
    'How each system ran:',
    '',
  );
  for (const outcome of outcomes) {
    const any = outcome.rounds.find((r) => r.result)?.result;
    if (!any) continue;
    const versions = Object.entries(any.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    out.push(`- **${LABELS[outcome.system]}** (${versions}): ${any.tuning}.`);
  }
  out.push('');
  return out;
}

/** The largest peak RSS of a result's processes (the parent's if it runs alone). */
function largestRss(r: PipelineResult): number {
  return Math.max(r.peakRssMb, ...(r.processes ?? []).map((p) => p.peakRssMb));
}

/** CPU of every Node process of a result (the parent and its worker processes), in cores. */
function nodeCores(r: PipelineResult): number {
  return r.cpuCores + (r.processes ?? []).reduce((sum, p) => sum + p.cpuCores, 0);
}

/** Messages per CPU-second of the Node processes and the PostgreSQL backends together. */
function perCpuSecond(r: PipelineResult): number {
  return r.messagesPerSecond / (nodeCores(r) + (r.databaseCpuCores ?? 0));
}

/**
 * The PostgreSQL systems by process, with the CPU of their database backends: on a machine
 * shared with other work, messages per CPU-second move less than messages per second.
 */
function postgresCpuSection(report: Report): string[] {
  const rows: string[] = [];
  for (const outcome of report.pipeline) {
    const best = bestRound(outcome);
    if (!best || best.databaseCpuCores === undefined) continue;
    const processes = [
      {
        role: best.processes ? 'sender' : 'sender and workers',
        peakRssMb: best.peakRssMb,
        loadedRssMb: best.loadedRssMb,
        cpuCores: best.cpuCores,
      },
      ...(best.processes ?? []),
    ];
    const each = processes
      .map(
        (p) =>
          `${p.role}: ${p.peakRssMb} MB peak (${p.loadedRssMb} MB loaded), ${p.cpuCores.toFixed(2)} cores`,
      )
      .join('; ');
    const total = nodeCores(best) + best.databaseCpuCores;
    rows.push(
      `| ${LABELS[outcome.system]} | ${int(best.messagesPerSecond)} | ${nodeCores(best).toFixed(2)} | ${best.databaseCpuCores.toFixed(2)} | ` +
        `${total.toFixed(2)} | ${int(perCpuSecond(best))} | ${((1e6 * total) / best.messagesPerSecond).toFixed(0)} µs | ${each} |`,
    );
  }
  if (rows.length === 0) return [];
  return [
    '### PostgreSQL systems: CPU per message and memory per process (best round)',
    '',
    '| system | messages/s | Node CPU (cores) | PostgreSQL backends (cores) | total | messages per CPU-second | CPU per message | processes |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
    '',
    'CPU in cores over the timed run: the Node processes from their own `process.cpuUsage()`, the ' +
      'PostgreSQL backends serving the run (found by `application_name` in `pg_stat_activity`) from ' +
      "`/proc/<pid>/stat`; other work on the machine and PostgreSQL's own background processes (WAL " +
      'writer, checkpointer) are not counted. The per-CPU figures compare the systems fairly when the ' +
      'machine is shared: other load stretches the wall clock, not the CPU each message costs.',
    '',
  ];
}

function readPathSection(outcome: ReadPathOutcome, store: 'SQLite' | 'PostgreSQL'): string[] {
  const seed = outcome.seed;
  const on = store === 'SQLite' ? '' : ' on PostgreSQL';
  const title = seed
    ? `## Read path${on}: ${int(seed.deadLetters)} dead letters, ${seed.groups} groups, ${seed.queues} queues`
    : `## Read path${on}`;
  const out = [title, ''];
  if (outcome.error) out.push(`**Did not finish**: ${outcome.error}`, '');
  const result = outcome.result;
  if (result) {
    out.push(
      `| read | p50 | p99 | max | p99 < ${TARGETS.readP99Ms} ms |`,
      '|---|---:|---:|---:|---|',
      ...result.reads.map(
        (r) =>
          `| ${r.read} | ${ms(r.p50Ms)} ms | ${ms(r.p99Ms)} ms | ${ms(r.maxMs)} ms | ${yes(r.p99Ms < TARGETS.readP99Ms)} |`,
      ),
      '',
      `${result.reads[0]?.reps ?? 0} timed repetitions of each read; pages of 50 (\`groups\`: the API's default ` +
        'page of 100, by count); a deep page continues from the cursor of a random dead letter older ' +
        `than the newest 100 pages, anywhere in the ${int(result.deadLetters)}. ` +
        `Peak RSS of the reading process: ${result.peakRssMb} MB.`,
      '',
    );
  }
  if (seed) {
    const tiers = Object.entries(seed.tiers)
      .sort((a, b) => b[1] - a[1])
      .map(([tier, n]) => `${tier} ${int(n)}`)
      .join(', ');
    out.push(
      `Seed: ${int(seed.deadLetters)} dead letters (${tiers}), ${int(seed.liveMessages)} live messages, ` +
        `a ${int(seed.fileMb)} MB ${store === 'SQLite' ? 'database' : 'schema (tables, TOAST and indexes; the same rows as the SQLite seed, inserted 2,000 per statement, then VACUUM ANALYZE)'}, built in ${int(seed.seedSeconds)} s on ${seed.seededAt.slice(0, 10)}` +
        `${seed.cached ? ' (reused from the cache)' : ''}.`,
      '',
    );
  }
  return out;
}

function targetsSection(report: Report): string[] {
  const rows: string[] = [];
  const dlOutcome = report.pipeline.find((p) => p.system === 'deadletter');
  const dl = bestRound(dlOutcome);
  const bull = bestRound(report.pipeline.find((p) => p.system === 'bullmq'));
  if (dl) {
    rows.push(
      `| pipeline ≥ ${int(TARGETS.messagesPerSecond)} messages/s end to end | ${int(dl.messagesPerSecond)} messages/s | ${yes(dl.messagesPerSecond >= TARGETS.messagesPerSecond)} |`,
    );
    if (bull) {
      const ratio = dl.messagesPerSecond / bull.messagesPerSecond;
      rows.push(
        `| ≥ ${TARGETS.timesBullmq}× BullMQ's tuned throughput, same run | ${ratio.toFixed(2)}× | ${yes(ratio >= TARGETS.timesBullmq)} |`,
      );
    }
  }
  if (dlOutcome) {
    const problems = roundProblems(dlOutcome);
    rows.push(
      `| pipeline end state correct (80 % done, 20 % dead with context, 1.8 × N calls) | ${problems.length === 0 ? 'correct in every round' : problems.join('; ')} | ${yes(problems.length === 0)} |`,
    );
  }
  const reads = report.readPath?.result?.reads;
  if (reads) {
    const worst = reads.reduce((a, b) => (b.p99Ms > a.p99Ms ? b : a));
    rows.push(
      `| every read p99 < ${TARGETS.readP99Ms} ms with ${int(report.readPath?.seed?.deadLetters ?? 0)} dead letters | worst: ${worst.read}, ${ms(worst.p99Ms)} ms | ${yes(worst.p99Ms < TARGETS.readP99Ms)} |`,
    );
  }
  const rss = [
    ...(dlOutcome?.rounds ?? []).flatMap((r) => (r.result ? [r.result.peakRssMb] : [])),
    ...(report.readPath?.result ? [report.readPath.result.peakRssMb] : []),
  ];
  if (rss.length > 0) {
    const peak = Math.max(...rss);
    rows.push(
      `| Deadletter's process under ${TARGETS.rssMb} MB RSS throughout | peak ${peak} MB | ${yes(peak < TARGETS.rssMb)} |`,
    );
  }
  if (rows.length === 0) return [];
  return ['## Targets', '', '| target | measured | met |', '|---|---|---|', ...rows, ''];
}

/** The PostgreSQL pipeline's targets (issue 4), in its own section. */
function postgresPipelineTargets(report: Report): string[] {
  const rows: string[] = [];
  const pgOutcome = report.pipeline.find((p) => p.system === 'deadletter-pg');
  const dlPg = bestRound(pgOutcome);
  const boss = bestRound(report.pipeline.find((p) => p.system === 'pg-boss'));
  if (dlPg) {
    rows.push(
      `| ≥ ${int(TARGETS.postgresMessagesPerSecond)} messages/s end to end, several worker processes | ${int(dlPg.messagesPerSecond)} messages/s | ${yes(dlPg.messagesPerSecond >= TARGETS.postgresMessagesPerSecond)} |`,
    );
    if (boss) {
      const ratio = dlPg.messagesPerSecond / boss.messagesPerSecond;
      rows.push(
        `| ≥ ${TARGETS.timesPgBoss}× pg-boss's tuned throughput, same run | ${ratio.toFixed(2)}× | ${yes(ratio >= TARGETS.timesPgBoss)} |`,
      );
    }
  }
  if (pgOutcome) {
    const problems = roundProblems(pgOutcome);
    rows.push(
      `| end state correct (summed over the worker processes) | ${problems.length === 0 ? 'correct in every round' : problems.join('; ')} | ${yes(problems.length === 0)} |`,
    );
  }
  if (rows.length === 0) return [];
  return ['| target (PostgreSQL) | measured | met |', '|---|---|---|', ...rows, ''];
}

/** The read path's target row as a small table, for a section of its own. */
function readTarget(outcome: ReadPathOutcome, label: string): string[] {
  const reads = outcome.result?.reads;
  if (!reads) return [];
  const worst = reads.reduce((a, b) => (b.p99Ms > a.p99Ms ? b : a));
  return [
    '| target | measured | met |',
    '|---|---|---|',
    `| ${label}every read p99 < ${TARGETS.readP99Ms} ms with ${int(outcome.seed?.deadLetters ?? 0)} dead letters | worst: ${worst.read}, ${ms(worst.p99Ms)} ms | ${yes(worst.p99Ms < TARGETS.readP99Ms)} |`,
    '',
  ];
}
