import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Clock } from '../core/clock.ts';
import type { Deadletter } from '../engine/deadletter.ts';
import { Authenticator } from './auth.ts';
import { ApiError, handleError } from './errors.ts';
import { ServerMetrics } from './metrics.ts';
import { registerOpenApi } from './openapi.ts';
import { ResponseCache } from './response-cache.ts';
import { type ApiApp, ROUTE_MODULES, type RouteModule } from './routes/index.ts';
import { addSecurityHeaders } from './security-headers.ts';
import { serializerCompiler } from './serializer.ts';
import { registerUi } from './ui.ts';

/** What {@link createServer} needs. */
export interface ServerDeps {
  /** The library handle the API serves; the caller opens and closes it. */
  dl: Deadletter;
  /** A pino-compatible logger; default: none (tests). `dlq serve` passes pino on stderr. */
  logger?: FastifyBaseLogger;
  /** Log one line per request (info). Default false: errors and warnings only. */
  logRequests?: boolean;
  /** Largest request body in bytes; larger requests get 413. Default 1 MiB. */
  bodyLimit?: number;
  /** Failed authentications per client address and minute before 429. Default 20. */
  authFailuresPerMinute?: number;
  /** Metrics to expose; default: a new registry. Pass the same one to the handle's `onAttempt`. */
  metrics?: ServerMetrics;
  /** Route files served in addition to the built-in ones (the next issues' resources). */
  routes?: readonly RouteModule[];
  /** Default: the handle's clock. */
  clock?: Clock;
  /**
   * How long identical GETs of the list and stats routes share one answer (see
   * {@link ResponseCache}); 0 turns it off. Default 1000 ms.
   */
  cacheTtlMs?: number;
}

/** Default body limit: 1 MiB. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * The HTTP API as a Fastify instance, not listening: call `listen` (as `dlq serve` does) or
 * `inject` (tests). Every route validates its params, query and body with zod and is described
 * in the OpenAPI document at `/api/openapi.json`; every route but the public ones requires a
 * bearer token whose role is at least the route's; errors are `{error: {code, message}}`.
 * CORS is off (no `Access-Control-*` headers: browsers refuse cross-origin calls).
 * Closing the instance does not close `dl`.
 */
export function createServer(deps: ServerDeps): ApiApp {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    logController: new LogController({ disableRequestLogging: deps.logRequests !== true }),
    bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Proto and constructor poisoning in JSON bodies are refused (400), not stripped.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Fastify's own `return503OnClosing`: requests that arrive while closing get 503.
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Errors raised while routing (a URL that does not decode) take the same path as the others.
    frameworkErrors: (error, request, reply) => {
      handleError(error, request, reply, request.log);
    },
    // A request Node's HTTP parser refuses (a header with a newline, a broken request line)
    // never reaches routing: answer it in the same error format and close.
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return;
      const body = JSON.stringify({ error: { code: 'bad_request', message: 'malformed HTTP request' } });
      const status = (error as { code?: string }).code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      socket.end(
        `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
          `Connection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    },
  }).withTypeProvider<ZodTypeProvider>();
  // Bodies are JSON only: anything else is 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const clock = deps.clock ?? deps.dl.clock;
  const metrics = deps.metrics ?? new ServerMetrics();
  const auth = new Authenticator({
    store: deps.dl.store,
    clock,
    log: app.log,
    ...(deps.authFailuresPerMinute === undefined ? {} : { failuresPerMinute: deps.authFailuresPerMinute }),
  });

  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    // Unknown routes answer 404 without asking for a token: the route list is public anyway.
    if (request.is404) return;
    await auth.check(request, request.routeOptions.config.access ?? 'admin');
  });
  const cache = new ResponseCache({ ttlMs: deps.cacheTtlMs ?? 1_000, now: () => clock.now() });
  if (cache.enabled) {
    // After authentication, before validation: a cached answer was computed for this very URL.
    // Without the cache (`cacheTtlMs` 0) no request pays for its three hooks.
    app.addHook('onRequest', (request, reply) => cache.serve(request, reply));
    app.addHook('onSend', async (request, reply, payload) => {
      await cache.store(request, reply, payload);
    });
    app.addHook('onResponse', (request, reply) => cache.finish(request, reply));
  }
  app.addHook('onSend', addSecurityHeaders);
  registerUi(app); // the dashboard's files (src/ui, built to dist/ui) for paths outside /api
  app.setErrorHandler((error, request, reply) => handleError(error, request, reply, app.log));
  app.setNotFoundHandler((request) => {
    throw new ApiError(404, 'not_found', `no route ${request.method} ${request.url.split('?', 1)[0]}`);
  });

  registerOpenApi(app);
  app.after(() => {
    const context = { dl: deps.dl, clock, metrics, auth };
    for (const register of [...ROUTE_MODULES, ...(deps.routes ?? [])]) register(app, context);
  });
  return app;
}
