import { z } from 'zod';
import { ValidationError } from './errors.ts';
import type { FailureInfo } from './failure.ts';

/**
 * A declarative matcher over a {@link FailureInfo}; all given fields must match (an empty
 * matcher matches every failure).
 * - `name`: a string is an exact, case-sensitive match; a RegExp is tested against the name.
 * - `message`: a string is a case-sensitive substring; a RegExp is tested against the message.
 * - `code`: exact, case-sensitive; an array matches any of its codes. A failure without a code
 *   never matches a matcher that gives one.
 * - `status`: one HTTP status, any of a list, or an inclusive `{ min, max }` range. A failure
 *   without a status never matches a matcher that gives one.
 */
export interface FailureMatch {
  name?: string | RegExp;
  message?: string | RegExp;
  code?: string | string[];
  status?: number | number[] | { min: number; max: number };
}

function testPattern(pattern: string | RegExp, value: string, exact: boolean): boolean {
  if (typeof pattern === 'string') return exact ? value === pattern : value.includes(pattern);
  // A global or sticky RegExp keeps state between calls to test(); start from 0 every time.
  if (pattern.global || pattern.sticky) pattern.lastIndex = 0;
  return pattern.test(value);
}

function testStatus(expected: NonNullable<FailureMatch['status']>, status: number | undefined): boolean {
  if (status === undefined) return false;
  if (typeof expected === 'number') return status === expected;
  if (Array.isArray(expected)) return expected.includes(status);
  return status >= expected.min && status <= expected.max;
}

/**
 * Whether `failure` satisfies `match`: a {@link FailureMatch} (every given field must match)
 * or a predicate, which is simply called.
 */
export function matchesFailure(
  match: FailureMatch | ((f: FailureInfo) => boolean),
  failure: FailureInfo,
): boolean {
  if (typeof match === 'function') return match(failure);
  if (match.name !== undefined && !testPattern(match.name, failure.name, true)) return false;
  if (match.message !== undefined && !testPattern(match.message, failure.message, false)) return false;
  if (match.code !== undefined) {
    if (failure.code === undefined) return false;
    const codes = typeof match.code === 'string' ? [match.code] : match.code;
    if (!codes.includes(failure.code)) return false;
  }
  if (match.status !== undefined && !testStatus(match.status, failure.status)) return false;
  return true;
}

const serialisedRegexSchema = z.strictObject({
  /** The source of a JavaScript regular expression, without slashes. */
  regex: z.string().min(1).max(1_000),
  /** RegExp flags such as `i`; `g` and `y` are accepted and dropped (they mean nothing for a test). */
  flags: z
    .string()
    .regex(/^[dgimsuvy]*$/, 'flags may only hold d, g, i, m, s, u, v and y')
    .optional(),
});

const patternSchema = z.union([z.string().min(1).max(1_000), serialisedRegexSchema]);
const httpStatusSchema = z.number().int().min(100).max(599);

/**
 * The serialisable form of a {@link FailureMatch}, as stored in the database and given through
 * the API and the CLI: regexes are `{ regex, flags? }` objects. At least one field is required,
 * so that a stored rule never matches every failure by accident.
 */
export const failureMatchSchema = z
  .strictObject({
    name: patternSchema.optional(),
    message: patternSchema.optional(),
    code: z.union([z.string().min(1).max(100), z.array(z.string().min(1).max(100)).min(1)]).optional(),
    status: z
      .union([
        httpStatusSchema,
        z.array(httpStatusSchema).min(1),
        z
          .strictObject({ min: httpStatusSchema, max: httpStatusSchema })
          .refine((range) => range.min <= range.max, 'status range: min must not be above max'),
      ])
      .optional(),
  })
  .refine(
    (match) =>
      match.name !== undefined ||
      match.message !== undefined ||
      match.code !== undefined ||
      match.status !== undefined,
    'give at least one of name, message, code or status',
  );

/** A {@link FailureMatch} in its serialisable form (see {@link failureMatchSchema}). */
export type SerialisedFailureMatch = z.infer<typeof failureMatchSchema>;

function compilePattern(
  pattern: string | { regex: string; flags?: string | undefined },
  field: string,
): string | RegExp {
  if (typeof pattern === 'string') return pattern;
  const flags = (pattern.flags ?? '').replace(/[gy]/g, '');
  try {
    return new RegExp(pattern.regex, flags);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ValidationError(`invalid ${field} regex /${pattern.regex}/${flags}: ${reason}`, { cause });
  }
}

/**
 * Validates a serialised matcher (see {@link failureMatchSchema}) and turns it into its runtime
 * {@link FailureMatch} form. Throws {@link ValidationError} when the input does not fit the
 * schema or when a regex does not compile.
 */
export function compileFailureMatch(serialised: unknown): FailureMatch {
  const parsed = failureMatchSchema.safeParse(serialised);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new ValidationError(`invalid failure match${where}: ${issue?.message ?? 'unknown problem'}`);
  }
  const data = parsed.data;
  const match: FailureMatch = {};
  if (data.name !== undefined) match.name = compilePattern(data.name, 'name');
  if (data.message !== undefined) match.message = compilePattern(data.message, 'message');
  if (data.code !== undefined) match.code = typeof data.code === 'string' ? data.code : [...data.code];
  if (data.status !== undefined) {
    match.status =
      typeof data.status === 'number' || Array.isArray(data.status)
        ? data.status
        : { min: data.status.min, max: data.status.max };
  }
  return match;
}
