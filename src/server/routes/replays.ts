import { z } from 'zod';
import type { DeadLetterFilter } from '../../core/dead-letter.ts';
import { REPLAY_JOB_STATUSES } from '../../core/replay.ts';
import type { ReplayOptions } from '../../engine/replays.ts';
import { AUTH_ERRORS, errorResponses } from '../errors.ts';
import { idSchema, queueNameSchema } from '../schemas.ts';
import { actorOf } from './actor.ts';
import type { RouteModule } from './context.ts';
import { selectorFromQuery } from './dead-letters.ts';
import {
  replayJobSchema,
  replayPlanSchema,
  replaySkipSchema,
  type SelectorBody,
  selectorBodySchema,
} from './triage-schemas.ts';

/** The engine filter of a JSON selector (ValidationError, 422, on a bad value). */
export function selectorFromBody(selector: SelectorBody, now: number): DeadLetterFilter {
  const { ids, ...rest } = selector;
  return selectorFromQuery({ ...rest, ...(ids === undefined ? {} : { ids: ids.join(',') }) }, now);
}

const replayOptionsSchema = z
  .object({
    selector: selectorBodySchema,
    to: queueNameSchema.optional().describe("destination queue; default each dead letter's source queue"),
    rate: z.number().positive().max(100_000).optional().describe('messages per second'),
    batchSize: z.number().int().min(1).max(5000).optional().describe('default 500'),
    canary: z.number().int().min(1).max(1000).optional().describe('replay this many first and judge them'),
    canaryMaxFailureRate: z.number().min(0).max(1).optional().describe('default 0.2'),
    canaryTimeout: z
      .union([z.string().max(32), z.number().int().min(1)])
      .optional()
      .describe('default 15m'),
  })
  .strict();

const jobParams = z.object({ id: idSchema });

/**
 * Replays (operator; the dry run and the job list are reads): a dry run, a durable job run by
 * the server's replay runner (the leader's maintenance service), its progress, skips, pause,
 * resume and cancel. The audit log records the token's name.
 */
export const replayRoutes: RouteModule = (app, { dl }) => {
  app.post('/api/replays/dry-run', {
    config: { access: 'viewer' },
    schema: {
      tags: ['replays'],
      summary:
        'What a replay of a selection would do: counts per group, tier and queue, samples, destination',
      body: z.object({ selector: selectorBodySchema, to: queueNameSchema.optional() }).strict(),
      response: { 200: replayPlanSchema, ...errorResponses(...AUTH_ERRORS, 404, 409, 422) },
    },
    handler: async (request) => {
      const filter = selectorFromBody(request.body.selector, dl.clock.now());
      return dl.replayDryRun(filter, request.body.to === undefined ? {} : { to: request.body.to });
    },
  });

  app.post('/api/replays', {
    config: { access: 'operator' },
    schema: {
      tags: ['replays'],
      summary: "Start a replay job (run by the server's replay runner); answers the job and its dry run",
      body: replayOptionsSchema,
      response: {
        201: z.object({ job: replayJobSchema, plan: replayPlanSchema }),
        ...errorResponses(...AUTH_ERRORS, 404, 409, 422),
      },
    },
    handler: async (request, reply) => {
      const { selector, to, rate, batchSize, canary, canaryMaxFailureRate, canaryTimeout } = request.body;
      const options: ReplayOptions = { actor: actorOf(request), detach: true };
      if (to !== undefined) options.to = to;
      if (rate !== undefined) options.rate = rate;
      if (batchSize !== undefined) options.batchSize = batchSize;
      if (canary !== undefined) options.canary = canary;
      if (canaryMaxFailureRate !== undefined) options.canaryMaxFailureRate = canaryMaxFailureRate;
      if (canaryTimeout !== undefined) options.canaryTimeout = canaryTimeout;
      const outcome = await dl.replay(selectorFromBody(selector, dl.clock.now()), options);
      return reply.code(201).send({ job: outcome.job, plan: outcome.plan });
    },
  });

  app.get('/api/replays', {
    config: { access: 'viewer' },
    schema: {
      tags: ['replays'],
      summary: 'Replay jobs, newest first',
      querystring: z.object({
        limit: z.coerce.number().int().min(1).max(1000).optional().describe('default 50'),
        status: z
          .union([z.enum(REPLAY_JOB_STATUSES), z.array(z.enum(REPLAY_JOB_STATUSES)).max(8)])
          .optional()
          .describe('only jobs in this status (repeat for several)'),
      }),
      response: { 200: z.object({ jobs: z.array(replayJobSchema) }), ...errorResponses(...AUTH_ERRORS, 422) },
    },
    handler: async (request) => {
      const { limit, status } = request.query;
      return {
        jobs: await dl.listReplayJobs({
          ...(limit !== undefined && { limit }),
          ...(status !== undefined && { status }),
        }),
      };
    },
  });

  app.get('/api/replays/:id', {
    config: { access: 'viewer' },
    schema: {
      tags: ['replays'],
      summary: 'One replay job: status, progress, canary',
      params: jobParams,
      response: { 200: replayJobSchema, ...errorResponses(...AUTH_ERRORS, 404) },
    },
    handler: async (request) => dl.getReplayJob(request.params.id),
  });

  app.get('/api/replays/:id/skips', {
    config: { access: 'viewer' },
    schema: {
      tags: ['replays'],
      summary: 'The dead letters a job skipped and why (replay limit, duplicate key, gone)',
      params: jobParams,
      response: {
        200: z.object({ skips: z.array(replaySkipSchema) }),
        ...errorResponses(...AUTH_ERRORS, 404),
      },
    },
    handler: async (request) => ({ skips: await dl.listReplaySkips(request.params.id) }),
  });

  const actions = {
    pause: { summary: 'Pause a replay job before its next batch', run: dl.pauseReplay.bind(dl) },
    cancel: {
      summary: 'Cancel a replay job (what it replayed stays replayed)',
      run: dl.cancelReplay.bind(dl),
    },
    resume: {
      summary: "Resume a paused replay job (the server's replay runner continues it)",
      run: async (id: string, options: { actor: string }) =>
        (await dl.resumeReplay(id, { ...options, detach: true })).job,
    },
  } as const;
  for (const [action, { summary, run }] of Object.entries(actions)) {
    app.post(`/api/replays/:id/${action}`, {
      config: { access: 'operator' },
      schema: {
        tags: ['replays'],
        summary,
        params: jobParams,
        body: z.object({}).strict().optional(),
        response: { 200: replayJobSchema, ...errorResponses(...AUTH_ERRORS, 404, 409) },
      },
      handler: async (request) => run(request.params.id, { actor: actorOf(request) }),
    });
  }
};
