import { Presets, SingleBar } from 'cli-progress';
import type { CliContext } from './cli-context.ts';

/** A progress bar for long work; a no-op when nobody watches. */
export interface Progress {
  /** `done` of `total` items handled so far. */
  update(done: number, total: number): void;
  /** Removes the bar (the command prints its own summary afterwards). */
  stop(): void;
}

const SILENT: Progress = { update: () => undefined, stop: () => undefined };

/**
 * A bar on stderr, `label [=====     ] 40% 400/1000 eta 3s`, only when stderr is a terminal and
 * the output is not `--json`: scripts and pipes get no escape codes, and stdout stays clean.
 */
export function progressBar(ctx: CliContext, label: string): Progress {
  const stderr = ctx.io.stderr as NodeJS.WritableStream & { isTTY?: boolean };
  if (ctx.json || stderr.isTTY !== true) return SILENT;
  const bar = new SingleBar(
    {
      stream: stderr,
      format: `${label} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}`,
      clearOnComplete: true,
      hideCursor: true,
    },
    Presets.legacy,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
