import { existsSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiApp } from './routes/context.ts';

/** Where `vite build` puts the dashboard (see vite.config.ts); `npm start` and `npm test` build it. */
export const UI_DIR: string = fileURLToPath(new URL('../../dist/ui/', import.meta.url));

/**
 * The Content-Security-Policy of the dashboard's files: scripts, styles, images and API calls
 * from this origin only, no inline script, no framing. Message bodies, errors and runbooks
 * shown in it are text or sanitised HTML; this policy is the second wall.
 */
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths that belong to the API (and its documents): never answered with the dashboard. */
function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/') || path === '/metrics' || path.startsWith('/metrics/');
}

/** Every file of the built dashboard, as URL paths (`/assets/index-3f2a.js`). */
function listFiles(dir: string): Set<string> {
  const files = new Set<string>();
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.add(`/${relative(dir, path).split(sep).join('/')}`);
    }
  };
  walk(dir);
  return files;
}

/**
 * Serves the dashboard beside the API without adding routes to it (the OpenAPI document stays
 * the API's): a GET or HEAD that matches no route and is not under `/api/` is answered with the
 * built file of that path, or with index.html (the dashboard routes in the browser). Hashed
 * assets are cached for a year; everything else keeps the API's `no-store`. Unknown `/api/...`
 * paths keep their JSON 404. When the dashboard is not built, such paths get a JSON 404 saying how.
 */
export function registerUi(app: ApiApp, dir: string = UI_DIR): void {
  const built = existsSync(join(dir, 'index.html'));
  const files = built ? listFiles(dir) : new Set<string>();
  const served = new WeakSet<FastifyRequest>();
  if (built) app.register(fastifyStatic, { root: dir, serve: false, index: false, wildcard: false });

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.is404 || (request.method !== 'GET' && request.method !== 'HEAD')) return;
    const path = request.url.split('?', 1)[0] ?? '/';
    if (isApiPath(path)) return;
    served.add(request);
    if (!built) {
      return reply.code(404).send({
        error: {
          code: 'not_found',
          message: 'the dashboard is not built: run `npm run build:ui` (`npm start` builds it)',
        },
      });
    }
    let file = '/index.html';
    try {
      const decoded = decodeURIComponent(path);
      if (files.has(decoded)) file = decoded;
    } catch {
      // A malformed escape is no file: the dashboard shows its own "no such page".
    }
    if (file.startsWith('/assets/')) reply.header('Cache-Control', 'public, max-age=31536000, immutable');
    else reply.header('Cache-Control', 'no-cache');
    return reply.code(200).sendFile(file.slice(1), { cacheControl: false });
  });

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply) => {
    if (served.has(request)) reply.header('Content-Security-Policy', UI_CSP);
  });
}
