import { z } from 'zod';
import { AUTH_ERRORS, errorResponses } from '../errors.ts';
import { roleSchema } from '../schemas.ts';
import type { RouteModule } from './context.ts';

/**
 * Who the caller's token is: the dashboard checks a token at sign-in with it and hides what
 * the role may not do (the routes refuse it anyway).
 */
export const sessionRoutes: RouteModule = (app) => {
  app.get('/api/session', {
    config: { access: 'viewer' },
    schema: {
      tags: ['tokens'],
      summary: "The calling token's name and role",
      response: {
        200: z.object({ name: z.string(), role: roleSchema }),
        ...errorResponses(...AUTH_ERRORS),
      },
    },
    handler: async (request) => {
      const principal = request.principal;
      // The onRequest hook authenticated the call (viewer at least), so the principal is set.
      if (!principal) throw new Error('unauthenticated request reached /api/session');
      return { name: principal.name, role: principal.role };
    },
  });
};
