import { z } from 'zod';
import { QUEUE_DOCS_FIELDS } from '../../core/queue-docs.ts';
import { AUTH_ERRORS, errorResponses } from '../errors.ts';
import { deadLetterSchema, idSchema, jsonSchema, queueNameSchema, timeQuerySchema } from '../schemas.ts';
import { actorOf } from './actor.ts';
import type { RouteModule } from './context.ts';
import { parseTimeQuery } from './time-query.ts';
import { doctorReportSchema, lineageSchema, queueDocsSchema, reviewReportSchema } from './triage-schemas.ts';

const docsInputSchema = z
  .object(
    Object.fromEntries(
      QUEUE_DOCS_FIELDS.map((field) => [field, z.string().max(100_000).nullable().optional()]),
    ),
  )
  .strict()
  .describe('Fields to set; null or "" clears one, absent keeps it');

/**
 * The rest of triage: a dead letter's lineage and body edit before replay (operator), each
 * queue's DLQ documentation, the doctor's findings and the review report.
 */
export const triageRoutes: RouteModule = (app, { dl }) => {
  app.get('/api/dead-letters/:id/lineage', {
    config: { access: 'viewer' },
    schema: {
      tags: ['dead letters'],
      summary: 'The lineage of a dead letter: the one it replays, and what it was replayed to',
      params: z.object({ id: idSchema }),
      response: { 200: lineageSchema, ...errorResponses(...AUTH_ERRORS, 404) },
    },
    handler: async (request) => dl.getLineage(request.params.id),
  });

  app.put('/api/dead-letters/:id/body', {
    config: { access: 'operator' },
    schema: {
      tags: ['dead letters'],
      summary: 'Replace the body of a dead letter before replay (the original is kept; audited)',
      params: z.object({ id: idSchema }),
      body: z.object({ body: jsonSchema }).strict(),
      response: {
        200: z.object({
          deadLetter: deadLetterSchema,
          previousBody: jsonSchema.describe('the body before this edit'),
          changes: z.array(
            z.object({
              path: z.string(),
              kind: z.enum(['added', 'removed', 'changed']),
              before: jsonSchema.optional(),
              after: jsonSchema.optional(),
            }),
          ),
        }),
        ...errorResponses(...AUTH_ERRORS, 404, 413, 422),
      },
    },
    handler: async (request) => {
      const result = await dl.editDeadLetter(request.params.id, request.body.body as never, {
        actor: actorOf(request),
      });
      return { deadLetter: result.deadLetter, previousBody: result.previousBody, changes: result.changes };
    },
  });

  app.get('/api/queues/:name/docs', {
    config: { access: 'viewer' },
    schema: {
      tags: ['queues'],
      summary: "A queue's DLQ documentation: owner, contact, source, purpose, runbook (Markdown)",
      params: z.object({ name: queueNameSchema }),
      response: { 200: queueDocsSchema, ...errorResponses(...AUTH_ERRORS, 404) },
    },
    handler: async (request) => dl.getQueueDocs(request.params.name),
  });

  app.put('/api/queues/:name/docs', {
    config: { access: 'operator' },
    schema: {
      tags: ['queues'],
      summary: "Set fields of a queue's DLQ documentation (audited)",
      params: z.object({ name: queueNameSchema }),
      body: docsInputSchema,
      response: { 200: queueDocsSchema, ...errorResponses(...AUTH_ERRORS, 404, 422) },
    },
    handler: async (request) =>
      dl.setQueueDocs(request.params.name, request.body as Record<string, string | null>, {
        actor: actorOf(request),
      }),
  });

  app.get('/api/doctor', {
    config: { access: 'viewer' },
    schema: {
      tags: ['triage'],
      summary: 'The deployment checked against the common DLQ failure patterns',
      response: { 200: doctorReportSchema, ...errorResponses(...AUTH_ERRORS) },
    },
    handler: async () => dl.doctor(),
  });

  app.get('/api/review', {
    config: { access: 'viewer' },
    schema: {
      tags: ['triage'],
      summary: 'What happened to each DLQ over a window (default the last 7 days)',
      querystring: z.object({ since: timeQuerySchema.optional(), until: timeQuerySchema.optional() }),
      response: { 200: reviewReportSchema, ...errorResponses(...AUTH_ERRORS, 422) },
    },
    handler: async (request) => {
      const now = dl.clock.now();
      const { since, until } = request.query;
      return dl.review({
        ...(since === undefined ? {} : { since: parseTimeQuery(since, 'since', now) }),
        ...(until === undefined ? {} : { until: parseTimeQuery(until, 'until', now) }),
      });
    },
  });
};
