import { z } from 'zod';
import { MAX_DISCARD_REASON } from '../../core/discard.ts';
import { AUTH_ERRORS, errorResponses } from '../errors.ts';
import { actorOf } from './actor.ts';
import type { RouteModule } from './context.ts';
import { selectorFromBody } from './replays.ts';
import { discardReportSchema, selectorBodySchema } from './triage-schemas.ts';

/**
 * Discard (operator): a dry run, or the discard itself with a required reason. Each discarded
 * dead letter leaves a tombstone, and the audit log records who, why and which.
 */
export const discardRoutes: RouteModule = (app, { dl }) => {
  app.post('/api/discards', {
    config: { access: 'operator' },
    schema: {
      tags: ['discards'],
      summary: 'Discard the selected dead letters with a reason (or, with dryRun, say what would go)',
      body: z
        .object({
          selector: selectorBodySchema,
          reason: z.string().max(MAX_DISCARD_REASON).optional().describe('required unless dryRun'),
          dryRun: z.boolean().optional(),
        })
        .strict(),
      response: { 200: discardReportSchema, ...errorResponses(...AUTH_ERRORS, 404, 422) },
    },
    handler: async (request) => {
      const { selector, reason, dryRun } = request.body;
      return dl.discard(selectorFromBody(selector, dl.clock.now()), {
        actor: actorOf(request),
        ...(reason === undefined ? {} : { reason }),
        ...(dryRun === undefined ? {} : { dryRun }),
      });
    },
  });
};
