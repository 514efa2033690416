import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { AUTH_ERRORS, errorResponses } from '../errors.ts';
import { groupSchema, groupStatusSchema, idSchema, mergedGroupSchema, tierSchema } from '../schemas.ts';
import { actorOf } from './actor.ts';
import type { RouteModule } from './context.ts';

const SORTS = { count: 'count', 'last-seen': 'lastSeen' } as const;

/** Groups: list, one, and triage (operator). */
export const groupRoutes: RouteModule = (app, { dl }) => {
  app.get('/api/groups', {
    config: { access: 'viewer', cache: true },
    schema: {
      tags: ['groups'],
      summary: 'Groups of dead letters (one bug, one group), by count or last seen',
      querystring: z.object({
        queue: z.string().max(128).optional(),
        status: groupStatusSchema.optional(),
        tier: tierSchema.optional(),
        sort: z.enum(['count', 'last-seen']).optional(),
        limit: z.coerce.number().int().min(1).max(1000).optional().describe('default 100'),
        offset: z.coerce.number().int().min(0).max(1_000_000).optional(),
      }),
      response: { 200: z.object({ groups: z.array(groupSchema) }), ...errorResponses(...AUTH_ERRORS, 422) },
    },
    handler: async (request, reply) => {
      const { sort, ...rest } = request.query;
      const params: Parameters<typeof dl.listGroups>[0] = {};
      for (const [key, value] of Object.entries(rest)) {
        if (value !== undefined) (params as Record<string, unknown>)[key] = value;
      }
      if (sort !== undefined) params.sort = SORTS[sort];
      // Each group is JSON text already (built by the store): a string with a JSON content type
      // is sent as it is, without the response serializer (hence the untyped reply).
      const groups = await dl.listGroupsJson(params);
      const text: FastifyReply = reply.type('application/json; charset=utf-8');
      return text.send(`{"groups":[${groups.join(',')}]}`);
    },
  });

  app.get('/api/groups/:id', {
    config: { access: 'viewer' },
    schema: {
      tags: ['groups'],
      summary: 'One group',
      params: z.object({ id: idSchema }),
      response: { 200: groupSchema, ...errorResponses(...AUTH_ERRORS, 404) },
    },
    handler: async (request) => dl.getGroup(request.params.id),
  });

  app.post('/api/groups/:id/status', {
    config: { access: 'operator' },
    schema: {
      tags: ['groups'],
      summary: 'Triage a group: new, acknowledged, resolved or ignored',
      params: z.object({ id: idSchema }),
      body: z.object({ status: z.enum(['new', 'acknowledged', 'resolved', 'ignored']) }).strict(),
      response: { 200: groupSchema, ...errorResponses(...AUTH_ERRORS, 404, 422) },
    },
    handler: async (request) =>
      dl.setGroupStatus(request.params.id, request.body.status, { actor: actorOf(request) }),
  });

  app.post('/api/groups/:id/merge', {
    config: { access: 'operator' },
    schema: {
      tags: ['groups'],
      summary:
        'Merge groups into this one: their dead letters move here, they leave the group list, and later ' +
        'failures that compute their id land here (audited as group.merge); dryRun only counts',
      params: z.object({ id: idSchema }),
      body: z
        .object({
          sources: z.array(idSchema).min(1).max(100).describe('the ids of the groups to merge into this one'),
          dryRun: z.boolean().optional(),
        })
        .strict(),
      response: {
        200: z
          .object({
            target: groupSchema,
            merged: z.array(mergedGroupSchema),
            moved: z.number().int().describe('dead letters (in the DLQ) moved to the target'),
            repointed: z.number().int().describe('earlier merges into a source, now into the target'),
            dryRun: z.boolean(),
          })
          .meta({ id: 'GroupMergeResult' }),
        ...errorResponses(...AUTH_ERRORS, 404, 409, 422),
      },
    },
    handler: async (request) =>
      dl.mergeGroups(request.params.id, request.body.sources, {
        actor: actorOf(request),
        ...(request.body.dryRun !== undefined && { dryRun: request.body.dryRun }),
      }),
  });

  app.get('/api/groups/:id/merged', {
    config: { access: 'viewer' },
    schema: {
      tags: ['groups'],
      summary: 'The groups merged into this one (directly or through a chain), latest merge first',
      params: z.object({ id: idSchema }),
      response: {
        200: z.object({ groups: z.array(mergedGroupSchema) }),
        ...errorResponses(...AUTH_ERRORS, 404),
      },
    },
    handler: async (request) => ({ groups: await dl.listMergedGroups(request.params.id) }),
  });
};
