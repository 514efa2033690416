import { z } from 'zod';
import { ValidationError } from './errors.ts';

/**
 * The documentation of one queue's DLQ: who owns it and what to do when it fills. Every field
 * is optional text; `runbook` is Markdown. `dlq doctor` asks for an owner and a runbook.
 */
export interface QueueDocs {
  queue: string;
  /** The team or person responsible for the queue's failures. */
  owner: string | null;
  /** How to reach the owner or the on-call: a channel, an e-mail, a pager rotation. */
  contact: string | null;
  /** Where the messages come from (the producer, the upstream system). */
  source: string | null;
  /** What the queue is for, and what success looks like. */
  purpose: string | null;
  /** What a dead letter here means for users or the business. */
  failureMeaning: string | null;
  /** The triage runbook, in Markdown. */
  runbook: string | null;
  updatedAt: number;
  /** The actor of the last change. */
  updatedBy: string;
}

/** The documentation fields a caller may set; `null` or an empty string clears a field, absent keeps it. */
export type QueueDocsInput = Partial<Record<QueueDocsField, string | null>>;

/** The documentation fields, in display order. */
export const QUEUE_DOCS_FIELDS = [
  'owner',
  'contact',
  'source',
  'purpose',
  'failureMeaning',
  'runbook',
] as const;
export type QueueDocsField = (typeof QUEUE_DOCS_FIELDS)[number];

/** The longest one-line field (everything but the runbook), in characters. */
export const MAX_DOCS_FIELD = 1000;
/** The longest runbook, in characters. */
export const MAX_RUNBOOK = 100_000;

const fieldSchema = z.string().max(MAX_DOCS_FIELD).nullable().optional();
const docsSchema = z.strictObject({
  owner: fieldSchema,
  contact: fieldSchema,
  source: fieldSchema,
  purpose: fieldSchema,
  failureMeaning: fieldSchema,
  runbook: z.string().max(MAX_RUNBOOK).nullable().optional(),
});

/**
 * Validates a documentation patch and normalises it: text is trimmed, an empty string becomes
 * null (clears the field), absent fields are left out. Throws ValidationError on an unknown
 * field, a value that is not text, or text that is too long, and when no field is given.
 */
export function resolveQueueDocs(input: QueueDocsInput): QueueDocsInput {
  const parsed = docsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new ValidationError(`invalid queue documentation: ${where}${issue?.message ?? 'invalid input'}`);
  }
  const out: QueueDocsInput = {};
  for (const field of QUEUE_DOCS_FIELDS) {
    const value = parsed.data[field];
    if (value === undefined) continue;
    const text = value === null ? '' : field === 'runbook' ? value.trim() : value.trim().replace(/\s+/g, ' ');
    out[field] = text.length === 0 ? null : text;
  }
  if (Object.keys(out).length === 0) {
    throw new ValidationError(
      `nothing to set: give at least one of ${QUEUE_DOCS_FIELDS.map((f) => `--${kebab(f)}`).join(', ')}`,
    );
  }
  return out;
}

/** `failureMeaning` → `failure-meaning`: the CLI flag of a field. */
export function kebab(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
