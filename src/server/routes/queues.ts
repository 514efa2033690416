import { z } from 'zod';
import type { QueueSettingsInput } from '../../core/queue-settings.ts';
import { AUTH_ERRORS, errorResponses } from '../errors.ts';
import { queueNameSchema, queueSampleSchema, queueSchema, timeQuerySchema } from '../schemas.ts';
import { actorOf } from './actor.ts';
import type { RouteModule } from './context.ts';
import { parseTimeQuery } from './time-query.ts';

/** Settings of a queue, as the CLI's flags: durations as `30s`, `14d` or milliseconds. */
const settingsSchema = z
  .object({
    maxReceives: z.number().int().min(1).max(1000).optional(),
    visibilityTimeout: z.union([z.string().max(32), z.number().int().min(0)]).optional(),
    backoff: z.string().max(64).optional().describe('exponential:<base>:<cap> or fixed:<delay>'),
    deadLetter: z.boolean().optional(),
    retention: z
      .union([z.string().max(32), z.number().int().min(0)])
      .optional()
      .describe('e.g. 14d; 0 keeps dead letters forever'),
    replayLimit: z.number().int().min(0).max(100).optional(),
    doneRetention: z
      .union([z.string().max(32), z.number().int().min(0)])
      .optional()
      .describe(
        'how long messages that succeeded are kept before they are deleted, e.g. 1h (default); 0 deletes them at once',
      ),
  })
  .strict()
  .meta({ id: 'QueueSettings' });

const nameParams = z.object({ name: queueNameSchema });

/** Queues: list, get, create (admin), update (admin), and the DLQ's time series. */
export const queueRoutes: RouteModule = (app, { dl }) => {
  app.get('/api/queues', {
    config: { access: 'viewer' },
    schema: {
      tags: ['queues'],
      summary: 'List queues and their settings',
      response: { 200: z.object({ queues: z.array(queueSchema) }), ...errorResponses(...AUTH_ERRORS) },
    },
    handler: async () => ({ queues: await dl.listQueues() }),
  });

  app.get('/api/queues/:name', {
    config: { access: 'viewer' },
    schema: {
      tags: ['queues'],
      summary: 'One queue',
      params: nameParams,
      response: { 200: queueSchema, ...errorResponses(...AUTH_ERRORS, 404) },
    },
    handler: async (request) => dl.getQueue(request.params.name),
  });

  app.post('/api/queues', {
    config: { access: 'admin' },
    schema: {
      tags: ['queues'],
      summary:
        'Create a queue (defaults: 5 receives, 30s lease, exponential:1s:5m, DLQ on, 14d, done kept 1h)',
      body: settingsSchema.extend({ name: queueNameSchema }).strict(),
      response: { 201: queueSchema, ...errorResponses(...AUTH_ERRORS, 409, 422) },
    },
    handler: async (request, reply) => {
      const { name, ...settings } = request.body;
      const record = await dl.createQueue(name, settingsInput(settings), { actor: actorOf(request) });
      return reply.code(201).send(record);
    },
  });

  app.patch('/api/queues/:name', {
    config: { access: 'admin' },
    schema: {
      tags: ['queues'],
      summary: 'Change the given settings of a queue',
      params: nameParams,
      body: settingsSchema,
      response: { 200: queueSchema, ...errorResponses(...AUTH_ERRORS, 404, 422) },
    },
    handler: async (request) => {
      const settings = settingsInput(request.body);
      // An empty patch changes nothing and answers the queue as it is.
      if (Object.keys(settings).length === 0) return dl.getQueue(request.params.name);
      return dl.updateQueue(request.params.name, settings, { actor: actorOf(request) });
    },
  });

  app.get('/api/queues/:name/samples', {
    config: { access: 'viewer' },
    schema: {
      tags: ['queues'],
      summary: "The DLQ's depth and inflow per minute (kept 30 days), oldest first",
      params: nameParams,
      querystring: z.object({ since: timeQuerySchema.optional(), until: timeQuerySchema.optional() }),
      response: {
        200: z.object({ queue: z.string(), samples: z.array(queueSampleSchema) }),
        ...errorResponses(...AUTH_ERRORS, 404, 422),
      },
    },
    handler: async (request) => {
      const { name } = request.params;
      await dl.getQueue(name);
      const now = dl.clock.now();
      const since =
        request.query.since === undefined
          ? now - 86_400_000
          : parseTimeQuery(request.query.since, 'since', now);
      const until =
        request.query.until === undefined ? undefined : parseTimeQuery(request.query.until, 'until', now);
      const samples = await dl.store.queueSampleList({
        queue: name,
        since,
        ...(until === undefined ? {} : { until }),
      });
      return { queue: name, samples: samples.map(({ at, depth, inflow }) => ({ at, depth, inflow })) };
    },
  });
};

function settingsInput(body: z.infer<typeof settingsSchema>): QueueSettingsInput {
  const out: QueueSettingsInput = {};
  for (const [key, value] of Object.entries(body)) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}
