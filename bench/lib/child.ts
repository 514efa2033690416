import { spawn } from 'node:child_process';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileScript } from './compile.ts';

/**
 * Each system under test runs in its own Node process, so that its peak RSS is its own and
 * nothing one system leaves behind (a connection pool, a cache, garbage) weighs on the next.
 * A child prints progress on stderr and one result line on stdout, prefixed with this marker.
 */
const RESULT_MARKER = '@@bench-result ';

/**
 * Whether the module at `moduleUrl` (its `import.meta.url`) is the script Node was started
 * with, run directly or compiled by `lib/compile.ts`: `bench/.build/<script>.mjs` stands for
 * `bench/<script>.ts` (each bundled module keeps its own source URL).
 */
export function isEntryScript(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  if (moduleUrl === pathToFileURL(entry).href) return true;
  const benchDir = fileURLToPath(new URL('..', import.meta.url));
  const built = relative(join(benchDir, '.build'), entry);
  if (built.startsWith('..') || !built.endsWith('.mjs')) return false;
  return moduleUrl === pathToFileURL(join(benchDir, built.replace(/\.mjs$/, '.ts'))).href;
}

/** In a child: hands the result to the parent. */
export function emitResult(result: unknown): void {
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
}

/** In a child: logs progress for the person running the bench. */
export function log(message: string): void {
  process.stderr.write(`  ${message}\n`);
}

export class ChildFailedError extends Error {
  override name = 'ChildFailedError';
}

/**
 * Runs `script` (a path relative to `bench/`) in a new Node process, compiled to plain
 * JavaScript first as a deployment runs (see {@link compileScript}; with `--tsx`, under the
 * tsx loader instead), forwarding its stderr, and returns the result it emitted. Rejects if it
 * exits without one.
 */
export async function runChild<T>(script: string, args: string[], extraNodeArgs: string[] = []): Promise<T> {
  const benchDir = fileURLToPath(new URL('..', import.meta.url));
  const command = process.argv.includes('--tsx')
    ? ['--import', 'tsx', script]
    : [await compileScript(script)];
  const child = spawn(process.execPath, [...extraNodeArgs, ...command, ...args], {
    cwd: benchDir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
  });
  return new Promise<T>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      const stray = out
        .split('\n')
        .filter((l) => l.length > 0 && !l.startsWith(RESULT_MARKER))
        .join('\n');
      if (stray) process.stderr.write(`${stray}\n`);
      if (line && code === 0) resolve(JSON.parse(line.slice(RESULT_MARKER.length)) as T);
      else reject(new ChildFailedError(`${script} exited with ${signal ?? `code ${code}`} and no result`));
    });
  });
}

/** Runs a child's main function: exit 0 after emitting a result, 1 on an error. */
export function childMain(main: () => Promise<unknown>): void {
  // tsx turns source maps on; a deployment of compiled JavaScript runs without them. With them,
  // every `error.stack` is mapped back to the TypeScript, which made stack traces (which all
  // three systems keep for every failure) a tenth of the run: an artefact of the bench.
  process.setSourceMapsEnabled(false);
  main().then(
    (result) => {
      emitResult(result);
      // Peers keep timers and sockets around after close; the result is out, so leave.
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
