import type { DeadLetterFilter } from '../../core/dead-letter.ts';
import { formatDuration } from '../../core/duration.ts';
import { type ReplayJob, type ReplayPlan, type ReplaySkip, replayJobGone } from '../../core/replay.ts';
import { formatAgo, formatTable, formatTime, formatTimeAndAgo, truncate } from '../output.ts';
import { renderDeadLetters } from './list.ts';

/** Skips listed by name before "and N more". */
const SKIPS_SHOWN = 20;

const SKIP_REASONS: Record<ReplaySkip['reason'], string> = {
  replay_limit: 'at its queue replay limit',
  duplicate_key: 'its idempotency key is live in the destination',
  gone: 'no longer in the DLQ',
};

/** The dry run's answer for people. */
export function renderPlan(plan: ReplayPlan, groups: Map<string, string>, now: number): string {
  if (plan.total === 0) return 'no dead letter matches the selection: nothing would be replayed';
  const lines = [
    `would replay ${count(plan.total)} ${destinationOf(plan)} (dry run: nothing was changed)`,
    `  by queue: ${plan.byQueue.map((q) => `${q.queue} ${q.count} (replay limit ${q.replayLimit})`).join(', ')}`,
    `  by tier:  ${plan.byTier.map((t) => `${t.tier} ${t.count}`).join(', ')}`,
    '  by group:',
    ...plan.byGroup
      .slice(0, 10)
      .map(
        (g) =>
          `    ${g.groupId}  ${String(g.count).padStart(6)}  ${truncate(groups.get(g.groupId) ?? '', 70)}`,
      ),
  ];
  if (plan.byGroup.length > 10) lines.push(`    and ${plan.byGroup.length - 10} more groups`);
  const before = plan.alreadyReplayed;
  lines.push(
    before.length === 0
      ? '  replayed before: none'
      : `  replayed before: ${before.map((b) => `${b.count} ${times(b.times)}`).join(', ')}`,
  );
  if (plan.atReplayLimit > 0) {
    lines.push(`  at the replay limit: ${count(plan.atReplayLimit)} (the replay would skip them)`);
  }
  lines.push('', 'samples:', renderDeadLetters(plan.samples, now));
  return lines.join('\n');
}

/** The end of a foreground run: what happened, the canary, what was skipped. */
export function renderRunEnd(outcome: { job: ReplayJob; skipped: readonly ReplaySkip[] }): string {
  const { job } = outcome;
  const lines = [headline(job)];
  const canary = renderCanary(job);
  if (canary) lines.push(`  canary: ${canary}`);
  lines.push(...renderSkips(job, outcome.skipped));
  if (job.status === 'paused') lines.push(`  resume: dlq replay resume ${job.id}`);
  lines.push(`  details: dlq replay status ${job.id}`);
  return lines.join('\n');
}

/** `dlq replay status <job>`. */
export function renderJob(job: ReplayJob, skipped: readonly ReplaySkip[], now: number): string {
  const fields: [string, string][] = [
    ['status', job.status + (job.holder ? ` (run by ${job.holder})` : '')],
    ['created', `${formatTimeAndAgo(job.createdAt, now)} by ${job.createdBy}`],
    ['selector', describeSelector(job.selector) || '(everything)'],
    ['destination', job.destination ?? 'each dead letter back to its source queue'],
    ['progress', `replayed ${job.replayed} of ${job.planned}, skipped ${job.skipped}`],
    [
      'pace',
      `batches of ${job.batchSize}, ${job.ratePerSecond === null ? 'no rate limit' : `${job.ratePerSecond} messages/s`}`,
    ],
  ];
  const canary = renderCanary(job);
  if (canary) fields.push(['canary', canary]);
  if (job.finishedAt !== null) fields.push(['finished', formatTimeAndAgo(job.finishedAt, now)]);
  else fields.push(['updated', formatTimeAndAgo(job.updatedAt, now)]);
  if (job.message) fields.push(['message', job.message]);
  const width = Math.max(...fields.map(([key]) => key.length));
  return [
    `replay job ${job.id}`,
    ...fields.map(([key, value]) => `  ${key.padEnd(width)}  ${value}`),
    ...renderSkips(job, skipped),
  ].join('\n');
}

/** `dlq replay list`. */
export function renderJobList(jobs: readonly ReplayJob[], now: number): string {
  return formatTable(
    [
      { header: 'JOB' },
      { header: 'STATUS' },
      { header: 'CREATED', align: 'right' },
      { header: 'BY' },
      { header: 'REPLAYED', align: 'right' },
      { header: 'SKIPPED', align: 'right' },
      { header: 'PLANNED', align: 'right' },
      { header: 'SELECTOR' },
    ],
    jobs.map((job) => [
      job.id,
      job.status,
      formatAgo(job.createdAt, now),
      job.createdBy,
      String(job.replayed),
      String(job.skipped),
      String(job.planned),
      truncate(describeSelector(job.selector), 50),
    ]),
  );
}

