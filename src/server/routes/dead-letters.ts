import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { type DeadLetterFilter, parseWhere } from '../../core/dead-letter.ts';
import { ValidationError } from '../../core/errors.ts';
import type { DeadLetterListParams } from '../../engine/deadletter.ts';
import { AUTH_ERRORS, errorResponses } from '../errors.ts';
import {
  deadLetterListItemSchema,
  deadLetterSchema,
  idSchema,
  tierSchema,
  timeQuerySchema,
} from '../schemas.ts';
import type { RouteModule } from './context.ts';
import { parseTimeQuery } from './time-query.ts';

/** The selector of `dlq list`, as query parameters (`where` repeatable). */
export const deadLetterSelectorQuery = z.object({
  queue: z.string().max(128).optional(),
  tier: tierSchema.optional(),
  group: z.string().max(200).optional(),
  since: timeQuerySchema.optional(),
  until: timeQuerySchema.optional(),
  grep: z
    .string()
    .max(1000)
    .optional()
    .describe('error name or message contains this text (case-insensitive)'),
  where: z
    .union([z.string().max(1000), z.array(z.string().max(1000)).max(20)])
    .optional()
    .describe('body.<field>[.<field>...]=<value>; repeatable'),
  ids: z.string().max(200_000).optional().describe('comma-separated dead-letter ids, at most 1000'),
});

/** The filter a selector query describes; ValidationError (422) on a bad value. */
export function selectorFromQuery(
  query: z.infer<typeof deadLetterSelectorQuery>,
  now: number,
): DeadLetterFilter {
  const filter: DeadLetterFilter = {};
  if (query.ids !== undefined) {
    const ids = [
      ...new Set(
        query.ids
          .split(',')
          .map((id) => id.trim())
          .filter(Boolean),
      ),
    ];
    if (ids.length === 0 || ids.length > 1000) {
      throw new ValidationError('invalid ids: give 1 to 1000 comma-separated dead-letter ids');
    }
    filter.ids = ids;
  }
  if (query.queue !== undefined) filter.queue = query.queue;
  if (query.tier !== undefined) filter.tier = query.tier;
  if (query.group !== undefined) filter.groupId = query.group;
  if (query.since !== undefined) filter.since = parseTimeQuery(query.since, 'since', now);
  if (query.until !== undefined) filter.until = parseTimeQuery(query.until, 'until', now);
  if (query.grep !== undefined) filter.grep = query.grep;
  if (query.where !== undefined) {
    const wheres = Array.isArray(query.where) ? query.where : [query.where];
    if (wheres.length > 0) filter.where = wheres.map(parseWhere);
  }
  return filter;
}

/** Dead letters: the list with `dlq list`'s filters and cursor paging, and one with its whole context. */
export const deadLetterRoutes: RouteModule = (app, { dl }) => {
  app.get('/api/dead-letters', {
    config: { access: 'viewer', cache: true },
    schema: {
      tags: ['dead letters'],
      summary: 'Dead letters, newest first, filtered, with cursor paging',
      querystring: deadLetterSelectorQuery.extend({
        limit: z.coerce.number().int().min(1).max(1000).optional().describe('page size (default 50)'),
        cursor: z.string().max(500).optional().describe('nextCursor of the previous page'),
        fields: z
          .enum(['brief', 'full'])
          .optional()
          .describe(
            'brief (default): id, queue, tier, group, error name and message (cut to 200 characters), ' +
              'died at, attempt and replay counts; full: the whole summary (message, stack, code, ' +
              'status, fingerprint, idempotency key, enqueued at, previous id)',
          ),
      }),
      response: {
        200: z.object({ items: z.array(deadLetterListItemSchema), nextCursor: z.string().nullable() }),
        // 404: the group asked for was merged into another (the message names it).
        ...errorResponses(...AUTH_ERRORS, 404, 422),
      },
    },
    handler: async (request, reply) => {
      const { limit, cursor, fields, ...selector } = request.query;
      const params: DeadLetterListParams = selectorFromQuery(selector, dl.clock.now());
      if (limit !== undefined) params.limit = limit;
      if (cursor !== undefined) params.cursor = cursor;
      if (fields === 'full') return dl.listDeadLetters(params);
      // The items are JSON text already (built by the store): a string with a JSON content type
      // is sent as it is, without the response serializer (hence the untyped reply).
      const page = await dl.listDeadLetterBriefs(params);
      const items = page.items.map((item) => item.json).join(',');
      const text: FastifyReply = reply.type('application/json; charset=utf-8');
      return text.send(`{"items":[${items}],"nextCursor":${JSON.stringify(page.nextCursor)}}`);
    },
  });

  app.get('/api/dead-letters/:id', {
    config: { access: 'viewer' },
    schema: {
      tags: ['dead letters'],
      summary: 'One dead letter with its whole context: body, headers, every attempt',
      params: z.object({ id: idSchema }),
      response: { 200: deadLetterSchema, ...errorResponses(...AUTH_ERRORS, 404) },
    },
    handler: async (request) => dl.getDeadLetter(request.params.id),
  });
};
