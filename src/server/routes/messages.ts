import { z } from 'zod';
import { parseDuration } from '../../core/duration.ts';
import type { NewMessage } from '../../core/message.ts';
import { AUTH_ERRORS, errorResponses } from '../errors.ts';
import { jsonSchema, queueNameSchema } from '../schemas.ts';
import type { RouteModule } from './context.ts';

const messageSchema = z
  .object({
    body: jsonSchema,
    headers: z.record(z.string().max(256), z.string()).optional(),
    idempotencyKey: z.string().min(1).max(256).optional(),
    delay: z
      .union([z.string().max(32), z.number().int().min(0)])
      .optional()
      .describe('e.g. 5s, or milliseconds'),
  })
  .strict()
  .meta({ id: 'NewMessage' });

const sendBodySchema = z
  .union([messageSchema, z.object({ messages: z.array(messageSchema).min(1).max(1000) }).strict()])
  .meta({
    id: 'SendRequest',
    description: 'One message, or `{messages: [...]}`: a batch sent in one transaction',
  });

const sendResultSchema = z.object({ id: z.string(), deduplicated: z.boolean() }).meta({ id: 'SendResult' });

/** Sending messages to a queue (operator): one, or a batch that is accepted whole or not at all. */
export const messageRoutes: RouteModule = (app, { dl }) => {
  app.post('/api/queues/:name/messages', {
    config: { access: 'operator' },
    schema: {
      tags: ['messages'],
      summary: 'Send one message or a batch (all or nothing)',
      params: z.object({ name: queueNameSchema }),
      body: sendBodySchema,
      response: {
        201: z.object({ results: z.array(sendResultSchema) }),
        ...errorResponses(...AUTH_ERRORS, 404, 413, 415, 422),
      },
    },
    handler: async (request, reply) => {
      const given = 'messages' in request.body ? request.body.messages : [request.body];
      const messages = given.map((message): NewMessage => {
        const out: NewMessage = { body: message.body as NewMessage['body'] };
        if (message.headers !== undefined) out.headers = message.headers;
        if (message.idempotencyKey !== undefined) out.idempotencyKey = message.idempotencyKey;
        if (message.delay !== undefined) out.delayMs = parseDuration(message.delay, 'delay');
        return out;
      });
      const results = await dl.sendBatch(request.params.name, messages);
      return reply.code(201).send({ results });
    },
  });
};