/** A replay's selector in one line, e.g. `queue=orders tier=permanent where body.customer.country="DE"`. */
export function describeSelector(filter: DeadLetterFilter): string {
  const parts: string[] = [];
  if (filter.ids)
    parts.push(`ids=${filter.ids.length <= 3 ? filter.ids.join(',') : `(${filter.ids.length} ids)`}`);
  if (filter.queue !== undefined) parts.push(`queue=${filter.queue}`);
  if (filter.tier !== undefined) parts.push(`tier=${filter.tier}`);
  if (filter.groupId !== undefined) parts.push(`group=${filter.groupId}`);
  if (filter.since !== undefined) parts.push(`since=${formatTime(filter.since)}`);
  if (filter.until !== undefined) parts.push(`until=${formatTime(filter.until)}`);
  if (filter.grep !== undefined) parts.push(`grep=${JSON.stringify(filter.grep)}`);
  for (const match of filter.where ?? []) {
    parts.push(`where body.${match.path.join('.')}=${JSON.stringify(match.value)}`);
  }
  return parts.join(' ');
}

function headline(job: ReplayJob): string {
  const progress = `${job.replayed} of ${count(job.planned)} ${destinationWords(job.destination)}`;
  switch (job.status) {
    case 'completed': {
      const gone = replayJobGone(job);
      return (
        `replay job ${job.id} completed: replayed ${progress}` +
        (job.skipped > 0 ? `; skipped ${job.skipped}` : '') +
        (gone > 0
          ? `; ${gone} left the DLQ before their turn (discarded, archived or replayed elsewhere)`
          : '')
      );
    }
    case 'canary_failed':
      return `replay job ${job.id} was stopped by its canary after replaying ${progress}: ${job.message ?? ''}`;
    case 'paused':
      return `replay job ${job.id} paused after replaying ${progress}`;
    case 'cancelled':
      return `replay job ${job.id} was cancelled after replaying ${progress}`;
    case 'failed':
      return `replay job ${job.id} failed after replaying ${progress}: ${job.message ?? ''}`;
    default:
      return `replay job ${job.id} is ${job.status} (replayed ${progress})`;
  }
}

function renderCanary(job: ReplayJob): string | undefined {
  if (job.canarySize === 0 || !job.canary) return undefined;
  const { canary } = job;
  const head = `${job.canarySize} first (stops above ${Math.round(job.canaryMaxFailureRate * 100)}% dying again)`;
  if (canary.outcome) {
    const o = canary.outcome;
    const died = o.died.length;
    const detail = `${canary.messages.length} replayed, ${o.done} done, ${died} died again${o.pending > 0 ? `, ${o.pending} without outcome` : ''}`;
    const dead = died > 0 ? `; died again: ${o.died.slice(0, 5).join(', ')}${died > 5 ? ', ...' : ''}` : '';
    return `${head}: ${o.verdict.replace('_', ' ')} (${detail})${dead}`;
  }
  if (canary.waitingSince !== null) {
    return `${head}: waiting for the outcome of ${canary.messages.length} messages since ${formatTime(canary.waitingSince)} (gives up after ${formatDuration(canary.timeoutMs)})`;
  }
  return `${head}: ${canary.messages.length} replayed so far`;
}

function renderSkips(job: ReplayJob, skipped: readonly ReplaySkip[]): string[] {
  if (job.skipped === 0) return [];
  const lines = [`  skipped ${count(job.skipped)}:`];
  for (const skip of skipped.slice(0, SKIPS_SHOWN)) {
    const detail =
      skip.reason === 'replay_limit'
        ? ` (replayed ${times(Number(skip.detail))})`
        : skip.reason === 'duplicate_key'
          ? ` (live message ${skip.detail})`
          : '';
    lines.push(`    ${skip.id}  ${SKIP_REASONS[skip.reason]}${detail}`);
  }
  if (job.skipped > SKIPS_SHOWN)
    lines.push(`    and more: dlq audit --action replay.skip --target ${job.id}`);
  return lines;
}

function destinationOf(plan: ReplayPlan): string {
  if (plan.destination !== null) return `to queue ${plan.destination}`;
  return `back to their source queue${plan.destinations.length === 1 ? ` ${plan.destinations[0]?.queue}` : 's'}`;
}

function destinationWords(destination: string | null): string {
  return destination === null ? 'back to their source queues' : `to queue ${destination}`;
}

function count(n: number): string {
  return `${n} dead letter${n === 1 ? '' : 's'}`;
}

function times(n: number): string {
  return n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`;
}
