import { userInfo } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Duration } from '../core/duration.ts';
import { SchemaVersionError, ValidationError } from '../core/errors.ts';
import { Deadletter } from '../engine/deadletter.ts';
import type { MaintenanceOptions } from '../engine/maintenance.ts';
import type { ReplaySettings } from '../engine/replays.ts';
import { DEFAULT_ARCHIVE_DIR } from '../engine/retention-sweeper.ts';
import { openStore, resolveStoreUrl } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { type AdminApi, ApiClient, type DeadletterApi, type ServerTarget } from './api-client.ts';
import { reasonFor } from './errors.ts';
import { LocalAdmin } from './local-admin.ts';
import { type TextSink, writeJson, writeLine } from './output.ts';
import { resolveServerTarget, storeOnlyError } from './server-target.ts';

/**
 * What `runCli` talks to instead of the process: the binary passes the real streams, tests
 * pass captures. Nothing in the CLI reads `process.*` directly.
 */
export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  /** Read by `dlq send` when no `--body` is given. Absent or a TTY: `send` requires `--body`. */
  stdin?: (NodeJS.ReadableStream & { isTTY?: boolean }) | undefined;
  /** `DEADLETTER_STORE` is read from here. */
  env: NodeJS.ProcessEnv;
  /** Relative store paths and handler modules are resolved against it. Default `process.cwd()`. */
  cwd?: string | undefined;
  /**
   * Subscribes to shutdown requests (SIGINT/SIGTERM in the binary) for the duration of a
   * long-running command (`work`, `demo`); returns the unsubscribe function. Absent: such
   * commands only stop by themselves.
   */
  onShutdown?: ((listener: () => void) => () => void) | undefined;
}

/** Options every command accepts, before or after the command name. */
export interface GlobalOptions {
  store?: string;
  json?: boolean;
  actor?: string;
  archiveDir?: string;
  /** `--server URL` and `--token T`: talk to a running `dlq serve` instead of the store. */
  server?: string;
  token?: string;
}

/** The state one command runs with: its streams, the global options and the store URL. */
export class CliContext {
  readonly io: CliIo;
  /** `--json`: one JSON document on stdout and nothing else there. */
  readonly json: boolean;
  /** The store URL after `--store`, `DEADLETTER_STORE` and the default, anchored to `cwd`. */
  readonly storeUrl: string;
  readonly cwd: string;
  /** Who the audit log records for changes: `--actor`, else `DEADLETTER_ACTOR`, else the OS user. */
  readonly actor: string;
  /** The archive directory: `--archive-dir`, else `DEADLETTER_ARCHIVE_DIR`, else `./.deadletter/archive`, from `cwd`. */
  readonly archiveDir: string;
  /** The server given by `--server`/`DEADLETTER_SERVER` (with its token), or undefined: use the store. */
  readonly server: ServerTarget | undefined;

  constructor(io: CliIo, globals: GlobalOptions) {
    this.io = io;
    this.server = resolveServerTarget(globals, io.env);
    this.json = globals.json === true;
    this.actor = resolveActor(globals.actor, io.env);
    this.cwd = io.cwd ?? process.cwd();
    this.storeUrl = anchorStoreUrl(resolveStoreUrl(globals.store, io.env), this.cwd);
    this.archiveDir = resolve(
      this.cwd,
      globals.archiveDir?.trim() || io.env.DEADLETTER_ARCHIVE_DIR?.trim() || DEFAULT_ARCHIVE_DIR,
    );
  }

  /** The context of the command whose action is running (its options merged with the globals). */
  static of(command: Command, io: CliIo): CliContext {
    return new CliContext(io, command.optsWithGlobals<GlobalOptions>());
  }

  /** The wall clock, for relative times in human output. */
  now(): number {
    return Date.now();
  }

  /** A line of human output on stdout (suppressed under `--json`). */
  print(text = ''): void {
    if (!this.json) writeLine(this.io.stdout, text);
  }

  /** The one JSON document of a `--json` run. */
  printJson(value: unknown): void {
    writeJson(this.io.stdout, value);
  }

  /** A one-line notice on stderr, `dlq: warning: ...`, shown in both modes. */
  warn(text: string): void {
    writeLine(this.io.stderr, `dlq: warning: ${text}`);
  }

