import fastifySwagger from '@fastify/swagger';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import packageJson from '../../package.json' with { type: 'json' };
import type { ApiApp } from './routes/context.ts';

/** Where the OpenAPI document is served. */
export const OPENAPI_PATH = '/api/openapi.json';

/**
 * Registers the OpenAPI 3.1 document, generated from the routes' zod schemas (params, query,
 * body, responses), served without authentication at {@link OPENAPI_PATH}. Must be registered
 * before the routes it describes.
 */
export function registerOpenApi(app: ApiApp): void {
  app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Deadletter API',
        version: packageJson.version,
        description:
          'Queues, dead letters, groups and triage of a Deadletter store. Every route but /api/health and ' +
          'this document needs `Authorization: Bearer <token>`; roles: viewer (read) < operator (triage, send) < ' +
          'admin (queues, tokens). Errors are `{error: {code, message}}`. Times are epoch milliseconds.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'a token from `dlq token create`' },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  app.after(() => {
    app.get(OPENAPI_PATH, { config: { access: 'public' }, schema: { hide: true } }, async () =>
      app.swagger(),
    );
  });
}
