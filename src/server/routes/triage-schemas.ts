import { z } from 'zod';
import { REPLAY_JOB_STATUSES } from '../../core/replay.ts';
import { deadLetterSummarySchema, idSchema, jsonSchema, tierSchema, timeQuerySchema } from '../schemas.ts';

/**
 * Wire schemas of the triage routes (replay, discard, lineage, documentation, doctor, review):
 * what is documented is what is sent (responses are encoded through them).
 */

const epochMs = z.number().int().describe('epoch milliseconds');
const count = z.number().int();

/** The dead letters an operation applies to: the selector of `dlq list`, as a JSON object. */
export const selectorBodySchema = z
  .object({
    queue: z.string().max(128).optional(),
    tier: tierSchema.optional(),
    group: z.string().max(200).optional(),
    since: timeQuerySchema.optional(),
    until: timeQuerySchema.optional(),
    grep: z.string().max(1000).optional(),
    where: z.array(z.string().max(1000)).max(20).optional().describe('body.<field>=<value> each'),
    ids: z.array(idSchema).min(1).max(1000).optional(),
  })
  .strict()
  .describe('The dead letters it applies to: every given field must match (as the CLI selector flags)');

export type SelectorBody = z.infer<typeof selectorBodySchema>;

/** A selector as the engine keeps it in a job or a plan (times as epoch ms, group as `groupId`). */
export const filterSchema = z
  .object({
    queue: z.string().optional(),
    tier: tierSchema.optional(),
    groupId: z.string().optional(),
    since: epochMs.optional(),
    until: epochMs.optional(),
    grep: z.string().optional(),
    ids: z.array(z.string()).optional(),
    where: z.array(z.object({ path: z.array(z.string()), value: jsonSchema })).optional(),
  })
  .meta({ id: 'DeadLetterFilter' });

export const replayPlanSchema = z
  .object({
    selector: filterSchema,
    destination: z.string().nullable(),
    total: count,
    destinations: z.array(z.object({ queue: z.string(), count })),
    byGroup: z.array(z.object({ groupId: z.string(), count })),
    byTier: z.array(z.object({ tier: tierSchema, count })),
    byQueue: z.array(z.object({ queue: z.string(), count, replayLimit: count })),
    alreadyReplayed: z.array(z.object({ times: count, count })),
    atReplayLimit: count,
    samples: z.array(deadLetterSummarySchema),
  })
  .meta({ id: 'ReplayPlan', description: 'What a replay would do (the dry run)' });

const canarySchema = z.object({
  timeoutMs: count,
  messages: z.array(z.object({ deadLetterId: z.string(), messageId: z.string() })),
  waitingSince: epochMs.nullable(),
  outcome: z
    .object({
      verdict: z.enum(['passed', 'failed', 'timed_out']),
      done: count,
      died: z.array(z.string()),
      pending: count,
      failureRate: z.number(),
      decidedAt: epochMs,
    })
    .nullable(),
});

export const replayJobSchema = z
  .object({
    id: z.string(),
    status: z.enum(REPLAY_JOB_STATUSES),
    createdAt: epochMs,
    createdBy: z.string(),
    updatedAt: epochMs,
    finishedAt: epochMs.nullable(),
    selector: filterSchema,
    destination: z.string().nullable(),
    ratePerSecond: z.number().nullable(),
    batchSize: count,
    canarySize: count,
    canaryMaxFailureRate: z.number(),
    canary: canarySchema.nullable(),
    planned: count,
    replayed: count,
    skipped: count,
    position: z.object({ diedAt: epochMs, id: z.string() }).nullable(),
    holder: z.string().nullable(),
    holderExpiresAt: epochMs.nullable(),
    message: z.string().nullable(),
  })
  .meta({ id: 'ReplayJob' });

export const replaySkipSchema = z
  .object({
    id: z.string(),
    reason: z.enum(['replay_limit', 'duplicate_key', 'gone']),
    detail: z.union([z.number(), z.string()]).optional(),
  })
  .meta({ id: 'ReplaySkip' });

export const discardReportSchema = z
  .object({
    dryRun: z.boolean(),
    reason: z.string().nullable(),
    matched: count,
    discarded: count,
    skipped: count,
    byQueue: z.array(z.object({ queue: z.string(), count })),
    byGroup: z.array(z.object({ groupId: z.string(), count })),
    byTier: z.array(z.object({ tier: tierSchema, count })),
    samples: z.array(deadLetterSummarySchema),
    resolvedGroup: z.string().nullable(),
  })
  .meta({ id: 'DiscardReport' });

const lineageLinkSchema = z.object({
  id: z.string(),
  state: z.enum(['waiting', 'leased', 'done', 'dead', 'replayed', 'discarded']),
  queue: z.string(),
  at: epochMs,
  replayCount: count.nullable(),
});

export const lineageSchema = z
  .object({
    self: lineageLinkSchema,
    previous: lineageLinkSchema.nullable(),
    next: lineageLinkSchema.nullable(),
  })
  .meta({ id: 'Lineage', description: 'The dead letter a record replays, and what it was replayed to' });

const docsText = z.string().nullable();
export const queueDocsSchema = z
  .object({
    queue: z.string(),
    owner: docsText,
    contact: docsText,
    source: docsText,
    purpose: docsText,
    failureMeaning: docsText,
    runbook: docsText.describe('Markdown'),
    updatedAt: epochMs,
    updatedBy: z.string(),
  })
  .meta({ id: 'QueueDocs' });

export const doctorReportSchema = z
  .object({
    checkedAt: epochMs,
    queues: count,
    problems: count,
    warnings: count,
    findings: z.array(
      z.object({
        severity: z.enum(['problem', 'warning']),
        code: z.string(),
        queue: z.string(),
        message: z.string(),
        fix: z.string(),
        ids: z.array(z.string()).optional(),
      }),
    ),
    notes: z.array(z.string()),
  })
  .meta({ id: 'DoctorReport' });

const reviewGroupSchema = z.object({
  id: z.string(),
  status: z.string(),
  tier: tierSchema,
  errorName: z.string(),
  normalizedMessage: z.string(),
  deadCount: count,
  firstSeen: epochMs,
  lastSeen: epochMs,
});

export const reviewReportSchema = z
  .object({
    since: epochMs,
    until: epochMs,
    totals: z.object({
      depth: count,
      inflow: count,
      newGroups: count,
      replayed: count,
      discarded: count,
      archived: count,
      untriagedGroups: count,
    }),
    queues: z.array(
      z.object({
        queue: z.string(),
        depth: count,
        oldestDeadAt: epochMs.nullable(),
        inflow: count,
        newGroups: z.object({ count, groups: z.array(reviewGroupSchema) }),
        topGroups: z.array(reviewGroupSchema),
        replayed: z.object({ count, by: z.array(z.object({ actor: z.string(), count })) }),
        discarded: z.object({
          count,
          by: z.array(z.object({ actor: z.string(), reason: z.string(), count })),
        }),
        archived: count,
        untriaged: z.object({ count, deadLetters: count, groups: z.array(reviewGroupSchema) }),
      }),
    ),
  })
  .meta({ id: 'ReviewReport' });
