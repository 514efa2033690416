/**
 * Command-line options of `npm run bench` (after `--`):
 *
 * - `--only deadletter,bullmq,deadletter-pg,pg-boss,read-path,read-path-pg,server-load,replay`: run some
 *   parts only (comma separated or repeated).
 * - `--messages N`: messages in the pipeline workload (default 100 000).
 * - `--dead-letters N`: dead letters seeded for the read path (default 1 000 000).
 * - `--reps N`: repetitions of each read (default 200).
 * - `--rounds N`: pipeline runs per system, interleaved (default 3); the report keeps the best.
 * - `--no-wait`: do not wait for a quiet machine before each run (see `lib/cpu.ts`).
 * - `--reseed`: rebuild the cached read-path database (and PostgreSQL schema) even if a matching one exists.
 * - `--write`: write `bench/RESULTS.md` even for a partial run (a full run always writes it).
 */
export interface BenchOptions {
  parts: Set<BenchPart>;
  messages: number;
  deadLetters: number;
  reps: number;
  rounds: number;
  waitForQuiet: boolean;
  reseed: boolean;
  write: boolean;
  /** True when every part ran at the default sizes: only then is RESULTS.md rewritten by default. */
  full: boolean;
  /** True when the sizes are the defaults (whatever parts ran). */
  defaultSizes: boolean;
}

export const PIPELINE_SYSTEMS = ['deadletter', 'bullmq', 'deadletter-pg', 'pg-boss'] as const;
export type PipelineSystem = (typeof PIPELINE_SYSTEMS)[number];
export const BENCH_PARTS = [
  ...PIPELINE_SYSTEMS,
  'read-path',
  'read-path-pg',
  'server-load',
  'replay',
] as const;
export type BenchPart = (typeof BENCH_PARTS)[number];

export const DEFAULT_MESSAGES = 100_000;
export const DEFAULT_DEAD_LETTERS = 1_000_000;
export const DEFAULT_REPS = 200;
export const DEFAULT_ROUNDS = 3;

function isPart(value: string): value is BenchPart {
  return (BENCH_PARTS as readonly string[]).includes(value);
}

function positiveInt(flag: string, value: string | undefined): number {
  const n = Number(value?.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new Error(`${flag} needs a positive whole number, got "${value}"`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions {
  const parts = new Set<BenchPart>();
  let messages = DEFAULT_MESSAGES;
  let deadLetters = DEFAULT_DEAD_LETTERS;
  let reps = DEFAULT_REPS;
  let rounds = DEFAULT_ROUNDS;
  let waitForQuiet = true;
  let reseed = false;
  let write = false;
  for (let k = 0; k < argv.length; k++) {
    const [flag, inline] = (argv[k] as string).split('=', 2) as [string, string | undefined];
    const value = (): string | undefined => inline ?? argv[++k];
    switch (flag) {
      case '--only':
        for (const name of (value() ?? '').split(',')) {
          if (!isPart(name)) throw new Error(`--only takes ${BENCH_PARTS.join(', ')}; got "${name}"`);
          parts.add(name);
        }
        break;
      case '--messages':
        messages = positiveInt(flag, value());
        break;
      case '--dead-letters':
        deadLetters = positiveInt(flag, value());
        break;
      case '--reps':
        reps = positiveInt(flag, value());
        break;
      case '--rounds':
        rounds = positiveInt(flag, value());
        break;
      case '--no-wait':
        waitForQuiet = false;
        break;
      case '--reseed':
        reseed = true;
        break;
      case '--write':
        write = true;
        break;
      case '--tsx':
        // Read by lib/child.ts: run the children under the tsx loader instead of compiled.
        break;
      default:
        throw new Error(`unknown option "${argv[k]}"; see bench/README.md`);
    }
  }
  const all = parts.size === 0;
  if (all) for (const part of BENCH_PARTS) parts.add(part);
  const defaultSizes =
    messages === DEFAULT_MESSAGES && deadLetters === DEFAULT_DEAD_LETTERS && reps === DEFAULT_REPS;
  const full = all && defaultSizes;
  return { parts, messages, deadLetters, reps, rounds, waitForQuiet, reseed, write, full, defaultSizes };
}
