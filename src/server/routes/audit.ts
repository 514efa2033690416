import { z } from 'zod';
import { AUDIT_ACTIONS } from '../../core/audit.ts';
import type { AuditListParams } from '../../engine/audit-listing.ts';
import { AUTH_ERRORS, errorResponses } from '../errors.ts';
import { auditEntrySchema, timeQuerySchema } from '../schemas.ts';
import type { RouteModule } from './context.ts';
import { parseTimeQuery } from './time-query.ts';

/** The audit log, newest first, filtered, with cursor paging (as `dlq audit`). */
export const auditRoutes: RouteModule = (app, { dl }) => {
  app.get('/api/audit', {
    config: { access: 'viewer' },
    schema: {
      tags: ['audit'],
      summary: 'The audit log: every change, who, when, what; newest first',
      querystring: z.object({
        action: z.enum(AUDIT_ACTIONS).optional(),
        actor: z.string().max(200).optional(),
        target: z.string().max(200).optional(),
        since: timeQuerySchema.optional(),
        until: timeQuerySchema.optional(),
        limit: z.coerce.number().int().min(1).max(1000).optional().describe('page size (default 50)'),
        cursor: z.string().max(500).optional().describe('nextCursor of the previous page'),
      }),
      response: {
        200: z.object({ items: z.array(auditEntrySchema), nextCursor: z.string().nullable() }),
        ...errorResponses(...AUTH_ERRORS, 422),
      },
    },
    handler: async (request) => {
      const q = request.query;
      const now = dl.clock.now();
      const params: AuditListParams = {};
      if (q.action !== undefined) params.action = q.action;
      if (q.actor !== undefined) params.actor = q.actor;
      if (q.target !== undefined) params.targetId = q.target;
      if (q.since !== undefined) params.since = parseTimeQuery(q.since, 'since', now);
      if (q.until !== undefined) params.until = parseTimeQuery(q.until, 'until', now);
      if (q.limit !== undefined) params.limit = q.limit;
      if (q.cursor !== undefined) params.cursor = q.cursor;
      return dl.listAudit(params);
    },
  });
};
