import { z } from 'zod';
import { ValidationError } from '../../core/errors.ts';
import { compileFailureMatch, failureMatchSchema } from '../../core/failure-match.ts';
import { AUTH_ERRORS, errorResponses } from '../errors.ts';
import { actorOf } from './actor.ts';
import type { RouteModule } from './context.ts';

const groupRuleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    queue: z.string().nullable(),
    match: failureMatchSchema,
    fingerprint: z.string(),
    createdAt: z.number(),
    createdBy: z.string(),
  })
  .meta({ id: 'GroupRule' });

/** The match of a new rule: the FailureMatch shape, and every regex must compile (else 400). */
const matchInputSchema = failureMatchSchema.superRefine((match, ctx) => {
  try {
    compileFailureMatch(match);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
  }
});

const ruleInputSchema = z
  .object({
    name: z.string().min(1).max(100),
    queue: z.string().min(1).max(200).nullable().optional().describe('null or absent: every queue'),
    match: matchInputSchema.describe(
      'name (exact) and message (substring), each a string or {regex, flags}; code (one or a list); status (one, a list or {min, max})',
    ),
    fingerprint: z.string().min(1).max(500).describe('the group key: one group per fingerprint'),
  })
  .strict();

/** Stored fingerprint rules: read by viewers, changed by admins (audited). */
export const groupRuleRoutes: RouteModule = (app, { dl }) => {
  app.get('/api/group-rules', {
    config: { access: 'viewer' },
    schema: {
      tags: ['groups'],
      summary: 'The stored fingerprint rules, in the order they are tried (after the rules given in code)',
      response: { 200: z.object({ rules: z.array(groupRuleSchema) }), ...errorResponses(...AUTH_ERRORS) },
    },
    handler: async () => ({ rules: await dl.listGroupRules() }),
  });

  app.post('/api/group-rules', {
    config: { access: 'admin' },
    schema: {
      tags: ['groups'],
      summary:
        'Add a fingerprint rule: failures that match it (from its queue, or any) go to the group of its fingerprint',
      body: ruleInputSchema,
      response: { 201: groupRuleSchema, ...errorResponses(...AUTH_ERRORS, 404, 409, 422) },
    },
    handler: async (request, reply) => {
      const rule = await dl.addGroupRule(
        { ...request.body, queue: request.body.queue ?? null },
        { actor: actorOf(request) },
      );
      return reply.code(201).send(rule);
    },
  });

  app.delete('/api/group-rules/:rule', {
    config: { access: 'admin' },
    schema: {
      tags: ['groups'],
      summary: 'Remove a fingerprint rule (by id or name); groups it made stay',
      params: z.object({ rule: z.string().min(1).max(200) }),
      response: { 200: groupRuleSchema, ...errorResponses(...AUTH_ERRORS, 404) },
    },
    handler: async (request) => dl.removeGroupRule(request.params.rule, { actor: actorOf(request) }),
  });
};
