import { z } from 'zod';
import { createApiToken, listApiTokens, revokeApiToken } from '../../engine/api-tokens.ts';
import { AUTH_ERRORS, errorResponses } from '../errors.ts';
import { roleSchema, tokenSchema } from '../schemas.ts';
import { actorOf } from './actor.ts';
import type { RouteModule } from './context.ts';

const tokenName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'a token name: 1-64 letters, digits, ".", "_", "@" or "-"');

/** API tokens (admin): list, create (the secret is in the response, once), revoke. */
export const tokenRoutes: RouteModule = (app, { dl, auth }) => {
  app.get('/api/tokens', {
    config: { access: 'admin' },
    schema: {
      tags: ['tokens'],
      summary: 'Every token, active and revoked (never a secret)',
      response: { 200: z.object({ tokens: z.array(tokenSchema) }), ...errorResponses(...AUTH_ERRORS) },
    },
    handler: async () => ({ tokens: await listApiTokens(dl.store) }),
  });

  app.post('/api/tokens', {
    config: { access: 'admin' },
    schema: {
      tags: ['tokens'],
      summary: 'Create a token; its secret is shown in this response only',
      body: z.object({ name: tokenName, role: roleSchema }).strict(),
      response: {
        201: z.object({ token: tokenSchema, secret: z.string() }),
        ...errorResponses(...AUTH_ERRORS, 409, 422),
      },
    },
    handler: async (request, reply) => {
      const created = await createApiToken(dl.store, {
        ...request.body,
        actor: actorOf(request),
        now: dl.clock.now(),
      });
      return reply.code(201).header('Cache-Control', 'no-store').send(created);
    },
  });

  app.delete('/api/tokens/:name', {
    config: { access: 'admin' },
    schema: {
      tags: ['tokens'],
      summary: 'Revoke the active token with this name',
      params: z.object({ name: tokenName }),
      response: { 200: tokenSchema, ...errorResponses(...AUTH_ERRORS, 404) },
    },
    handler: async (request) => {
      const revoked = await revokeApiToken(dl.store, {
        name: request.params.name,
        actor: actorOf(request),
        now: dl.clock.now(),
      });
      auth.forgetVerified(); // refused from the next request on, not after the cache's time
      return revoked;
    },
  });
};
