import type { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runCli } from '../../src/cli/run-cli.ts';
import { tempDir } from '../support/temp-dir.ts';

/** The outcome of one in-process `dlq` run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of one run: stdin text, extra environment, a working directory, a shutdown trigger. */
export interface RunOptions {
  stdin?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Emitting `shutdown` on it plays the part of SIGINT. */
  shutdown?: EventEmitter;
}

/** Captures a stream's writes as text. */
function capture(): { sink: { write(text: string): boolean }; text: () => string } {
  const chunks: string[] = [];
  return { sink: { write: (text: string) => chunks.push(text) > 0 }, text: () => chunks.join('') };
}

/** Runs `dlq` in-process with captured streams. */
export async function runDlq(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const stdout = capture();
  const stderr = capture();
  const shutdown = options.shutdown;
  const code = await runCli(args, {
    stdout: stdout.sink,
    stderr: stderr.sink,
    stdin: options.stdin === undefined ? undefined : Readable.from([options.stdin]),
    env: options.env ?? {},
    cwd: options.cwd,
    onShutdown: shutdown
      ? (listener) => {
          shutdown.on('shutdown', listener);
          return () => shutdown.off('shutdown', listener);
        }
      : undefined,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** A temp directory with a store URL in it, used through `DEADLETTER_STORE`. */
export interface CliFixture {
  dir: string;
  storePath: string;
  storeUrl: string;
  /** Runs `dlq` against this fixture's store. */
  run(args: string[], options?: RunOptions): Promise<CliResult>;
  /** Runs with `--json`, expects exit 0 and returns the parsed stdout. */
  json<T>(args: string[], options?: RunOptions): Promise<T>;
  remove(): void;
}

export function cliFixture(prefix = 'dlq-cli-'): CliFixture {
  const { dir, remove } = tempDir(prefix);
  const storePath = join(dir, 'store.db');
  const storeUrl = `sqlite:${storePath}`;
  const run = (args: string[], options: RunOptions = {}) =>
    runDlq(args, { cwd: dir, ...options, env: { DEADLETTER_STORE: storeUrl, ...options.env } });
  return {
    dir,
    storePath,
    storeUrl,
    run,
    async json<T>(args: string[], options?: RunOptions): Promise<T> {
      const result = await run([...args, '--json'], options);
      if (result.code !== 0) {
        throw new Error(`dlq ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
      }
      return JSON.parse(result.stdout) as T;
    },
    remove,
  };
}
