import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import { pino } from 'pino';
import { validateWebhookUrl } from '../../core/alert.ts';
import { systemClock } from '../../core/clock.ts';
import { parseDuration } from '../../core/duration.ts';
import { ValidationError } from '../../core/errors.ts';
import { alertServices } from '../../engine/alert-services.ts';
import { type CreatedApiToken, createApiToken, hasActiveAdminToken } from '../../engine/api-tokens.ts';
import { Deadletter } from '../../engine/deadletter.ts';
import { DEMO_MAINTENANCE, runDemo } from '../../engine/demo.ts';
import { queueSamplerService } from '../../engine/queue-sampler.ts';
import { ServerMetrics } from '../../server/metrics.ts';
import { createServer } from '../../server/server.ts';
import { openStore } from '../../store/open.ts';
import type { Store } from '../../store/store.ts';
import { CliContext, type CliIo } from '../cli-context.ts';
import { reasonFor } from '../errors.ts';
import { parseIntOption } from '../option-parsers.ts';
import { storeOnlyError } from '../server-target.ts';

interface ServeFlags {
  host: string;
  port: string;
  demo: boolean;
  adminTokenFile?: string;
  logLevel: string;
  logRequests?: boolean;
  cacheTtl: string;
  alertInterval: string;
  alertHistory: string;
  dashboardUrl?: string;
  reviewWebhook: string[];
  reviewSlack: string[];
  reviewEvery: string;
}

const collectOption = (value: string, previous: string[]): string[] => [...previous, value];

/** Messages of the demo data set `dlq serve` loads into an empty store. */
const DEMO_MESSAGES = 60;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * `dlq serve`: the long-running process a team deploys beside its services. It serves the HTTP
 * API (and OpenAPI document, and `/metrics`), runs the maintenance services (lease expiry, the
 * per-minute queue sampler, and those later issues add) when elected leader, and stops
 * gracefully on SIGTERM/SIGINT: no new connections, requests in flight finish, leadership is
 * resigned and the store closed; exit 0.
 *
 * On an empty store it first loads a small demo data set (`--no-demo` skips it), and when no
 * active admin token exists it creates one and prints its secret once.
 */
export function registerServeCommand(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('serve the HTTP API and metrics, and run the maintenance services, until SIGTERM/SIGINT')
    .option('--host <host>', 'address to bind (0.0.0.0 for every interface)', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '7070')
    .option('--no-demo', 'do not load the demo data set into an empty store')
    .option('--admin-token-file <path>', 'also write a created admin token to this file (mode 0600)')
    .option('--log-level <level>', `server log level on stderr: ${LOG_LEVELS.join(', ')}`, 'info')
    .option('--log-requests', 'log one line per request')
    .option(
      '--cache-ttl <duration>',
      'identical list and stats GETs share one answer this long (0 turns it off)',
      '1s',
    )
    .option('--alert-interval <duration>', 'how often the alert rules are evaluated', '30s')
    .option(
      '--alert-history <duration>',
      'keep resolved alerts and their notifications this long (0: forever)',
      '30d',
    )
    .option('--dashboard-url <url>', 'public address of the dashboard, for links in alert notifications')
    .option(
      '--review-webhook <url>',
      'POST the review report (JSON) here on a schedule (repeatable)',
      collectOption,
      [],
    )
    .option(
      '--review-slack <url>',
      'POST the review report (Slack) here on a schedule (repeatable)',
      collectOption,
      [],
    )
    .option(
      '--review-every <duration>',
      'how often the review report is sent, and the window it covers',
      '7d',
    )
    .action(async (flags: ServeFlags, command: Command) => {
      const ctx = CliContext.of(command, io);
      if (ctx.server) throw storeOnlyError();
      const port = parseIntOption(flags.port, '--port', { min: 0, max: 65_535 });
      const host = flags.host.trim();
      if (host.length === 0 || host.length > 255 || /\s/.test(host)) {
        throw new ValidationError(`invalid --host "${flags.host}"`);
      }
      const cacheTtlMs = parseDuration(flags.cacheTtl, '--cache-ttl');
      if (cacheTtlMs > 60_000) throw new ValidationError('invalid --cache-ttl: use at most 1m');
      if (parseDuration(flags.alertInterval, '--alert-interval') < 1000) {
        throw new ValidationError('invalid --alert-interval: use at least 1s');
      }
      const historyMs = parseDuration(flags.alertHistory, '--alert-history');
      if (historyMs !== 0 && historyMs < 3_600_000) {
        throw new ValidationError('invalid --alert-history: use at least 1h, or 0 to keep alerts forever');
      }
      if (parseDuration(flags.reviewEvery, '--review-every') < 60_000) {
        throw new ValidationError('invalid --review-every: use at least 1m');
      }
      for (const url of [
        ...flags.reviewWebhook,
        ...flags.reviewSlack,
        ...(flags.dashboardUrl ? [flags.dashboardUrl] : []),
      ])
        validateWebhookUrl(url);
      if (!LOG_LEVELS.includes(flags.logLevel)) {
        throw new ValidationError(`invalid --log-level "${flags.logLevel}": use ${LOG_LEVELS.join(', ')}`);
      }

      const store = await openStore(ctx.storeUrl, { migrate: true });
      try {
        await serve(ctx, store, flags, { host, port, cacheTtlMs });
      } finally {
        await store.close();
      }
    });
}

