import type { Command } from 'commander';
import { parseDuration } from '../../core/duration.ts';
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import {
  isReplayJobStatus,
  MAX_CANARY_SIZE,
  REPLAY_JOB_STATUSES,
  type ReplayJob,
  type ReplayJobStatus,
} from '../../core/replay.ts';
import type { ReplayOptions, ReplaySettings } from '../../engine/replays.ts';
import type { DeadletterApi } from '../api-client.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { parseIntOption } from '../option-parsers.ts';
import { type Progress, progressBar } from '../progress.ts';
import { addSelectorOptions, isNarrowed, type SelectorFlags, selectorFrom } from '../selectors.ts';
import { renderJob, renderJobList, renderPlan, renderRunEnd } from './replay-output.ts';

interface ReplayFlags extends SelectorFlags {
  to?: string;
  dryRun?: boolean;
  rate?: string;
  batchSize?: string;
  canary?: string;
  canaryMaxFailureRate?: string;
  canaryTimeout?: string;
  detach?: boolean;
  holdLease?: string;
}

/**
 * `dlq replay [selectors] [--to q] [--dry-run] [--rate N] [--batch-size N] [--canary N]
 * [--canary-max-failure-rate 0.2] [--canary-timeout 15m] [--detach]`, and
 * `dlq replay status|pause|resume|cancel <job>`, `dlq replay list`.
 *
 * A replay runs in the foreground, with a progress bar in a terminal, until its job ends;
 * Ctrl-C pauses it (`dlq replay resume <job>` continues). Exit 0 when the job completed,
 * 1 when it stopped otherwise (its canary, a cancel, a pause), 2 on bad input (nothing changed).
 */
