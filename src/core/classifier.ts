import type { FailureInfo } from './failure.ts';
import { type FailureMatch, matchesFailure } from './failure-match.ts';
import type { Tier } from './tier.ts';

/**
 * One classification rule: a failure that matches `match` gets `tier`.
 * Rules are tried in order and the first match wins.
 */
export interface ClassifierRule {
  /** Shown as {@link Classification.rule}: say what the rule recognises (`pg-deadlock`). */
  name: string;
  tier: Tier;
  /** default: false for malformed, true otherwise */
  retryable?: boolean;
  match: FailureMatch | ((f: FailureInfo) => boolean);
}

/** What the classifier decided for one failure. */
export interface Classification {
  tier: Tier;
  /**
   * Whether the message may be received again. `false` sends it to the DLQ at once; `true`
   * retries it with backoff until the queue's `maxReceives`.
   */
  retryable: boolean;
  /** name of the rule that matched, 'default' if none */
  rule: string;
}

/** Network failures: the connection was lost or never made. Retried with backoff. */
const NETWORK_CODES = [
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'ECONNABORTED',
  'ESOCKET',
  'ECONNECTION',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_SOCKET_CLOSED',
  'PROTOCOL_CONNECTION_LOST',
  // axios: no response at all.
  'ERR_NETWORK',
];

/** Connect, request, pool-acquire and statement timeouts. */
const TIMEOUT_CODES = [
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ETIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'ERR_HTTP2_SESSION_TIMEOUT',
  'ERR_HTTP_REQUEST_TIMEOUT',
  // PostgreSQL query_canceled: statement_timeout (or a cancel request).
  '57014',
];

/**
 * PostgreSQL SQLSTATEs (and MySQL codes) of passing contention or capacity problems of the
 * database: serialization failures, deadlocks, locks not available, too many connections,
 * server shutting down or starting. The database recovers; the message will pass later.
 */
const DATABASE_TRANSIENT_CODES = [
  '40001',
  '40P01',
  '55P03',
  '53000',
  '53100',
  '53200',
  '53300',
  '53400',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_CON_COUNT_ERROR',
];

/** PostgreSQL class 23 (integrity constraint violation), Prisma and MySQL equivalents. */
const CONSTRAINT_CODES = [
  'P2002',
  'P2003',
  'P2004',
  'P2011',
  'P2014',
  'ER_DUP_ENTRY',
  'ER_NO_REFERENCED_ROW_2',
];

/**
 * The built-in rules, tried after the user's rules. Order matters: declared worker errors
 * first, then the tiers that must not be mistaken for another (database lock timeouts before
 * timeouts, resource before the generic RangeError, malformed before TypeError bugs, throttling
 * before the 4xx status AWS sends it with, timeouts before network errors so that nodemailer's
 * `ESOCKET` holding a `connect ETIMEDOUT` stays a timeout), then HTTP statuses, then known
 * permanent failures. Permanent built-in rules stay `retryable: true`: they are retried
 * and dead-lettered as permanent after `maxReceives`; only a declared {@link PermanentError}
 * or a user rule with `retryable: false` skips the retries.
 */
