import { z } from 'zod';
import { AUTH_ERRORS, errorResponses } from '../errors.ts';
import { queueStatsSchema } from '../schemas.ts';
import type { RouteModule } from './context.ts';

/** Per-queue counts, as `dlq stats`. */
export const statsRoutes: RouteModule = (app, { dl }) => {
  app.get('/api/stats', {
    config: { access: 'viewer', cache: true },
    schema: {
      tags: ['stats'],
      summary:
        'Per queue: waiting, delayed, leased, done, dead, dropped, replayed, discarded, archived, oldest dead',
      response: { 200: z.object({ queues: z.array(queueStatsSchema) }), ...errorResponses(...AUTH_ERRORS) },
    },
    handler: async () => ({ queues: await dl.stats() }),
  });
};
