import { z } from 'zod';
import { ALERT_CHANNEL_TYPES, ALERT_KINDS } from '../../core/alert.ts';
import type { AlertRuleChanges } from '../../engine/alerts.ts';
import { createAlertRule, listAlertHistory, removeAlertRule, updateAlertRule } from '../../engine/alerts.ts';
import { AUTH_ERRORS, errorResponses } from '../errors.ts';
import { actorOf } from './actor.ts';
import type { RouteModule } from './context.ts';

const durationSchema = z.union([z.number().int().min(0), z.string().min(1).max(40)]);

const channelSchema = z
  .object({ type: z.enum(ALERT_CHANNEL_TYPES), url: z.string().max(2000).optional() })
  .strict()
  .meta({ id: 'AlertChannel' });

const alertRuleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    queue: z.string().nullable(),
    kind: z.enum(ALERT_KINDS),
    threshold: z.number(),
    windowMs: z.number().nullable(),
    cooldownMs: z.number(),
    renotifyMs: z
      .number()
      .nullable()
      .describe('a still-firing alert is notified again after this long; null: once'),
    channels: z.array(channelSchema),
    enabled: z.boolean(),
    createdAt: z.number(),
    createdBy: z.string(),
  })
  .meta({ id: 'AlertRule' });

const ruleInputSchema = z
  .object({
    name: z.string().min(1).max(100),
    queue: z.string().min(1).max(200).nullable().optional(),
    kind: z.enum(ALERT_KINDS),
    threshold: z.union([z.number().int().min(0), z.string().min(1).max(40)]).optional(),
    window: durationSchema.nullable().optional(),
    cooldown: durationSchema.optional(),
    renotify: durationSchema
      .nullable()
      .optional()
      .describe('notify a still-firing alert again after this long'),
    channels: z.array(channelSchema).min(1).max(10),
    enabled: z.boolean().optional(),
  })
  .strict();

const ruleChangesSchema = z
  .object({
    name: z.string().min(1).max(100).optional(),
    queue: z.string().min(1).max(200).nullable().optional().describe('null: every queue'),
    threshold: z.union([z.number().int().min(0), z.string().min(1).max(40)]).optional(),
    window: durationSchema.nullable().optional(),
    cooldown: durationSchema.optional(),
    renotify: durationSchema.nullable().optional().describe('null or 0: notify once'),
    channels: z.array(channelSchema).min(1).max(10).optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

/** A delivery as the history shows it: its channel and status, not its URL (webhook URLs may hold secrets). */
const deliverySchema = z
  .object({
    id: z.string(),
    event: z.enum(['fired', 'resolved', 'review']),
    channel: z.enum(ALERT_CHANNEL_TYPES),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number(),
    createdAt: z.number(),
    nextAttemptAt: z.number(),
    lastError: z.string().nullable(),
    deliveredAt: z.number().nullable(),
  })
  .meta({ id: 'AlertDelivery' });

const alertSchema = z
  .object({
    id: z.string(),
    ruleId: z.string(),
    ruleName: z.string(),
    queue: z.string(),
    groupId: z.string().nullable(),
    state: z.enum(['firing', 'resolved']),
    firedAt: z.number(),
    resolvedAt: z.number().nullable(),
    lastNotifiedAt: z.number().nullable().describe('when it was last notified (fired, or a reminder)'),
    value: z.number(),
    details: z.record(z.string(), z.unknown()),
    deliveries: z.array(deliverySchema),
  })
  .meta({ id: 'Alert' });

/** Alert rules (admin: their webhook URLs are secrets) and the alert history (viewer). */
export const alertRoutes: RouteModule = (app, { dl }) => {
  app.get('/api/alert-rules', {
    config: { access: 'admin' },
    schema: {
      tags: ['alerts'],
      summary: 'Every alert rule, by name',
      response: { 200: z.object({ rules: z.array(alertRuleSchema) }), ...errorResponses(...AUTH_ERRORS) },
    },
    handler: async () => ({ rules: await dl.store.alertRuleList() }),
  });

  app.post('/api/alert-rules', {
    config: { access: 'admin' },
    schema: {
      tags: ['alerts'],
      summary: 'Add an alert rule (durations as ms or `10m`; for `oldest` the threshold is a duration)',
      body: ruleInputSchema,
      response: { 201: alertRuleSchema, ...errorResponses(...AUTH_ERRORS, 404, 409, 422) },
    },
    handler: async (request, reply) => {
      const { queue, window, cooldown, renotify, threshold, enabled, ...rest } = request.body;
      const rule = await createAlertRule(dl.store, {
        input: {
          ...rest,
          channels: rest.channels.map((c) =>
            c.url === undefined ? { type: c.type } : { type: c.type, url: c.url },
          ),
          queue: queue ?? null,
          window: window ?? null,
          ...(cooldown !== undefined && { cooldown }),
          ...(renotify !== undefined && { renotify }),
          ...(threshold !== undefined && { threshold }),
          ...(enabled !== undefined && { enabled }),
        },
        actor: actorOf(request),
        now: dl.clock.now(),
      });
      return reply.code(201).send(rule);
    },
  });

  app.patch('/api/alert-rules/:rule', {
    config: { access: 'admin' },
    schema: {
      tags: ['alerts'],
      summary:
        'Change an alert rule (by id or name): the settings given, others kept; enabled false disables it (audited)',
      params: z.object({ rule: z.string().min(1).max(200) }),
      body: ruleChangesSchema,
      response: { 200: alertRuleSchema, ...errorResponses(...AUTH_ERRORS, 404, 409, 422) },
    },
    handler: async (request) => {
      const { channels, ...rest } = request.body;
      return updateAlertRule(dl.store, {
        ref: request.params.rule,
        changes: {
          ...rest,
          ...(channels !== undefined && {
            channels: channels.map((c) =>
              c.url === undefined ? { type: c.type } : { type: c.type, url: c.url },
            ),
          }),
        } as AlertRuleChanges,
        actor: actorOf(request),
        now: dl.clock.now(),
      });
    },
  });

  app.delete('/api/alert-rules/:rule', {
    config: { access: 'admin' },
    schema: {
      tags: ['alerts'],
      summary: 'Remove an alert rule (by id or name); its firing alerts resolve without a notification',
      params: z.object({ rule: z.string().min(1).max(200) }),
      response: { 200: alertRuleSchema, ...errorResponses(...AUTH_ERRORS, 404) },
    },
    handler: async (request) =>
      removeAlertRule(dl.store, { ref: request.params.rule, actor: actorOf(request), now: dl.clock.now() }),
  });

  app.get('/api/alerts', {
    config: { access: 'viewer' },
    schema: {
      tags: ['alerts'],
      summary: 'The alert history, newest first, with the status of each notification',
      querystring: z
        .object({
          state: z.enum(['firing', 'resolved']).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(50),
        })
        .strict(),
      response: { 200: z.object({ alerts: z.array(alertSchema) }), ...errorResponses(...AUTH_ERRORS) },
    },
    handler: async (request) => {
      const { state, limit } = request.query;
      const history = await listAlertHistory(dl.store, { limit, ...(state !== undefined && { state }) });
      return {
        alerts: history.map(({ key: _key, deliveries, ...alert }) => ({
          ...alert,
          deliveries: deliveries.map(({ url: _url, alertId: _alertId, ...d }) => d),
        })),
      };
    },
  });
};
