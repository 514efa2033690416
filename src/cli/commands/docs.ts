import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.ts';
import { QUEUE_DOCS_FIELDS, type QueueDocs, type QueueDocsInput } from '../../core/queue-docs.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { formatTimeAndAgo } from '../output.ts';

interface DocsSetFlags {
  owner?: string;
  contact?: string;
  source?: string;
  purpose?: string;
  failureMeaning?: string;
  runbook?: string;
  runbookFile?: string;
}

const LABELS: Record<(typeof QUEUE_DOCS_FIELDS)[number], string> = {
  owner: 'owner',
  contact: 'contact',
  source: 'source',
  purpose: 'purpose',
  failureMeaning: 'failure meaning',
  runbook: 'runbook',
};

/** `dlq docs show <queue>` and `dlq docs set <queue> ...`: each DLQ's owner, contact and runbook. */
export function registerDocsCommands(program: Command, io: CliIo): void {
  const docs = program
    .command('docs')
    .description("show or set a queue's DLQ documentation (owner, runbook...)");

  docs
    .command('show')
    .description("show a queue's DLQ documentation")
    .argument('<queue>', 'queue name')
    .action(async (queue: string, _flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      const found = await ctx.withApi((api) => api.getQueueDocs(queue));
      if (ctx.json) return ctx.printJson(found);
      ctx.print(renderDocs(found, ctx.now()));
    });

  docs
    .command('set')
    .description("set fields of a queue's DLQ documentation (others are kept; an empty value clears one)")
    .argument('<queue>', 'queue name')
    .option('--owner <team>', 'who is responsible for its failures')
    .option('--contact <where>', 'how to reach the owner or on-call: a channel, an e-mail, a rotation')
    .option('--source <producer>', 'where the messages come from')
    .option('--purpose <text>', 'what the queue is for and what success looks like')
    .option('--failure-meaning <text>', 'what a dead letter here means for users or the business')
    .option('--runbook <markdown>', 'the triage runbook as Markdown text, or - to read it from stdin')
    .option('--runbook-file <file.md>', 'read the triage runbook from a Markdown file')
    .action(async (queue: string, flags: DocsSetFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      const patch = await patchFrom(flags, io, ctx.cwd);
      const updated = await ctx.withApi((api) => api.setQueueDocs(queue, patch, { actor: ctx.actor }));
      if (ctx.json) return ctx.printJson(updated);
      ctx.print(
        `updated the documentation of ${queue}: ${Object.keys(patch)
          .map((f) => LABELS[f as keyof typeof LABELS])
          .join(', ')}`,
      );
    });
}

async function patchFrom(flags: DocsSetFlags, io: CliIo, cwd: string): Promise<QueueDocsInput> {
  const patch: QueueDocsInput = {};
  for (const field of ['owner', 'contact', 'source', 'purpose', 'failureMeaning'] as const) {
    if (flags[field] !== undefined) patch[field] = flags[field];
  }
  if (flags.runbook !== undefined && flags.runbookFile !== undefined) {
    throw new ValidationError('give the runbook once: --runbook or --runbook-file');
  }
  if (flags.runbookFile !== undefined) {
    try {
      patch.runbook = await readFile(resolve(cwd, flags.runbookFile), 'utf8');
    } catch (error) {
      throw new ValidationError(
        `cannot read --runbook-file ${flags.runbookFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  } else if (flags.runbook === '-') {
    patch.runbook = await readStdin(io);
  } else if (flags.runbook !== undefined) {
    patch.runbook = flags.runbook;
  }
  if (Object.keys(patch).length === 0) {
    throw new ValidationError(
      'nothing to set: give at least one of --owner, --contact, --source, --purpose, --failure-meaning, --runbook, --runbook-file',
    );
  }
  return patch;
}

async function readStdin(io: CliIo): Promise<string> {
  const stdin = io.stdin;
  if (stdin === undefined || stdin.isTTY === true) {
    throw new ValidationError('--runbook - reads the runbook from stdin: pipe it in, or use --runbook-file');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The human view of a queue's documentation. */
export function renderDocs(docs: QueueDocs, now: number): string {
  const empty = QUEUE_DOCS_FIELDS.every((field) => docs[field] === null);
  if (empty) {
    return (
      `no documentation for ${docs.queue} yet: ` +
      `dlq docs set ${docs.queue} --owner <team> --contact <channel> --runbook-file runbook.md`
    );
  }
  const lines = [
    `${docs.queue}: DLQ documentation (updated ${formatTimeAndAgo(docs.updatedAt, now)} by ${docs.updatedBy})`,
  ];
  for (const field of QUEUE_DOCS_FIELDS) {
    if (field === 'runbook') continue;
    lines.push(`${`${LABELS[field]}:`.padEnd(17)}${docs[field] ?? '-'}`);
  }
  lines.push('', 'runbook:', docs.runbook ?? '-');
  return lines.join('\n');
}