export function registerReplayCommands(program: Command, io: CliIo): void {
  const replay = addSelectorOptions(
    program
      .command('replay')
      .description(
        'send dead letters back to their queue (or --to another) as a durable job; see --dry-run first',
      ),
  )
    .option('--to <queue>', 'destination queue (default: each dead letter goes back to its source queue)')
    .option(
      '--dry-run',
      'only show what would be replayed: how many, groups, tiers, samples, earlier replays',
    )
    .option('--rate <n>', 'messages per second (default: as fast as the store goes)')
    .option('--batch-size <n>', 'dead letters per transaction, 1-5000 (default 500)')
    .option(
      '--canary <n>',
      `replay n first (1-${MAX_CANARY_SIZE}), wait for their outcome, stop if too many die again`,
    )
    .option(
      '--canary-max-failure-rate <rate>',
      'stop when more than this share of the canary dies again (default 0.2)',
    )
    .option('--canary-timeout <duration>', 'stop when the canary outcome is not known in time (default 15m)')
    .option(
      '--detach',
      "create the job and return: a running server's replay runner runs it (with --server: do not follow it)",
    )
    .option(
      '--hold-lease <duration>',
      'if this process dies, another (dlq replay resume, a server) takes the job over after this (default 30s)',
    )
    .action(async (flags: ReplayFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      const filter = selectorFrom(flags, ctx.now());
      if (!isNarrowed(filter)) {
        throw new ValidationError(
          'select the dead letters to replay: --ids, --group, --queue, --tier, --since/--until, --grep or --where',
        );
      }
      const options = replayOptionsFrom(flags);
      const settings = holdLeaseOf(flags);
      if (flags.dryRun === true) {
        const { plan, groups } = await ctx.withApi(async (api) => {
          const plan = await api.replayDryRun(filter, flags.to === undefined ? {} : { to: flags.to });
          return { plan, groups: await groupNames(api, plan.byGroup.slice(0, 10)) };
        });
        if (ctx.json) return ctx.printJson({ dryRun: true, ...plan });
        return ctx.print(renderPlan(plan, groups, ctx.now()));
      }
      // Through a server its replay runner runs the job; without --detach it is followed by polling.
      const outcome = await ctx.withApi(
        (api) => foreground(ctx, (progress) => api.replay(filter, { ...options, ...progress })),
        settings,
      );
      if (ctx.json) ctx.printJson(outcome);
      else ctx.print(outcome.job.status === 'pending' ? detachedNote(outcome.job) : renderRunEnd(outcome));
      failUnlessDone(outcome.job);
    });

  replay
    .command('status')
    .description('a replay job: status, progress, canary, what was skipped and why')
    .argument('<job>', 'replay job id')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      const shown = await ctx.withApi(async (api) => ({
        job: await api.getReplayJob(id),
        skipped: await api.listReplaySkips(id),
      }));
      if (ctx.json) return ctx.printJson(shown);
      ctx.print(renderJob(shown.job, shown.skipped, ctx.now()));
    });

  replay
    .command('list')
    .description('replay jobs, newest first')
    .option('--status <status>', `only jobs in this status: ${REPLAY_JOB_STATUSES.join(', ')}`)
    .option('--limit <n>', 'how many, 1-1000 (default 50)')
    .action(async (flags: { status?: string; limit?: string }, command: Command) => {
      const ctx = CliContext.of(command, io);
      const params: { status?: ReplayJobStatus; limit?: number } = {};
      if (flags.status !== undefined) {
        if (!isReplayJobStatus(flags.status)) {
          throw new ValidationError(
            `unknown replay job status "${flags.status}": use one of ${REPLAY_JOB_STATUSES.join(', ')}`,
          );
        }
        params.status = flags.status;
      }
      if (flags.limit !== undefined)
        params.limit = parseIntOption(flags.limit, '--limit', { min: 1, max: 1000 });
      const jobs = await ctx.withApi((api) => api.listReplayJobs(params));
      if (ctx.json) return ctx.printJson(jobs);
      ctx.print(jobs.length === 0 ? 'no replay jobs' : renderJobList(jobs, ctx.now()));
    });

  replay
    .command('pause')
    .description('pause a replay job: its runner stops before the next batch (resume continues it)')
    .argument('<job>', 'replay job id')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      const job = await ctx.withApi((api) => api.pauseReplay(id, { actor: ctx.actor }));
      if (ctx.json) return ctx.printJson(job);
      ctx.print(
        `replay job ${job.id} paused after ${job.replayed} of ${job.planned}; resume: dlq replay resume ${job.id}`,
      );
    });

  replay
    .command('resume')
    .description(
      'resume a paused job (or take over one whose runner died) and run it here; --detach leaves it to a server',
    )
    .argument('<job>', 'replay job id')
    .option('--detach', "only mark it to run: a running server's replay runner picks it up")
    .option(
      '--hold-lease <duration>',
      'if this process dies, another takes the job over after this (default 30s)',
    )
    .action(async (id: string, _flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      // `replay` itself has --detach and --hold-lease too: after `resume` they may land on either.
      const flags = command.optsWithGlobals<{ detach?: boolean; holdLease?: string }>();
      const outcome = await ctx.withApi(
        (api) =>
          foreground(ctx, (progress) =>
            api.resumeReplay(id, {
              actor: ctx.actor,
              ...(flags.detach === true && { detach: true }),
              ...progress,
            }),
          ),
        holdLeaseOf(flags),
      );
      if (ctx.json) ctx.printJson(outcome);
      else ctx.print(outcome.job.status === 'pending' ? detachedNote(outcome.job) : renderRunEnd(outcome));
      failUnlessDone(outcome.job);
    });

  replay
    .command('cancel')
    .description('cancel a replay job; what it replayed stays replayed')
    .argument('<job>', 'replay job id')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      const job = await ctx.withApi((api) => api.cancelReplay(id, { actor: ctx.actor }));
      if (ctx.json) return ctx.printJson(job);
      ctx.print(`replay job ${job.id} cancelled after ${job.replayed} of ${job.planned} replayed`);
    });
}

/** Progress callbacks of a foreground run: a bar in a terminal, Ctrl-C pauses the job. */
interface ForegroundHooks {
  onProgress: NonNullable<ReplayOptions['onProgress']>;
  signal: AbortSignal;
}

