import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { ApiRole } from '../../src/core/api-token.ts';
import { PermanentError, TransientError } from '../../src/core/errors.ts';
import { createApiToken } from '../../src/engine/api-tokens.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { ServerMetrics } from '../../src/server/metrics.ts';
import type { ApiApp } from '../../src/server/routes/index.ts';
import { createServer, type ServerDeps } from '../../src/server/server.ts';
import { openStore } from '../../src/store/open.ts';
import { removeDb, tempDbPath } from '../store/temp-db.ts';

/** A server on a temp SQLite file with one token per role, driven with `app.inject`. */
export interface ServerFixture {
  app: ApiApp;
  dl: Deadletter;
  /** The server's metrics; the handle's workers report their attempts to it. */
  metrics: ServerMetrics;
  /** The SQLite store's URL, for the CLI run against the store itself. */
  storeUrl: string;
  /** The server's archive directory (a temp directory of its own unless given). */
  archiveDir: string;
  /** Secrets by role; each token is named after its role. */
  tokens: Record<ApiRole, string>;
  /** `inject` with `Authorization: Bearer <token of role>` (no header for `none`). */
  call(role: ApiRole | 'none', options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** Opens a fresh store, creates viewer/operator/admin tokens and a server on it. */
export async function startServer(
  deps: Omit<ServerDeps, 'dl'> = {},
  options: { archiveDir?: string } = {},
): Promise<ServerFixture> {
  const path = tempDbPath('deadletter-server');
  const store = await openStore(`sqlite:${path}`, { migrate: true });
  const metrics = new ServerMetrics();
  const ownArchiveDir = options.archiveDir === undefined;
  const archiveDir = options.archiveDir ?? (await mkdtemp(join(tmpdir(), 'deadletter-server-archive-')));
  const dl = await Deadletter.open({
    store,
    maintenance: false,
    onAttempt: metrics.observeAttempt,
    archiveDir,
  });
  const tokens = {} as Record<ApiRole, string>;
  for (const role of ['viewer', 'operator', 'admin'] as const) {
    tokens[role] = (
      await createApiToken(store, { name: role, role, actor: 'test', now: dl.clock.now() })
    ).secret;
  }
  // No response cache unless a test asks: tests change the store directly and read at once.
  const app = createServer({ dl, metrics, authFailuresPerMinute: 1_000_000, cacheTtlMs: 0, ...deps });
  await app.ready();
  return {
    app,
    dl,
    metrics,
    storeUrl: `sqlite:${path}`,
    archiveDir,
    tokens,
    call: (role, options) =>
      app.inject({
        ...options,
        headers: {
          ...(role === 'none' ? {} : { authorization: `Bearer ${tokens[role]}` }),
          ...options.headers,
        },
      }),
    close: async () => {
      await app.close();
      await dl.close();
      await store.close();
      await removeDb(path);
      if (ownArchiveDir) await rm(archiveDir, { recursive: true, force: true });
    },
  };
}

/**
 * Seeds two queues with dead letters in three groups: `orders` (3 permanent "card declined",
 * 2 transient "upstream 503") and `emails` (1 permanent "invalid address"), plus one done message.
 */
export async function seedDeadLetters(dl: Deadletter): Promise<void> {
  await dl.createQueue('orders', { maxReceives: 1, backoff: 'fixed:0' });
  await dl.createQueue('emails', { maxReceives: 1, backoff: 'fixed:0' });
  await dl.sendBatch('orders', [
    { body: { n: 1, kind: 'card', customer: { country: 'DE' } } },
    { body: { n: 2, kind: 'card', customer: { country: 'FR' } } },
    { body: { n: 3, kind: 'card', customer: { country: 'DE' } } },
    { body: { n: 4, kind: 'upstream' } },
    { body: { n: 5, kind: 'upstream' } },
    { body: { n: 6, kind: 'ok' } },
  ]);
  await dl.send('emails', { to: 'nobody' });
  const orders = await dl.work<{ n: number; kind: string }>(
    'orders',
    (message) => {
      if (message.body.kind === 'card') throw new PermanentError(`card declined for order ${message.body.n}`);
      if (message.body.kind === 'upstream') throw new TransientError('upstream answered 503');
    },
    { drain: true },
  );
  const emails = await dl.work<{ to: string }>(
    'emails',
    (message) => {
      throw new PermanentError(`invalid address "${message.body.to}"`);
    },
    { drain: true },
  );
  await Promise.all([orders.stopped, emails.stopped]);
}
