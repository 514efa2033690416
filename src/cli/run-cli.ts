import { Command } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import type { CliIo } from './cli-context.ts';
import { registerAlertCommands } from './commands/alert.ts';
import { registerArchiveCommands } from './commands/archive.ts';
import { registerAuditCommand } from './commands/audit.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerDiscardCommand } from './commands/discard.ts';
import { registerDocsCommands } from './commands/docs.ts';
import { registerDoctorCommand } from './commands/doctor.ts';
import { registerEditCommand } from './commands/edit.ts';
import { registerGroupCommands } from './commands/groups.ts';
import { registerListCommand } from './commands/list.ts';
import { registerMigrateCommand } from './commands/migrate.ts';
import { registerQueueCommands } from './commands/queue.ts';
import { registerReplayCommands } from './commands/replay.ts';
import { registerRetentionCommands } from './commands/retention.ts';
import { registerReviewCommand } from './commands/review.ts';
import { registerSendCommand } from './commands/send.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerShowCommand } from './commands/show.ts';
import { registerStatsCommand } from './commands/stats.ts';
import { registerTokenCommands } from './commands/token.ts';
import { registerWorkCommand } from './commands/work.ts';
import { EXIT, exitCodeFor, reasonFor } from './errors.ts';

export type { CliIo } from './cli-context.ts';

/**
 * Runs `dlq` with `argv` (the arguments after the program name) against `io`, and resolves to
 * the exit code: 0 success, 1 the operation failed, 2 bad usage or bad input (with one line,
 * `dlq: <reason>`, on stderr). It never calls `process.exit`, so tests run it in-process.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    const code = exitCodeFor(error);
    // Help asked for (or shown for a missing command) is already on the screen.
    const helpShown =
      error instanceof Error && 'code' in error && String(error.code).startsWith('commander.help');
    if (code !== EXIT.ok && !helpShown) io.stderr.write(`dlq: ${reasonFor(error)}\n`);
    return code;
  }
}

function buildProgram(io: CliIo): Command {
  const program = new Command('dlq');
  program
    .description(
      'Deadletter: queues, workers, and a dead-letter queue that keeps, classifies and groups failures',
    )
    .version(packageJson.version, '-V, --version')
    .option('--store <url>', 'store URL (default: $DEADLETTER_STORE or sqlite:./.deadletter/deadletter.db)')
    .option('--json', 'print one JSON document on stdout')
    .option(
      '--actor <name>',
      'who the audit log records for changes (default: $DEADLETTER_ACTOR or the OS user)',
    )
    .option(
      '--archive-dir <dir>',
      'where the retention sweeper writes archives (default: $DEADLETTER_ARCHIVE_DIR or ./.deadletter/archive)',
    )
    .option(
      '--server <url>',
      'talk to a running `dlq serve` instead of the store (default: $DEADLETTER_SERVER); every command but migrate, work, serve and demo',
    )
    .option('--token <token>', 'API token for --server (default: $DEADLETTER_TOKEN)')
    // Settings below are inherited by every command added after them.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Errors are printed once, as `dlq: <reason>`, by runCli.
      outputError: () => undefined,
    })
    .showHelpAfterError(false)
    .addHelpText(
      'after',
      '\nExit codes: 0 success, 1 the operation failed, 2 bad usage or bad input.\n' +
        'Global options (--store, --json) go before or after the command.',
    );
  registerMigrateCommand(program, io);
  registerQueueCommands(program, io);
  registerSendCommand(program, io);
  registerWorkCommand(program, io);
  registerListCommand(program, io);
  registerShowCommand(program, io);
  registerGroupCommands(program, io);
  registerStatsCommand(program, io);
  registerReplayCommands(program, io);
  registerDiscardCommand(program, io);
  registerEditCommand(program, io);
  registerAuditCommand(program, io);
  registerDocsCommands(program, io);
  registerDoctorCommand(program, io);
  registerReviewCommand(program, io);
  registerAlertCommands(program, io);
  registerRetentionCommands(program, io);
  registerArchiveCommands(program, io);
  registerDemoCommand(program, io);
  registerServeCommand(program, io);
  registerTokenCommands(program, io);
  return program;
}