/** Runs a job in the foreground with a progress bar; a shutdown request (Ctrl-C) pauses it. */
async function foreground<T>(ctx: CliContext, run: (hooks: ForegroundHooks) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const unsubscribe = ctx.io.onShutdown?.(() => abort.abort());
  let bar: Progress | undefined;
  const onProgress = (job: ReplayJob) => {
    bar ??= progressBar(ctx, `replay ${job.id}`);
    bar.update(Math.min(job.replayed + job.skipped, job.planned), job.planned);
  };
  try {
    return await run({ onProgress, signal: abort.signal });
  } finally {
    bar?.stop();
    unsubscribe?.();
  }
}

/** Exit 1 (after the summary) when the job did not complete. */
function failUnlessDone(job: ReplayJob): void {
  if (job.status === 'completed' || job.status === 'pending') return;
  throw new Error(`replay job ${job.id} did not complete: it is ${job.status}`);
}

function detachedNote(job: ReplayJob): string {
  return (
    `replay job ${job.id} created (pending, ${job.planned} dead letters): a running server's replay runner ` +
    `runs it, or run it here with \`dlq replay resume ${job.id}\`; follow it with \`dlq replay status ${job.id}\``
  );
}

/** The replay options of the flags, validated before anything is opened (exit 2). */
export function replayOptionsFrom(flags: ReplayFlags): ReplayOptions {
  const options: ReplayOptions = {};
  if (flags.to !== undefined) options.to = flags.to;
  if (flags.rate !== undefined) {
    const rate = Number(flags.rate.trim());
    if (flags.rate.trim() === '' || !Number.isFinite(rate) || rate <= 0 || rate > 1_000_000) {
      throw new ValidationError(
        `invalid --rate "${flags.rate}": use messages per second, more than 0 (e.g. 50)`,
      );
    }
    options.rate = rate;
  }
  if (flags.batchSize !== undefined) {
    options.batchSize = parseIntOption(flags.batchSize, '--batch-size', { min: 1, max: 5000 });
  }
  if (flags.canary !== undefined) {
    options.canary = parseIntOption(flags.canary, '--canary', { min: 1, max: MAX_CANARY_SIZE });
  }
  if (flags.canaryMaxFailureRate !== undefined) {
    options.canaryMaxFailureRate = parseRate(flags.canaryMaxFailureRate);
  }
  if (flags.canaryTimeout !== undefined) {
    options.canaryTimeout = parseDuration(flags.canaryTimeout, '--canary-timeout');
  }
  if (
    (flags.canaryMaxFailureRate !== undefined || flags.canaryTimeout !== undefined) &&
    options.canary === undefined
  ) {
    throw new ValidationError('--canary-max-failure-rate and --canary-timeout need --canary <n>');
  }
  if (flags.detach === true) options.detach = true;
  return options;
}

/** `0.2` or `20%`. */
function parseRate(text: string): number {
  const trimmed = text.trim();
  const percent = trimmed.endsWith('%');
  const value = Number(percent ? trimmed.slice(0, -1) : trimmed);
  const rate = percent ? value / 100 : value;
  if (trimmed === '' || trimmed === '%' || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new ValidationError(
      `invalid --canary-max-failure-rate "${text}": use 0 to 1 (0.2) or a percentage (20%)`,
    );
  }
  return rate;
}

function holdLeaseOf(flags: { holdLease?: string }): { replay?: ReplaySettings } {
  if (flags.holdLease === undefined) return {};
  const ms = parseDuration(flags.holdLease, '--hold-lease');
  if (ms < 1_000 || ms > 3_600_000) throw new ValidationError('invalid --hold-lease: use 1s to 1h');
  return { replay: { holdLease: ms } };
}

/** `error name: normalised message` of each group, to say what the groups of a selection are. */
async function groupNames(api: DeadletterApi, groups: { groupId: string }[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const { groupId } of groups) {
    const group = await api.getGroup(groupId).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    if (group) names.set(groupId, `${group.errorName}: ${group.normalizedMessage}`);
  }
  return names;
}
