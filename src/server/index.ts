/**
 * The HTTP API as a library: `import { createServer } from 'deadletter/server'`. A separate
 * entry point so that a process that only sends and works (`import … from 'deadletter'`)
 * never loads Fastify, zod schemas and prom-client (about 30 MB of memory).
 */
export { ServerMetrics } from './metrics.ts';
export { createServer, type ServerDeps } from './server.ts';
