import type { Command } from 'commander';
import { migrateStore } from '../../store/open.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { storeOnlyError } from '../server-target.ts';

/**
 * `dlq migrate`: applies the pending schema migrations (creating a new store), the only way
 * an existing store is ever upgraded. Refuses non-Deadletter files and newer schemas (exit 2).
 */
export function registerMigrateCommand(program: Command, io: CliIo): void {
  program
    .command('migrate')
    .description('create the store or apply its pending schema migrations')
    .action(async (_flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      // Migrations run where the store is, never through a server.
      if (ctx.server) throw storeOnlyError();
      const result = await migrateStore(ctx.storeUrl);
      if (ctx.json) return ctx.printJson({ store: ctx.storeUrl, ...result });
      if (result.applied.length === 0) {
        return ctx.print(`${ctx.storeUrl}: schema ${result.to} is current, nothing to do`);
      }
      ctx.print(
        `${ctx.storeUrl}: schema ${result.from} -> ${result.to} (applied ${result.applied.join(', ')})`,
      );
    });
}