export const BUILT_IN_RULES: readonly ClassifierRule[] = Object.freeze([
  // --- Errors a handler throws to say what should happen (see errors.ts).
  { name: 'declared-permanent', tier: 'permanent', retryable: false, match: { name: 'PermanentError' } },
  { name: 'declared-malformed', tier: 'malformed', retryable: false, match: { name: 'MalformedError' } },
  { name: 'declared-transient', tier: 'transient', retryable: true, match: { name: 'TransientError' } },
  { name: 'lease-expired', tier: 'timeout', retryable: true, match: { name: 'LeaseExpiredError' } },

  // --- Database contention and capacity: transient, even when the message says "timeout"
  // (lock timeout) or "out of memory" (the database's memory, not the worker's).
  {
    name: 'database-contention',
    tier: 'transient',
    match: (f) =>
      (f.code !== undefined && DATABASE_TRANSIENT_CODES.includes(f.code)) ||
      /deadlock detected|Deadlock found|lock timeout|Lock wait timeout exceeded|could not serialize access|could not obtain lock/i.test(
        f.message,
      ) ||
      /remaining connection slots are reserved|too many clients already|too many connections/i.test(
        f.message,
      ),
  },

  // --- Resource exhaustion of the worker itself.
  {
    name: 'out-of-memory',
    tier: 'resource',
    match: (f) =>
      f.code === 'ENOMEM' ||
      f.code === 'ERR_WORKER_OUT_OF_MEMORY' ||
      /heap out of memory|Reached heap limit|\bout of memory\b|Array buffer allocation failed|^Invalid string length$/i.test(
        f.message,
      ),
  },
  {
    name: 'stack-overflow',
    tier: 'resource',
    match: { message: /Maximum call stack size exceeded|too much recursion/ },
  },
  {
    name: 'file-descriptors-exhausted',
    tier: 'resource',
    match: (f) =>
      f.code === 'EMFILE' ||
      f.code === 'ENFILE' ||
      /\b(?:EMFILE|ENFILE)\b|too many open files/i.test(f.message),
  },
  {
    name: 'disk-full',
    tier: 'resource',
    match: (f) => f.code === 'ENOSPC' || /\bENOSPC\b|no space left on device/i.test(f.message),
  },

  // --- The message itself is bad: parse and schema failures. Not retried.
  { name: 'syntax-error', tier: 'malformed', match: { name: 'SyntaxError' } },
  { name: 'uri-malformed', tier: 'malformed', match: { name: 'URIError' } },
  {
    name: 'schema-validation',
    tier: 'malformed',
    match: { name: /^(?:ZodError|ValiError|StructError|AjvError|YupError)$|ValidationError$/ },
  },
  // PostgreSQL class 22 (data exception): invalid input syntax, value too long, out of range.
  {
    name: 'pg-data-exception',
    tier: 'malformed',
    match: (f) => f.code !== undefined && /^22[0-9A-Z]{3}$/.test(f.code),
  },

  // --- Throttling: a rate limit that will lift.
  {
    name: 'throttled',
    tier: 'transient',
    match: (f) =>
      /Throttl|TooManyRequests|RateLimit|ProvisionedThroughputExceeded|RequestLimitExceeded|SlowDown|LimitExceeded/.test(
        f.name,
      ) ||
      f.code === 'rate_limit' ||
      f.code === 'ThrottlingException' ||
      /^Rate exceeded|rate limit exceeded|Too Many Requests/i.test(f.message),
  },

  // --- Timeouts: connect, request, pool acquire, statement.
  {
    name: 'timeout-error',
    tier: 'timeout',
    match: { name: /^(?:AbortError|TimeoutError)$|Timeout(?:Error|Exception)$/ },
  },
  { name: 'timeout-code', tier: 'timeout', match: { code: TIMEOUT_CODES } },
  {
    name: 'timeout-message',
    tier: 'timeout',
    match: {
      message:
        /\bETIMEDOUT\b|\bESOCKETTIMEDOUT\b|^timeout of \d+ms exceeded|timeout exceeded when trying to connect|connection timeout|\btimed out\b|statement timeout|acquire timeout|Timeout acquiring/i,
    },
  },

  // --- Network: the connection was lost or refused.
  { name: 'network-code', tier: 'transient', match: { code: NETWORK_CODES } },
  {
    name: 'network-message',
    tier: 'transient',
    match: {
      message:
        /\b(?:ECONNRESET|ECONNREFUSED|EPIPE|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b|socket hang up|^fetch failed$|^terminated$|other side closed|Connection terminated unexpectedly|Connection is closed|Connection lost|connection closed|Client network socket disconnected/i,
    },
  },
  { name: 'redis-retries-exhausted', tier: 'transient', match: { name: 'MaxRetriesPerRequestError' } },

  // --- HTTP statuses.
  { name: 'http-429', tier: 'transient', match: { status: 429 } },
  { name: 'http-408', tier: 'timeout', match: { status: 408 } },
  { name: 'http-5xx', tier: 'transient', match: { status: { min: 500, max: 599 } } },
  { name: 'http-4xx', tier: 'permanent', match: { status: { min: 400, max: 499 } } },
  {
    name: 'service-unavailable',
    tier: 'transient',
    match: { name: /ServiceUnavailable|InternalServerError|InternalFailure|ServerError$/ },
  },

  // --- Known permanent failures: retried, then dead-lettered as permanent.
  {
    name: 'constraint-violation',
    tier: 'permanent',
    match: (f) =>
      (f.code !== undefined && (/^23[0-9A-Z]{3}$/.test(f.code) || CONSTRAINT_CODES.includes(f.code))) ||
      /violates (?:[a-z -]+ )?constraint|Unique constraint failed|Foreign key constraint failed|Duplicate entry/i.test(
        f.message,
      ),
  },
  {
    name: 'access-denied',
    tier: 'permanent',
    match: (f) =>
      /AccessDenied|Unauthori[sz]ed|Forbidden|NotAuthorized/.test(f.name) ||
      f.code === 'EACCES' ||
      f.code === 'EPERM' ||
      f.code === '42501' ||
      /is not authorized to perform|access denied|permission denied/i.test(f.message),
  },
  {
    name: 'token-rejected',
    tier: 'permanent',
    match: {
      name: /^(?:TokenExpiredError|JsonWebTokenError|NotBeforeError|JWTExpired|JWSSignatureVerificationFailed)$/,
    },
  },
  {
    name: 'payment-declined',
    tier: 'permanent',
    match: (f) =>
      f.name === 'StripeCardError' ||
      f.code === 'card_declined' ||
      f.code === 'expired_card' ||
      f.code === 'insufficient_funds' ||
      /card was declined/i.test(f.message),
  },
  {
    name: 'not-found',
    tier: 'permanent',
    match: (f) =>
      /NotFound/.test(f.name) ||
      f.code === 'ENOENT' ||
      f.code === 'P2025' ||
      /\bnot found\b|does not exist/i.test(f.message),
  },
  {
    name: 'conditional-check-failed',
    tier: 'permanent',
    match: { name: /ConditionalCheckFailed|PreconditionFailed/ },
  },
  {
    name: 'programming-error',
    tier: 'permanent',
    match: { name: /^(?:TypeError|ReferenceError|RangeError|EvalError)$/ },
  },
]);

const DEFAULT_CLASSIFICATION: Classification = { tier: 'permanent', retryable: true, rule: 'default' };

/**
 * Classifies a failure: user rules are tried first, in order, then the built-in rules;
 * no match → { tier: 'permanent', retryable: true, rule: 'default' }.
 * A rule's `retryable` defaults to false for `malformed` and true otherwise.
 */
export function classifyFailure(failure: FailureInfo, userRules?: readonly ClassifierRule[]): Classification {
  const rule = (userRules && firstMatch(userRules, failure)) ?? firstMatch(BUILT_IN_RULES, failure);
  if (rule === undefined) return { ...DEFAULT_CLASSIFICATION };
  return { tier: rule.tier, retryable: rule.retryable ?? rule.tier !== 'malformed', rule: rule.name };
}

/**
 * The first rule that matches. An index loop: it runs on every failed receive, and a `for … of`
 * over the rules allocated an iterator result per rule tried (about a tenth of the pipeline
 * bench's allocations).
 */
function firstMatch(rules: readonly ClassifierRule[], failure: FailureInfo): ClassifierRule | undefined {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as ClassifierRule;
    if (matchesFailure(rule.match, failure)) return rule;
  }
  return undefined;
}
