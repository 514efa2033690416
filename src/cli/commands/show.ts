import type { Command } from 'commander';
import type { DeadLetter } from '../../core/dead-letter.ts';
import type { Tombstone } from '../../core/discard.ts';
import { formatDuration } from '../../core/duration.ts';
import { NotFoundError } from '../../core/errors.ts';
import type { FailureInfo } from '../../core/failure.ts';
import type { Group } from '../../core/group.ts';
import type { DeadLetterLineage, LineageLink, ReplayedDeadLetter } from '../../core/lineage.ts';
import type { Attempt } from '../../core/message.ts';
import type { Deadletter } from '../../engine/deadletter.ts';
import type { MessageRecord } from '../../store/store.ts';
import type { DeadletterApi } from '../api-client.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { errorLine, formatTime, formatTimeAndAgo } from '../output.ts';

/**
 * What `dlq show --json` prints: a dead letter (with its group), or, if it is not dead, the
 * message, or, if it was discarded, its tombstone.
 */
export type ShownRecord =
  | { kind: 'dead-letter'; deadLetter: DeadLetter; group: Group | null }
  | { kind: 'message'; message: MessageRecord }
  | { kind: 'tombstone'; tombstone: Tombstone }
  | { kind: 'replayed-dead-letter'; deadLetter: ReplayedDeadLetter; group: Group | null };

/** `dlq show --json`: the record and its lineage (the dead letter it replays, what it was replayed to). */
export type ShownWithLineage = ShownRecord & { lineage: DeadLetterLineage | null };

/** `dlq show <id>`: a dead letter with its whole context, or the live message of that id. */
export function registerShowCommand(program: Command, io: CliIo): void {
  program
    .command('show')
    .description('show a dead letter with its attempts, error, headers, body and stack (or a live message)')
    .argument('<id>', 'dead letter or message id')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      // Through a server only dead letters in the DLQ can be shown (no messages or history), with their lineage.
      const shown: ShownWithLineage = ctx.server
        ? await ctx.withApi(async (api) => ({
            ...(await findDeadLetter(api, id)),
            lineage: await api.getLineage(id).catch(() => null),
          }))
        : await ctx.withDeadletter(async (dl) => ({
            ...(await findRecord(dl, id)),
            lineage: await dl.getLineage(id).catch(() => null),
          }));
      if (ctx.json) return ctx.printJson(shown);
      const now = ctx.now();
      ctx.print(
        shown.kind === 'dead-letter'
          ? renderDeadLetter(shown.deadLetter, shown.group, now)
          : shown.kind === 'replayed-dead-letter'
            ? renderReplayedDeadLetter(shown.deadLetter, shown.group, now)
            : shown.kind === 'tombstone'
              ? renderTombstone(shown.tombstone, now)
              : renderMessage(shown.message, now),
      );
      const lineage = renderLineage(shown.lineage, now);
      if (lineage) ctx.print(`\n${lineage}`);
    });
}

/** A dead letter and its group, through the API (`--server`). */
async function findDeadLetter(api: DeadletterApi, id: string): Promise<ShownRecord> {
  const deadLetter = await api.getDeadLetter(id);
  const group = await api.getGroup(deadLetter.groupId).catch(() => null);
  return { kind: 'dead-letter', deadLetter, group };
}

