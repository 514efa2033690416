import { z } from 'zod';
import packageJson from '../../../package.json' with { type: 'json' };
import { ApiError, errorResponses } from '../errors.ts';
import type { RouteModule } from './context.ts';

/** Liveness and store reachability, without authentication (for load balancers and `dlq serve` checks). */
export const healthRoutes: RouteModule = (app, { dl }) => {
  app.get('/api/health', {
    config: { access: 'public' },
    schema: {
      tags: ['health'],
      summary: 'Whether the server runs and reaches its store (no token needed)',
      security: [],
      response: {
        200: z.object({ status: z.literal('ok'), version: z.string() }),
        ...errorResponses(503),
      },
    },
    handler: async () => {
      try {
        await dl.listQueues();
      } catch (cause) {
        throw new ApiError(503, 'unavailable', 'the store is unreachable', {}, { cause });
      }
      return { status: 'ok' as const, version: packageJson.version };
    },
  });
};
