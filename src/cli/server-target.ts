import { ValidationError } from '../core/errors.ts';
import type { ServerTarget } from './api-client.ts';

/** The commands that need the store itself and cannot go through a server (`--server`). */
export const STORE_ONLY_COMMANDS = 'migrate, work, serve and demo';

/**
 * The server to talk to: `--server`/`--token`, else `DEADLETTER_SERVER`/`DEADLETTER_TOKEN`;
 * undefined when no server is given (commands use the store). Throws ValidationError (exit 2)
 * for a URL that is not http(s) or a server without a token.
 */
export function resolveServerTarget(
  flags: { server?: string; token?: string },
  env: NodeJS.ProcessEnv,
): ServerTarget | undefined {
  const url = flags.server?.trim() || env.DEADLETTER_SERVER?.trim();
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL('invalid:');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ValidationError(`invalid --server "${url}": use http://host:port or https://host`);
  }
  const token = flags.token?.trim() || env.DEADLETTER_TOKEN?.trim();
  if (!token) {
    throw new ValidationError(
      '--server needs a token: --token <token> or DEADLETTER_TOKEN (see `dlq token create`)',
    );
  }
  return { url: parsed.origin + parsed.pathname.replace(/\/+$/, ''), token };
}

/** The refusal of a command that needs the store while a server is given. */
export function storeOnlyError(): ValidationError {
  return new ValidationError(
    `this command needs the store and cannot go through --server (or DEADLETTER_SERVER); only ${STORE_ONLY_COMMANDS} do: run it where the store is`,
  );
}