async function findRecord(dl: Deadletter, id: string): Promise<ShownRecord> {
  try {
    const deadLetter = await dl.getDeadLetter(id);
    const group = await dl.getGroup(deadLetter.groupId).catch(() => null);
    return { kind: 'dead-letter', deadLetter, group };
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  try {
    return { kind: 'message', message: await dl.getMessage(id) };
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  const replayed = await dl.findReplayedDeadLetter(id);
  if (replayed) {
    const group = await dl.getGroup(replayed.groupId).catch(() => null);
    return { kind: 'replayed-dead-letter', deadLetter: replayed, group };
  }
  const tombstone = await dl.store.tombstoneGet({ id });
  if (tombstone) return { kind: 'tombstone', tombstone };
  throw new NotFoundError(
    `no dead letter or message with id "${id}" (unknown, or a message that succeeded and was pruned after its queue's done retention)`,
  );
}

/** A dead letter that was replayed: when, by whom, as which message; then its whole context. */
export function renderReplayedDeadLetter(dead: ReplayedDeadLetter, group: Group | null, now: number): string {
  const job = dead.replayJobId === null ? '' : ` (replay job ${dead.replayJobId})`;
  return [
    `dead letter ${dead.id} was replayed by ${dead.replayedBy} at ${formatTime(dead.replayedAt)} as message ` +
      `${dead.replayedTo} to queue ${dead.destination}${job}; it is kept in the replay history`,
    renderDeadLetter(dead, group, now),
  ].join('\n\n');
}

/** The lineage section: the dead letter this one replays, and what it was replayed to; '' when neither. */
export function renderLineage(lineage: DeadLetterLineage | null, now: number): string {
  if (!lineage || (lineage.previous === null && lineage.next === null)) return '';
  const link = (l: LineageLink) =>
    `${l.id} (${l.state} in ${l.queue}, ${l.state === 'dead' || l.state === 'replayed' || l.state === 'discarded' ? 'died' : 'enqueued'} ${formatTimeAndAgo(l.at, now)})`;
  const lines = ['lineage'];
  if (lineage.previous) lines.push(`  replay of    ${link(lineage.previous)}`);
  if (lineage.next) lines.push(`  replayed as  ${link(lineage.next)}`);
  return lines.join('\n');
}

/** What is left of a discarded dead letter: who discarded it, when and why. */
export function renderTombstone(tombstone: Tombstone, now: number): string {
  return [
    `dead letter ${tombstone.id} was discarded by ${tombstone.actor} at ${formatTime(tombstone.discardedAt)}: ${tombstone.reason}`,
    renderFields([
      ['queue', tombstone.queue],
      ['tier', tombstone.tier],
      ['group', tombstone.groupId],
      ['died', formatTimeAndAgo(tombstone.diedAt, now)],
      ['discarded', formatTimeAndAgo(tombstone.discardedAt, now)],
    ]),
    'its body and context are gone; the tombstone stays (`dlq audit --action discard` has the entry)',
  ].join('\n\n');
}

/** The human view of a dead letter: context, error, attempts, headers, body and final stack. */
export function renderDeadLetter(dead: DeadLetter, group: Group | null, now: number): string {
  const fields: [string, string][] = [
    ['queue', dead.queue],
    ['tier', dead.tier],
    ['group', group ? `${dead.groupId} (${group.status}, ${group.count} dead letters)` : dead.groupId],
    ['enqueued', formatTimeAndAgo(dead.enqueuedAt, now)],
    ['died', formatTimeAndAgo(dead.diedAt, now)],
  ];
  if (dead.idempotencyKey !== null) fields.push(['idempotency key', dead.idempotencyKey]);
  if (dead.replayCount > 0) fields.push(['replayed', `${dead.replayCount} time(s)`]);
  if (dead.previousId !== null) fields.push(['previous dead letter', dead.previousId]);
  const edits = dead.edits ?? [];
  const lastEdit = edits[edits.length - 1];
  if (lastEdit) {
    fields.push([
      'edited',
      `${edits.length} time(s), last by ${lastEdit.actor} ${formatTimeAndAgo(lastEdit.at, now)}`,
    ]);
  }
  const stack = dead.error.stack ?? dead.attempts[dead.attempts.length - 1]?.error.stack;
  return [
    `dead letter ${dead.id}`,
    renderFields(fields),
    section('error', describeError(dead.error)),
    section(`attempts (${dead.attempts.length})`, renderAttempts(dead.attempts)),
    section('headers', renderHeaders(dead.headers)),
    section(lastEdit ? 'body (edited)' : 'body', JSON.stringify(dead.body, null, 2)),
    ...(lastEdit && dead.originalBody !== undefined && dead.originalBody !== null
      ? [section('original body (as it died)', JSON.stringify(dead.originalBody, null, 2))]
      : []),
    section(
      'stack (final error)',
      stack === undefined ? '(no stack trace was recorded)' : framesOf(stack, dead.error),
    ),
  ].join('\n\n');
}

/** The human view of a message still in its queue (waiting, leased or done). */
export function renderMessage(message: MessageRecord, now: number): string {
  const fields: [string, string][] = [
    ['queue', message.queue],
    ['state', describeState(message, now)],
    ['receives', String(message.receives)],
    ['enqueued', formatTimeAndAgo(message.enqueuedAt, now)],
  ];
  if (message.idempotencyKey !== null) fields.push(['idempotency key', message.idempotencyKey]);
  if (message.replayOf !== null) fields.push(['replay of', message.replayOf]);
  return [
    `message ${message.id} (not dead)`,
    renderFields(fields),
    section(`failed attempts (${message.attempts.length})`, renderAttempts(message.attempts)),
    section('headers', renderHeaders(message.headers)),
    section('body', JSON.stringify(message.body, null, 2)),
  ].join('\n\n');
}

function describeState(message: MessageRecord, now: number): string {
  if (message.state === 'done') {
    return message.doneAt === null ? 'done' : `done ${formatTimeAndAgo(message.doneAt, now)}`;
  }
  if (message.state === 'leased') {
    return message.leaseExpiresAt === null
      ? 'leased'
      : `leased until ${formatTimeAndAgo(message.leaseExpiresAt, now)}`;
  }
  return message.visibleAt > now ? `delayed until ${formatTimeAndAgo(message.visibleAt, now)}` : 'waiting';
}

/** `name: message`, then code and HTTP status when the error had them. */
export function describeError(error: FailureInfo): string {
  const extras: string[] = [];
  if (error.code !== undefined) extras.push(`code ${error.code}`);
  if (error.status !== undefined) extras.push(`status ${error.status}`);
  const head = `${error.name}: ${error.message}`;
  return extras.length > 0 ? `${head}\n${extras.join(', ')}` : head;
}

function renderAttempts(attempts: readonly Attempt[]): string {
  if (attempts.length === 0) return '(none)';
  return attempts
    .map((attempt) => {
      const head = `#${attempt.number}  ${new Date(attempt.startedAt).toISOString()}  ${formatDuration(attempt.durationMs)}`;
      const who = `worker ${attempt.workerId} (version ${attempt.workerVersion}) on ${attempt.host}`;
      // One line per attempt: the full final error is shown above.
      const error = errorLine(attempt.error, 160);
      const extras = [
        attempt.error.code && `code ${attempt.error.code}`,
        attempt.error.status && `status ${attempt.error.status}`,
      ]
        .filter(Boolean)
        .join(', ');
      return [head, indent(who), indent(extras ? `${error} (${extras})` : error)].join('\n');
    })
    .join('\n');
}

/** The stack without its first lines when they only repeat the error's name and message. */
function framesOf(stack: string, error: FailureInfo): string {
  const header = `${error.name}: ${error.message}`;
  if (stack.startsWith(header)) {
    const frames = stack.slice(header.length).replace(/^\n/, '');
    if (frames.trim().length > 0) return frames.replace(/^ {4}/gm, '');
  }
  return stack;
}

function renderHeaders(headers: Record<string, string>): string {
  const entries = Object.entries(headers);
  return entries.length === 0 ? '(none)' : entries.map(([key, value]) => `${key}: ${value}`).join('\n');
}

function renderFields(fields: readonly [string, string][]): string {
  const width = Math.max(...fields.map(([key]) => key.length));
  return fields.map(([key, value]) => `  ${key.padEnd(width)}  ${value}`).join('\n');
}

function section(title: string, body: string): string {
  return `${title}\n${indent(body)}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => (line.length > 0 ? `  ${line}` : line))
    .join('\n');
}