async function serve(
  ctx: CliContext,
  store: Store,
  flags: ServeFlags,
  bind: { host: string; port: number; cacheTtlMs: number },
): Promise<void> {
  const logger = pino({ level: flags.logLevel, base: { service: 'deadletter' } }, pino.destination(2));
  const onError = (error: unknown, service: string) =>
    logger.error({ err: error, service }, `${service} failed (retrying): ${reasonFor(error)}`);

  if (flags.demo && (await store.queueList()).length === 0) await loadDemo(ctx, store);

  const metrics = new ServerMetrics();
  const dl = await Deadletter.open({
    store,
    actor: 'dlq serve',
    // The archive files the API lists, reads and imports, and where its retention sweeps write.
    archiveDir: ctx.archiveDir,
    onAttempt: metrics.observeAttempt,
    maintenance: {
      onError,
      services: [
        queueSamplerService({ store, clock: systemClock }),
        ...alertServices({
          store,
          clock: systemClock,
          logger,
          evaluateEveryMs: parseDuration(flags.alertInterval, '--alert-interval'),
          historyMs: parseDuration(flags.alertHistory, '--alert-history'),
          ...(flags.dashboardUrl !== undefined && { dashboardUrl: flags.dashboardUrl }),
          review: {
            channels: [
              ...flags.reviewWebhook.map((url) => ({ type: 'webhook' as const, url })),
              ...flags.reviewSlack.map((url) => ({ type: 'slack' as const, url })),
            ],
            everyMs: parseDuration(flags.reviewEvery, '--review-every'),
          },
        }),
      ],
    },
  });
  const app = createServer({
    dl,
    logger,
    metrics,
    logRequests: flags.logRequests === true,
    cacheTtlMs: bind.cacheTtlMs,
  });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      ctx.progress('stopping: finishing requests in flight...');
      await app.close();
      await dl.close();
    })();
    return stopping;
  };
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  const unsubscribe = ctx.io.onShutdown?.(() => {
    unsubscribe?.();
    void stop().then(resolveStopped, resolveStopped);
  });

  try {
    await listen(app, bind.host, bind.port);
    // Only once listening: a token created by a start that then failed would never be shown.
    const created = await ensureAdminToken(store);
    dl.startMaintenance();
    const address = app.server.address() as AddressInfo;
    const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    if (created && flags.adminTokenFile !== undefined)
      await writeSecret(ctx, flags.adminTokenFile, created.secret);
    report(ctx, { url, store: store.location, created, host: bind.host });
  } catch (error) {
    unsubscribe?.();
    await stop();
    throw error;
  }
  await stopped;
  ctx.progress('stopped');
}

/** Runs the demo workload on its own handle (a fast lease sweep) and closes it. */
async function loadDemo(ctx: CliContext, store: Store): Promise<void> {
  ctx.progress(`empty store: loading the demo data set (${DEMO_MESSAGES} messages; --no-demo skips it)...`);
  const demo = await Deadletter.open({ store, actor: 'dlq serve', maintenance: DEMO_MAINTENANCE });
  try {
    await runDemo({ dl: demo, log: () => undefined, messages: DEMO_MESSAGES });
  } finally {
    await demo.close();
  }
}

/** Creates the `admin` token when no active admin token exists; undefined when one does. */
async function ensureAdminToken(store: Store): Promise<CreatedApiToken | undefined> {
  if (await hasActiveAdminToken(store)) return undefined;
  const taken = new Set((await store.tokenList()).filter((t) => t.revokedAt === null).map((t) => t.name));
  let name = 'admin';
  for (let n = 2; taken.has(name); n++) name = `admin-${n}`;
  return createApiToken(store, { name, role: 'admin', actor: 'dlq serve', now: Date.now() });
}

async function listen(app: ReturnType<typeof createServer>, host: string, port: number): Promise<void> {
  try {
    await app.listen({ host, port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new ValidationError(`port ${port} on ${host} is in use: pick another with --port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new ValidationError(`cannot bind --host ${host}: no such address on this machine`);
    }
    throw error;
  }
}

async function writeSecret(ctx: CliContext, file: string, secret: string): Promise<void> {
  const path = isAbsolute(file) ? file : resolve(ctx.cwd, file);
  await writeFile(path, `${secret}\n`, { mode: 0o600 });
}

function report(
  ctx: CliContext,
  info: { url: string; store: string; created: CreatedApiToken | undefined; host: string },
): void {
  if (ctx.json) {
    ctx.printJson({
      url: info.url,
      store: info.store,
      adminToken: info.created ? { name: info.created.token.name, secret: info.created.secret } : null,
    });
  } else {
    ctx.print(`Deadletter API on ${info.url}  (store ${info.store})`);
    ctx.print(`  dashboard ${info.url}/ (sign in with a token)`);
    ctx.print(`  OpenAPI  ${info.url}/api/openapi.json`);
    ctx.print(`  metrics  ${info.url}/metrics (viewer token)`);
    if (info.created) {
      ctx.print(`  admin token "${info.created.token.name}" (shown once; keep it): ${info.created.secret}`);
    } else {
      ctx.print(
        '  an admin token exists; more with `dlq token create --name <n> --role viewer|operator|admin`',
      );
    }
    ctx.print('Stop with Ctrl-C or SIGTERM.');
  }
  if (!['127.0.0.1', 'localhost', '::1'].includes(info.host)) {
    ctx.warn(`the API listens on ${info.host}: other machines can reach it; put TLS in front of it`);
  }
}
