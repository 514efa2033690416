import { z } from 'zod';
import { API_ROLES } from '../core/api-token.ts';
import { AUDIT_ACTIONS } from '../core/audit.ts';
import { GROUP_STATUSES } from '../core/group.ts';
import type { Json } from '../core/message.ts';
import { TIERS } from '../core/tier.ts';

/**
 * The API's wire schemas shared by several resources (each route file keeps its own request
 * schemas). What is documented is exactly what is sent: a field the engine adds later reaches
 * clients once it is added here (responses are encoded through these schemas). Times are
 * epoch milliseconds, like the library's.
 */

const epochMs = z.number().int().describe('epoch milliseconds');

/** Any JSON value: a message body. */
export const jsonSchema: z.ZodType<Json> = z
  .json()
  .meta({ id: 'Json', description: 'Any JSON value' }) as unknown as z.ZodType<Json>;

export const tierSchema = z.enum(TIERS).meta({ id: 'Tier' });
export const groupStatusSchema = z.enum(GROUP_STATUSES).meta({ id: 'GroupStatus' });
export const roleSchema = z.enum(API_ROLES).meta({ id: 'Role' });

export const queueNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'a queue name: 1-128 letters, digits, ".", "_", ":" or "-"');

/** Ids of dead letters, groups and tokens in paths: printable, bounded. */
export const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:@-]{1,200}$/, 'an id: 1-200 letters, digits, ".", "_", ":", "@" or "-"');

export const backoffSchema = z
  .union([
    z.object({ type: z.literal('exponential'), baseMs: z.number().int(), capMs: z.number().int() }),
    z.object({ type: z.literal('fixed'), delayMs: z.number().int() }),
  ])
  .meta({ id: 'Backoff' });

export const queueSchema = z
  .object({
    name: z.string(),
    maxReceives: z.number().int(),
    visibilityTimeoutMs: z.number().int(),
    backoff: backoffSchema,
    deadLetter: z.boolean(),
    retentionDays: z.number(),
    replayLimit: z.number().int().optional(),
    /** How long done messages are kept, in ms, before the done-retention sweep deletes them (0: deleted at ack). */
    doneRetentionMs: z.number().int().optional(),
    createdAt: epochMs,
    updatedAt: epochMs,
  })
  .meta({ id: 'Queue' });

export const queueStatsSchema = z
  .object({
    queue: z.string(),
    waiting: z.number().int(),
    delayed: z.number().int(),
    leased: z.number().int(),
    done: z.number().int(),
    dead: z.number().int(),
    dropped: z.number().int(),
    replayed: z.number().int(),
    discarded: z.number().int(),
    archived: z.number().int(),
    oldestDeadAt: epochMs.nullable(),
    retentionDays: z.number().optional(),
    nextExpiryAt: epochMs.nullable().optional(),
  })
  .meta({ id: 'QueueStats' });

export const failureSchema = z
  .object({
    name: z.string(),
    message: z.string(),
    stack: z.string().optional(),
    code: z.string().optional(),
    status: z.number().int().optional(),
  })
  .meta({ id: 'Failure' });

export const attemptSchema = z
  .object({
    number: z.number().int(),
    startedAt: epochMs,
    durationMs: z.number(),
    error: failureSchema,
    workerId: z.string(),
    workerVersion: z.string(),
    host: z.string(),
  })
  .meta({ id: 'Attempt' });

const deadLetterCommon = {
  id: z.string(),
  queue: z.string(),
  idempotencyKey: z.string().nullable(),
  enqueuedAt: epochMs,
  error: failureSchema,
  tier: tierSchema,
  fingerprint: z.string(),
  groupId: z.string(),
  diedAt: epochMs,
  replayCount: z.number().int(),
  previousId: z.string().nullable(),
};

export const deadLetterSummarySchema = z
  .object({ ...deadLetterCommon, attemptCount: z.number().int() })
  .meta({ id: 'DeadLetterSummary' });

/**
 * An item of `GET /api/dead-letters`: a `DeadLetterBrief` (the fields every item has, the error
 * message cut to 200 characters, a list of validation issues first put on one line), plus the
 * summary's other fields with `fields=full` (the whole message, its stack, code and status). The brief page is sent as the JSON text the store
 * builds, so this schema documents it rather than encodes it: a test checks the two agree.
 */
export const deadLetterListItemSchema = z
  .object({
    id: z.string(),
    queue: z.string(),
    tier: tierSchema,
    groupId: z.string(),
    error: failureSchema,
    diedAt: epochMs,
    attemptCount: z.number().int(),
    replayCount: z.number().int(),
    idempotencyKey: z.string().nullable().optional().describe('fields=full'),
    enqueuedAt: epochMs.optional().describe('fields=full'),
    fingerprint: z.string().optional().describe('fields=full'),
    previousId: z.string().nullable().optional().describe('fields=full'),
  })
  .meta({ id: 'DeadLetterListItem' });

export const deadLetterSchema = z
  .object({
    ...deadLetterCommon,
    body: jsonSchema,
    headers: z.record(z.string(), z.string()),
    attempts: z.array(attemptSchema),
    originalBody: jsonSchema.nullable().optional(),
    edits: z.array(z.object({ at: epochMs, actor: z.string(), body: jsonSchema })).optional(),
  })
  .meta({ id: 'DeadLetter' });

export const groupSchema = z
  .object({
    id: z.string(),
    fingerprint: z.string(),
    errorName: z.string(),
    normalizedMessage: z.string(),
    tier: tierSchema,
    status: groupStatusSchema,
    firstSeen: epochMs,
    lastSeen: epochMs,
    count: z.number().int(),
    deadCount: z.number().int(),
    queues: z.array(z.string()),
    sampleId: z.string(),
    statusChangedAt: epochMs,
  })
  .meta({ id: 'Group' });

/** A group merged into another (`targetId`), as it was when merged. */
export const mergedGroupSchema = z
  .object({
    id: z.string(),
    targetId: z.string(),
    fingerprint: z.string(),
    errorName: z.string(),
    normalizedMessage: z.string(),
    tier: tierSchema,
    count: z.number().int(),
    firstSeen: epochMs,
    lastSeen: epochMs,
    mergedAt: epochMs,
    mergedBy: z.string(),
  })
  .meta({ id: 'MergedGroup' });

/** A token as the API shows it: never the secret, never the hash. */
export const tokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: roleSchema,
    createdAt: epochMs,
    createdBy: z.string(),
    lastUsedAt: epochMs.nullable(),
    revokedAt: epochMs.nullable(),
  })
  .meta({ id: 'Token' });

export const queueSampleSchema = z
  .object({ at: epochMs, depth: z.number().int(), inflow: z.number().int() })
  .meta({
    id: 'QueueSample',
    description: 'A DLQ at one minute: dead letters in it, and arrived since the previous sample',
  });

export const auditEntrySchema = z
  .object({
    id: z.number().int(),
    at: epochMs,
    actor: z.string(),
    action: z.enum(AUDIT_ACTIONS),
    targetType: z.string(),
    targetId: z.string(),
    details: z.record(z.string(), jsonSchema),
  })
  .meta({ id: 'AuditEntry' });

/**
 * A time in a query: an ISO 8601 date or time, or a duration ago (`30m`, `2h`, `7d`), as the
 * CLI's `--since`/`--until` accept.
 */
export const timeQuerySchema = z
  .string()
  .max(64)
  .describe('an ISO time (2026-01-01T10:00:00Z) or a duration ago (30m, 2h, 7d)');