  /** Progress for people, `dlq: ...` on stderr under `--json` so stdout stays one document. */
  progress(text: string): void {
    writeLine(this.json ? this.io.stderr : this.io.stdout, this.json ? `dlq: ${text}` : text);
  }

  /**
   * Runs `use` against the server when `--server` is given (an {@link ApiClient}), else against
   * the store as {@link withDeadletter} does. For the commands that work both ways.
   */
  withApi<T>(
    use: (api: DeadletterApi) => Promise<T>,
    options: { create?: boolean; replay?: ReplaySettings } = {},
  ): Promise<T> {
    if (this.server) return use(new ApiClient(this.server));
    return this.withDeadletter(use, options);
  }

  /**
   * Runs `use` with the admin calls (alert rules and history, tokens) against the server when
   * `--server` is given, else against the store, as this CLI's actor.
   */
  withAdmin<T>(use: (admin: AdminApi) => Promise<T>, options: { create?: boolean } = {}): Promise<T> {
    if (this.server) return use(new ApiClient(this.server));
    return this.withDeadletter((dl) => use(new LocalAdmin(dl, this.actor)), options);
  }

  /** The client of the server given by `--server`, or undefined when the CLI uses the store. */
  remote(): ApiClient | undefined {
    return this.server ? new ApiClient(this.server) : undefined;
  }

  /**
   * Opens the store, runs `use`, and closes it whatever happens. An existing store is never
   * upgraded (that is `dlq migrate`). A missing one is created only with `create: true`
   * (commands that set things up: `queue create`, `demo`); the others refuse with exit 2 and
   * leave nothing behind, since a store without queues cannot hold what they look for.
   * Refused (exit 2) when a server is given: the command cannot go through it.
   */
  async withDeadletter<T>(
    use: (dl: Deadletter) => Promise<T>,
    options: {
      create?: boolean;
      maintenance?: MaintenanceOptions & { leaseSweepInterval?: Duration };
      /** Replay settings of the handle (`dlq replay --hold-lease`). */
      replay?: ReplaySettings;
    } = {},
  ): Promise<T> {
    if (this.server) throw storeOnlyError();
    let store: Store;
    try {
      store = await openStore(this.storeUrl, { migrate: options.create === true });
    } catch (error) {
      if (error instanceof SchemaVersionError && error.found === 0) {
        throw new SchemaVersionError(
          `no Deadletter store at ${this.storeUrl} yet: create it with \`dlq migrate\` or \`dlq queue create <name>\`, ` +
            'or point --store (or DEADLETTER_STORE) at an existing one',
          error.found,
          error.expected,
        );
      }
      throw error;
    }
    const dl = await Deadletter.open({
      store,
      // Every change through this handle is audited as the CLI's actor unless a call says otherwise.
      actor: this.actor,
      archiveDir: this.archiveDir,
      ...(options.replay ? { replay: options.replay } : {}),
      maintenance: {
        ...options.maintenance,
        onError: (error, service) =>
          this.io.stderr.write(`dlq: ${service} failed (retrying): ${reasonFor(error)}\n`),
      },
    });
    try {
      return await use(dl);
    } finally {
      await dl.close();
      await store.close();
    }
  }
}

/** `--actor`, `DEADLETTER_ACTOR`, the OS user, or `cli`. */
export function resolveActor(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const given = flag?.trim() || env.DEADLETTER_ACTOR?.trim();
  if (given) {
    if (given.length > 200) throw new ValidationError('invalid --actor: use at most 200 characters');
    return given;
  }
  try {
    return userInfo().username || 'cli';
  } catch {
    return env.USER ?? 'cli';
  }
}

/**
 * Resolves a relative `sqlite:` path against `cwd`, so that `runCli` does not depend on the
 * process's directory. Other URLs are returned as they are (the store validates them).
 */
export function anchorStoreUrl(url: string, cwd: string): string {
  const text = url.trim();
  if (!text.startsWith('sqlite:')) return text;
  const rest = text.slice('sqlite:'.length);
  if (rest === ':memory:' || rest.length === 0) return text;
  const path = rest.startsWith('//') ? rest.slice(2) : rest;
  if (path.length === 0 || isAbsolute(path)) return text;
  return `sqlite:${resolve(cwd, path)}`;
}
