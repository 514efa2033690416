import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.ts';
import type { JsonChange } from '../../core/json-diff.ts';
import type { Json } from '../../core/message.ts';
import type { DeadLetterEditResult } from '../../engine/dead-letter-edit.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { truncate } from '../output.ts';

interface EditFlags {
  body?: string;
}

/** How many changed paths the human output lists. */
const SHOWN_CHANGES = 30;

/**
 * `dlq edit <id> --body '<json>'` (or the JSON on stdin): replaces the body of one dead letter
 * before it is replayed; the original and every edit are kept. Exit 2 with nothing changed for
 * invalid JSON, an unknown id or a discarded one.
 */
export function registerEditCommand(program: Command, io: CliIo): void {
  program
    .command('edit')
    .description(
      'change the body of one dead letter before replay (the original and the edit history are kept)',
    )
    .argument('<id>', 'dead letter id')
    .option('--body <json>', 'the new body as JSON (or pipe it on stdin)')
    .action(async (id: string, flags: EditFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      const body = parseBody(
        flags.body ?? (await readStdin(io)),
        flags.body !== undefined ? '--body' : 'stdin',
      );
      const result = await ctx.withApi((api) => api.editDeadLetter(id, body, { actor: ctx.actor }));
      if (ctx.json) return ctx.printJson(result);
      ctx.print(renderEdit(result));
    });
}

function parseBody(text: string, where: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    throw new ValidationError(
      `${where} is not valid JSON (${(error as Error).message}): nothing was changed`,
    );
  }
}

async function readStdin(io: CliIo): Promise<string> {
  const stdin = io.stdin;
  if (stdin === undefined || stdin.isTTY === true) {
    throw new ValidationError("give the new body with --body '<json>', or pipe it on stdin");
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new ValidationError('stdin is empty: give the new body as JSON');
  return text;
}

function show(value: Json | undefined): string {
  return truncate(JSON.stringify(value) ?? 'undefined', 60);
}

/** One line per change: `~ path: before → after`, `+ path: value`, `- path: value`. */
export function renderChange(change: JsonChange): string {
  const path = change.path === '' ? '(whole body)' : change.path;
  if (change.kind === 'added') return `  + ${path}: ${show(change.after)}`;
  if (change.kind === 'removed') return `  - ${path}: ${show(change.before)}`;
  return `  ~ ${path}: ${show(change.before)} → ${show(change.after)}`;
}

/** The human summary of an edit: what changed, path by path. */
export function renderEdit(result: DeadLetterEditResult): string {
  const { deadLetter, changes } = result;
  if (changes.length === 0) return `the body of ${deadLetter.id} is already this: nothing was changed`;
  const edits = deadLetter.edits?.length ?? 0;
  const lines = [
    `edited dead letter ${deadLetter.id} (edit ${edits}; the body it died with is kept)`,
    ...changes.slice(0, SHOWN_CHANGES).map(renderChange),
  ];
  if (changes.length > SHOWN_CHANGES) lines.push(`  … and ${changes.length - SHOWN_CHANGES} more changes`);
  lines.push(`replay it with \`dlq replay --ids ${deadLetter.id}\``);
  return lines.join('\n');
}
