import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { parseDuration } from '../../core/duration.ts';
import { ValidationError } from '../../core/errors.ts';
import { validateQueueName } from '../../core/queue-settings.ts';
import type { Handler, WorkerCounters, WorkerOptions } from '../../engine/worker.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { reasonFor } from '../errors.ts';
import { parseIntOption } from '../option-parsers.ts';
import { storeOnlyError } from '../server-target.ts';

interface WorkFlags {
  handler: string;
  concurrency?: string;
  batchSize?: string;
  drain?: boolean;
  pollInterval?: string;
  workerVersion?: string;
  shutdownTimeout?: string;
}

/** What `dlq work --json` prints when the worker has stopped. */
export interface WorkSummary {
  queue: string;
  workerId: string;
  /** `drain`: nothing was left to do; `shutdown`: SIGINT/SIGTERM asked it to stop. */
  stoppedBy: 'drain' | 'shutdown';
  counters: WorkerCounters;
}

/**
 * `dlq work <queue> --handler <module>`: runs the default export of a module as the queue's
 * handler until stopped (SIGINT/SIGTERM: graceful stop, exit 0) or, with `--drain`, until
 * nothing is waiting, delayed or leased.
 */
export function registerWorkCommand(program: Command, io: CliIo): void {
  program
    .command('work')
    .description('run a handler module (its default export) over a queue')
    .argument('<queue>', 'queue to work on')
    .requiredOption('--handler <module>', 'module whose default export handles a message (.js, .mjs or .ts)')
    .option('--concurrency <n>', 'handlers running at once (default 10)')
    .option('--batch-size <n>', 'most messages claimed at a time (default min(concurrency, 100))')
    .option('--drain', 'exit once nothing is waiting, leased or delayed')
    .option('--poll-interval <duration>', 'how often an idle worker looks for messages (default 200ms)')
    .option('--worker-version <version>', "recorded on every attempt, e.g. your service's version")
    .option('--shutdown-timeout <duration>', 'how long a stop waits for running handlers (default 30s)')
    .action(async (queue: string, flags: WorkFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      // Workers run beside the store; refused before the handler module is loaded.
      if (ctx.server) throw storeOnlyError();
      validateQueueName(queue);
      const options = workerOptionsFrom(flags, ctx);
      const handler = await loadHandler(flags.handler, ctx.cwd);
      const summary = await ctx.withDeadletter(async (dl) => {
        const worker = await dl.work(queue, handler, options);
        let stoppedBy: WorkSummary['stoppedBy'] = 'drain';
        const unsubscribe = io.onShutdown?.(() => {
          stoppedBy = 'shutdown';
          ctx.progress('stopping: waiting for running handlers (send the signal again to force)');
          void worker.stop();
        });
        ctx.progress(
          `worker ${worker.identity.workerId} on queue ${queue}${flags.drain ? ' (until drained)' : ' (Ctrl-C stops)'}`,
        );
        try {
          await worker.stopped;
        } finally {
          unsubscribe?.();
        }
        return { queue, workerId: worker.identity.workerId, stoppedBy, counters: { ...worker.counters } };
      });
      if (ctx.json) return ctx.printJson(summary);
      const c = summary.counters;
      ctx.print(
        `stopped (${summary.stoppedBy}): claimed ${c.claimed}, completed ${c.completed}, retried ${c.retried}, ` +
          `dead-lettered ${c.deadLettered}, dropped ${c.dropped}, leases lost ${c.leasesLost}`,
      );
    });
}

function workerOptionsFrom(flags: WorkFlags, ctx: CliContext): WorkerOptions {
  const options: WorkerOptions = {
    onError: (error) => ctx.io.stderr.write(`dlq: worker error (retrying): ${reasonFor(error)}\n`),
  };
  if (flags.concurrency !== undefined) {
    options.concurrency = parseIntOption(flags.concurrency, '--concurrency', { min: 1, max: 10_000 });
  }
  if (flags.batchSize !== undefined) {
    options.batchSize = parseIntOption(flags.batchSize, '--batch-size', { min: 1, max: 1_000 });
  }
  if (flags.drain) options.drain = true;
  if (flags.pollInterval !== undefined) {
    options.pollInterval = parseDuration(flags.pollInterval, '--poll-interval');
  }
  if (flags.shutdownTimeout !== undefined) {
    options.shutdownTimeout = parseDuration(flags.shutdownTimeout, '--shutdown-timeout');
  }
  if (flags.workerVersion !== undefined) options.workerVersion = flags.workerVersion;
  return options;
}

/**
 * Imports the handler module (resolved against `cwd`; `.ts` works because the binary runs
 * under tsx) and returns its default export, which must be a function. Any failure to load it
 * is bad input (exit 2): the worker never starts.
 */
async function loadHandler(path: string, cwd: string): Promise<Handler> {
  const file = resolve(cwd, path);
  if (!existsSync(file)) throw new ValidationError(`handler module ${file} does not exist`);
  let loaded: { default?: unknown };
  try {
    loaded = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    // A .ts file outside a `"type": "module"` package is loaded as CommonJS, where its
    // imports of ES modules fail with a puzzling require() error: say what to change.
    const hint =
      file.endsWith('.ts') && /require/i.test(reasonFor(error))
        ? ' (a .ts handler that uses import/export needs "type": "module" in its package.json, or the .mts extension)'
        : '';
    throw new ValidationError(`handler module ${file} failed to load: ${reasonFor(error)}${hint}`, {
      cause: error,
    });
  }
  const handler = loaded.default;
  if (typeof handler !== 'function') {
    throw new ValidationError(
      `handler module ${file} has no default export function: ` +
        'write `export default async function handle(message, context) { ... }`',
    );
  }
  return handler as Handler;
}
