import { CommanderError } from 'commander';
import { DeadletterError, type DeadletterErrorCode } from '../core/errors.ts';

/**
 * Exit codes of `dlq`, the contract scripts rely on:
 * - `ok` (0): the command did what was asked;
 * - `failed` (1): the operation failed (a store error, a crash): retrying may help;
 * - `usage` (2): bad usage or bad input (unknown option, invalid JSON, unknown queue, bad
 *   duration, a file that is not a Deadletter store, a newer schema): nothing was changed.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Error codes that mean "the caller asked for something wrong", never "the operation broke". */
const BAD_INPUT_CODES: ReadonlySet<DeadletterErrorCode> = new Set([
  'validation',
  'not_found',
  'conflict',
  'schema_version',
  'not_a_store',
]);

/** The one place that maps an error to an exit code. */
export function exitCodeFor(error: unknown): number {
  // Commander's exit code is 0 for --help and --version, non-zero for usage errors and for
  // the help shown when no command is given.
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof DeadletterError) return BAD_INPUT_CODES.has(error.code) ? EXIT.usage : EXIT.failed;
  return EXIT.failed;
}

/**
 * The one-line reason printed as `dlq: <reason>`: the first line of the message; commander's
 * `error: ` prefix is dropped; an unexpected error keeps its name so the reader can tell a
 * crash from a refusal.
 */
export function reasonFor(error: unknown): string {
  if (error instanceof CommanderError) {
    // Keep commander's suggestion ("(Did you mean stats?)") on the same line.
    return firstLine(error.message.replace(/^error: /, '').replace(/\n+/g, ' '));
  }
  if (error instanceof DeadletterError) return firstLine(error.message);
  if (error instanceof Error) {
    const message = firstLine(error.message);
    return error.name && error.name !== 'Error' ? `${error.name}: ${message}` : message;
  }
  return firstLine(String(error));
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0]?.trim() ?? '';
  return line.length > 0 ? line : 'unknown error';
}
