import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { parseDuration } from '../../core/duration.ts';
import { ValidationError } from '../../core/errors.ts';
import type { Json, NewMessage } from '../../core/message.ts';
import { validateQueueName } from '../../core/queue-settings.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { collect, parseHeaderOptions } from '../option-parsers.ts';

interface SendFlags {
  body?: string;
  header?: string[];
  idempotencyKey?: string;
  delay?: string;
}

/**
 * `dlq send <queue>`: one body from `--body`, or one JSON body per line of stdin. Every line
 * is parsed before anything is sent, and all messages go in one transaction: an invalid line
 * (or any other refusal) sends nothing.
 */
export function registerSendCommand(program: Command, io: CliIo): void {
  program
    .command('send')
    .description("send one message (--body '<json>') or one per line of stdin (a batch, all or nothing)")
    .argument('<queue>', 'queue to send to')
    .option('--body <json>', 'the message body, as JSON')
    .option('--header <name=value>', 'a header for every message (repeatable)', collect)
    .option(
      '--idempotency-key <key>',
      'a live message with the same key is not enqueued twice (one message only)',
    )
    .option('--delay <duration>', 'make the messages visible after this delay, e.g. 5s')
    .action(async (queue: string, flags: SendFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      validateQueueName(queue);
      const headers = parseHeaderOptions(flags.header ?? []);
      const delayMs = flags.delay === undefined ? undefined : parseDuration(flags.delay, '--delay');
      const bodies = flags.body !== undefined ? [parseJson(flags.body, '--body')] : await readBodies(io);
      if (bodies.length === 0) throw new ValidationError('nothing to send: stdin held no JSON lines');
      if (flags.idempotencyKey !== undefined && bodies.length > 1) {
        throw new ValidationError(
          `--idempotency-key names one message, but stdin held ${bodies.length}: send them one at a time`,
        );
      }
      const messages: NewMessage[] = bodies.map((body) => {
        const message: NewMessage = { body, headers };
        if (flags.idempotencyKey !== undefined) message.idempotencyKey = flags.idempotencyKey;
        if (delayMs !== undefined) message.delayMs = delayMs;
        return message;
      });
      const results = await ctx.withApi((api) => api.sendBatch(queue, messages));
      if (ctx.json) return ctx.printJson(results);
      for (const result of results) {
        ctx.print(result.deduplicated ? `${result.id} (deduplicated: already in the queue)` : result.id);
      }
    });
}

function parseJson(text: string, where: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    throw new ValidationError(`${where} is not valid JSON (${(error as Error).message}): nothing was sent`);
  }
}

/** Parses every non-blank line of stdin as one JSON body; the first bad line refuses the whole input. */
async function readBodies(io: CliIo): Promise<Json[]> {
  const stdin = io.stdin;
  if (stdin === undefined || stdin.isTTY === true) {
    throw new ValidationError("give a body with --body '<json>', or pipe one JSON body per line on stdin");
  }
  const bodies: Json[] = [];
  const lines = createInterface({ input: stdin, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  for await (const line of lines) {
    number++;
    if (line.trim() === '') continue;
    bodies.push(parseJson(line, `line ${number} of stdin`));
  }
  return bodies;
}
