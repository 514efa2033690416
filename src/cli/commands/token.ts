import type { Command } from 'commander';
import { CliContext, type CliIo } from '../cli-context.ts';
import { formatAgo, formatTable } from '../output.ts';

interface CreateFlags {
  name: string;
  role: string;
}

/** `dlq token create|list|revoke`: bearer tokens of the HTTP API (stored hashed; the secret is printed once). */
export function registerTokenCommands(program: Command, io: CliIo): void {
  const token = program.command('token').description('API tokens for `dlq serve`: create, list, revoke');

  token
    .command('create')
    .description('create a token and print its secret (once: only its hash is stored)')
    .requiredOption('--name <name>', 'the name the audit log records as the actor of its changes')
    .requiredOption('--role <role>', 'viewer (read), operator (triage, send) or admin (queues, tokens)')
    .action(async (flags: CreateFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      const created = await ctx.withAdmin((admin) => admin.createToken(flags), { create: true });
      if (ctx.json) return ctx.printJson(created);
      ctx.print(`created ${created.token.role} token "${created.token.name}"; its secret (shown once):`);
      ctx.print(created.secret);
    });

  token
    .command('list')
    .description('list tokens, active and revoked (never their secrets)')
    .action(async (_flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      const tokens = await ctx.withAdmin((admin) => admin.listTokens());
      if (ctx.json) return ctx.printJson(tokens);
      if (tokens.length === 0)
        return ctx.print('no tokens yet: `dlq serve` creates an admin token on its first start');
      const now = ctx.now();
      ctx.print(
        formatTable(
          [
            { header: 'NAME' },
            { header: 'ROLE' },
            { header: 'CREATED' },
            { header: 'BY' },
            { header: 'LAST USED' },
            { header: 'STATUS' },
          ],
          tokens.map((t) => [
            t.name,
            t.role,
            formatAgo(t.createdAt, now),
            t.createdBy,
            t.lastUsedAt === null ? 'never' : formatAgo(t.lastUsedAt, now),
            t.revokedAt === null ? 'active' : `revoked ${formatAgo(t.revokedAt, now)}`,
          ]),
        ),
      );
    });

  token
    .command('revoke')
    .description('revoke the active token with this name: it stops working at once')
    .argument('<name>', 'token name (see `dlq token list`)')
    .action(async (name: string, _flags: unknown, command: Command) => {
      const ctx = CliContext.of(command, io);
      const revoked = await ctx.withAdmin((admin) => admin.revokeToken(name));
      if (ctx.json) return ctx.printJson(revoked);
      ctx.print(`revoked token "${revoked.name}"`);
    });
}
