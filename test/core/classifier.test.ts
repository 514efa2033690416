import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BUILT_IN_RULES, type ClassifierRule, classifyFailure } from '../../src/core/classifier.ts';
import { MalformedError, PermanentError, TransientError, ValidationError } from '../../src/core/errors.ts';
import { describeFailure, type FailureInfo } from '../../src/core/failure.ts';
import { compileFailureMatch, failureMatchSchema, matchesFailure } from '../../src/core/failure-match.ts';
import { isTier, type Tier } from '../../src/core/tier.ts';

interface FixtureFailure extends FailureInfo {
  id: string;
  group: string;
  tier: Tier;
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const fixturesPath = path.resolve(repoRoot, '../shared/fixtures/failures.jsonl');

function loadFixtures(): FixtureFailure[] {
  return readFileSync(fixturesPath, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const row = JSON.parse(line) as Record<string, unknown>;
      if (typeof row.id !== 'string' || typeof row.name !== 'string' || typeof row.message !== 'string') {
        throw new Error(`bad fixture line: ${line.slice(0, 80)}`);
      }
      if (typeof row.tier !== 'string' || !isTier(row.tier) || typeof row.group !== 'string') {
        throw new Error(`bad fixture tier or group: ${row.id}`);
      }
      return {
        id: row.id,
        group: row.group,
        tier: row.tier,
        name: row.name,
        message: row.message,
        code: typeof row.code === 'string' ? row.code : undefined,
        status: typeof row.status === 'number' ? row.status : undefined,
        stack: typeof row.stack === 'string' ? row.stack : undefined,
      };
    });
}

const fixtures = loadFixtures();

function failure(partial: Partial<FailureInfo>): FailureInfo {
  return { name: 'Error', message: '', ...partial };
}

describe('classifyFailure on the real-world fixtures', () => {
  it('loads all 131 fixture failures', () => {
    expect(fixtures).toHaveLength(131);
  });

  it('gives every fixture its expected tier', () => {
    const wrong = fixtures
      .map((fixture) => ({ fixture, got: classifyFailure(fixture) }))
      .filter(({ fixture, got }) => got.tier !== fixture.tier)
      .map(
        ({ fixture, got }) =>
          `${fixture.id} (${fixture.group}): expected ${fixture.tier}, got ${got.tier} by rule ${got.rule}`,
      );
    expect(wrong).toEqual([]);
  });

  it('never falls back to the default rule for a fixture', () => {
    const unmatched = fixtures.filter((f) => classifyFailure(f).rule === 'default').map((f) => f.id);
    expect(unmatched).toEqual([]);
  });

  it('marks malformed fixtures not retryable and every other fixture retryable', () => {
    const wrong = fixtures
      .filter((f) => classifyFailure(f).retryable !== (f.tier !== 'malformed'))
      .map((f) => f.id);
    expect(wrong).toEqual([]);
  });
});

describe('classifyFailure semantics', () => {
  it('sends a declared PermanentError to the DLQ without retries', () => {
    expect(classifyFailure(describeFailure(new PermanentError('order 17 is cancelled')))).toEqual({
      tier: 'permanent',
      retryable: false,
      rule: 'declared-permanent',
    });
  });

  it('sends a declared MalformedError to the DLQ without retries', () => {
    expect(classifyFailure(describeFailure(new MalformedError('body is not an order')))).toEqual({
      tier: 'malformed',
      retryable: false,
      rule: 'declared-malformed',
    });
  });

  it('retries a declared TransientError', () => {
    expect(classifyFailure(describeFailure(new TransientError('warehouse API is down')))).toEqual({
      tier: 'transient',
      retryable: true,
      rule: 'declared-transient',
    });
  });

  it('classifies an expired lease as a retryable timeout', () => {
    const lease = failure({
      name: 'LeaseExpiredError',
      message: 'lease of message 42 expired after 30000ms',
    });
    expect(classifyFailure(lease)).toEqual({ tier: 'timeout', retryable: true, rule: 'lease-expired' });
  });

  it('keeps built-in permanent rules retryable: they dead-letter after maxReceives', () => {
    const notFound = classifyFailure(failure({ name: 'AxiosError', message: 'x', status: 404 }));
    expect(notFound).toEqual({ tier: 'permanent', retryable: true, rule: 'http-4xx' });
    const bug = classifyFailure(failure({ name: 'TypeError', message: 'x.map is not a function' }));
    expect(bug).toEqual({ tier: 'permanent', retryable: true, rule: 'programming-error' });
  });

  it('falls back to a retryable permanent default', () => {
    expect(classifyFailure(failure({ name: 'WeirdError', message: 'something odd happened' }))).toEqual({
      tier: 'permanent',
      retryable: true,
      rule: 'default',
    });
  });

  it.each<[string, Partial<FailureInfo>, Tier]>([
    ['a broken pipe', { code: 'EPIPE', message: 'write EPIPE' }, 'transient'],
    ['a socket hang up without a code', { message: 'socket hang up' }, 'transient'],
    [
      'an HTTP 429',
      { name: 'HTTPError', message: 'Response code 429 (Too Many Requests)', status: 429 },
      'transient',
    ],
    ['an HTTP 500', { name: 'HTTPError', message: 'Internal Server Error', status: 500 }, 'transient'],
    ['an HTTP 422', { name: 'HTTPError', message: 'Unprocessable Entity', status: 422 }, 'permanent'],
    ['an HTTP 408', { name: 'HTTPError', message: 'Request Timeout', status: 408 }, 'timeout'],
    [
      'AWS throttling sent with a 400 status',
      { name: 'ThrottlingException', message: 'Rate exceeded', status: 400 },
      'transient',
    ],
    [
      'an AbortSignal timeout',
      { name: 'TimeoutError', message: 'The operation was aborted due to timeout' },
      'timeout',
    ],
    ['an aborted request', { name: 'AbortError', message: 'This operation was aborted' }, 'timeout'],
    [
      'an undici headers timeout',
      { name: 'TypeError', message: 'fetch failed', code: 'UND_ERR_HEADERS_TIMEOUT' },
      'timeout',
    ],
    [
      'a MySQL lock wait timeout',
      { code: 'ER_LOCK_WAIT_TIMEOUT', message: 'Lock wait timeout exceeded; try restarting transaction' },
      'transient',
    ],
    [
      'a serialization failure',
      { name: 'error', code: '40001', message: 'could not serialize access due to concurrent update' },
      'transient',
    ],
    [
      'a pg invalid input syntax',
      { name: 'error', code: '22P02', message: 'invalid input syntax for type uuid: "abc"' },
      'malformed',
    ],
    [
      'a full disk',
      { code: 'ENOSPC', message: "ENOSPC: no space left on device, write '/tmp/x'" },
      'resource',
    ],
    ['a file table overflow', { code: 'ENFILE', message: 'ENFILE: file table overflow' }, 'resource'],
    ['an out-of-memory code', { code: 'ENOMEM', message: 'spawn ENOMEM' }, 'resource'],
    [
      'a yup/class-validator error',
      { name: 'ValidationError', message: 'email is a required field' },
      'malformed',
    ],
    [
      'a foreign key violation',
      {
        name: 'error',
        code: '23503',
        message: 'insert or update on table "orders" violates foreign key constraint "orders_user_id_fkey"',
      },
      'permanent',
    ],
    [
      'the database running out of memory',
      { name: 'error', code: '53200', message: 'out of memory' },
      'transient',
    ],
    [
      'an axios request with no response',
      { name: 'AxiosError', code: 'ERR_NETWORK', message: 'Network Error' },
      'transient',
    ],
    [
      'a bad array length (a bug, not memory)',
      { name: 'RangeError', message: 'Invalid array length' },
      'permanent',
    ],
    [
      'a file that does not exist',
      { code: 'ENOENT', message: "ENOENT: no such file or directory, open '/data/x.csv'" },
      'permanent',
    ],
  ])('classifies %s', (_what, partial, tier) => {
    expect(classifyFailure(failure(partial)).tier).toBe(tier);
  });

  it('gives malformed results of built-in rules retryable false and the others retryable true', () => {
    expect(
      classifyFailure(failure({ name: 'SyntaxError', message: 'Unexpected end of JSON input' })).retryable,
    ).toBe(false);
    expect(
      classifyFailure(failure({ name: 'RangeError', message: 'Maximum call stack size exceeded' })),
    ).toEqual({
      tier: 'resource',
      retryable: true,
      rule: 'stack-overflow',
    });
  });

  it('tries user rules first, in order, before the built-in rules', () => {
    const rules: ClassifierRule[] = [
      { name: 'partner-404-is-transient', tier: 'transient', match: { status: 404, message: 'partner' } },
      { name: 'any-404', tier: 'resource', match: { status: 404 } },
    ];
    const partner = failure({ name: 'AxiosError', message: 'partner API returned 404', status: 404 });
    expect(classifyFailure(partner, rules)).toEqual({
      tier: 'transient',
      retryable: true,
      rule: 'partner-404-is-transient',
    });
    const other = failure({ name: 'AxiosError', message: 'Request failed', status: 404 });
    expect(classifyFailure(other, rules).rule).toBe('any-404');
    expect(classifyFailure(other).rule).toBe('http-4xx');
  });

  it('lets a user rule override a declared error', () => {
    const rules: ClassifierRule[] = [{ name: 'mine', tier: 'transient', match: { name: 'PermanentError' } }];
    expect(classifyFailure(describeFailure(new PermanentError('x')), rules).tier).toBe('transient');
  });

  it('defaults a user rule to not retryable for malformed and retryable otherwise, unless told', () => {
    const rules: ClassifierRule[] = [
      { name: 'bad-csv', tier: 'malformed', match: { message: 'CSV' } },
      { name: 'quota', tier: 'resource', match: { code: 'QUOTA' } },
      { name: 'never-retry-refunds', tier: 'permanent', retryable: false, match: { message: 'refund' } },
      { name: 'retry-bad-json', tier: 'malformed', retryable: true, match: { message: 'JSON5' } },
    ];
    expect(classifyFailure(failure({ message: 'bad CSV row' }), rules).retryable).toBe(false);
    expect(classifyFailure(failure({ message: 'over', code: 'QUOTA' }), rules).retryable).toBe(true);
    expect(classifyFailure(failure({ message: 'refund failed' }), rules).retryable).toBe(false);
    expect(classifyFailure(failure({ message: 'bad JSON5' }), rules).retryable).toBe(true);
  });

  it('accepts a predicate as a rule', () => {
    const rules: ClassifierRule[] = [
      { name: 'long-message', tier: 'malformed', match: (f) => f.message.length > 10 },
    ];
    expect(classifyFailure(failure({ message: 'a very long message' }), rules).rule).toBe('long-message');
    expect(classifyFailure(failure({ message: 'short' }), rules).rule).toBe('default');
  });

  it('has built-in rules with unique names and valid tiers', () => {
    const names = BUILT_IN_RULES.map((rule) => rule.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).not.toContain('default');
    for (const rule of BUILT_IN_RULES) expect(isTier(rule.tier)).toBe(true);
  });
});

describe('matchesFailure', () => {
  const pgUnique = failure({
    name: 'error',
    message: 'duplicate key value violates unique constraint "users_email_key"',
    code: '23505',
  });
  const axios503 = failure({
    name: 'AxiosError',
    message: 'Request failed with status code 503',
    status: 503,
  });

  it('matches names exactly and case-sensitively, or by RegExp', () => {
    expect(matchesFailure({ name: 'error' }, pgUnique)).toBe(true);
    expect(matchesFailure({ name: 'Error' }, pgUnique)).toBe(false);
    expect(matchesFailure({ name: 'err' }, pgUnique)).toBe(false);
    expect(matchesFailure({ name: /^axios/i }, axios503)).toBe(true);
  });

  it('matches messages by substring or RegExp', () => {
    expect(matchesFailure({ message: 'unique constraint' }, pgUnique)).toBe(true);
    expect(matchesFailure({ message: 'Unique constraint' }, pgUnique)).toBe(false);
    expect(matchesFailure({ message: /status code 5\d\d/ }, axios503)).toBe(true);
  });

  it('matches a code or any of several codes; a failure without a code never matches', () => {
    expect(matchesFailure({ code: '23505' }, pgUnique)).toBe(true);
    expect(matchesFailure({ code: ['23503', '23505'] }, pgUnique)).toBe(true);
    expect(matchesFailure({ code: ['23503'] }, pgUnique)).toBe(false);
    expect(matchesFailure({ code: '23505' }, axios503)).toBe(false);
  });

  it('matches a status, a list of statuses or a range; a failure without status never matches', () => {
    expect(matchesFailure({ status: 503 }, axios503)).toBe(true);
    expect(matchesFailure({ status: [502, 503] }, axios503)).toBe(true);
    expect(matchesFailure({ status: { min: 500, max: 599 } }, axios503)).toBe(true);
    expect(matchesFailure({ status: { min: 400, max: 499 } }, axios503)).toBe(false);
    expect(matchesFailure({ status: { min: 0, max: 999 } }, pgUnique)).toBe(false);
  });

  it('requires every given field to match', () => {
    expect(matchesFailure({ name: 'AxiosError', status: 503 }, axios503)).toBe(true);
    expect(matchesFailure({ name: 'AxiosError', status: 404 }, axios503)).toBe(false);
    expect(matchesFailure({}, axios503)).toBe(true);
  });

  it('gives the same answer every time with a global RegExp', () => {
    const match = { message: /status/g };
    expect([1, 2, 3].map(() => matchesFailure(match, axios503))).toEqual([true, true, true]);
  });

  it('calls a predicate', () => {
    expect(matchesFailure((f) => f.status === 503, axios503)).toBe(true);
    expect(matchesFailure((f) => f.status === 503, pgUnique)).toBe(false);
  });
});

describe('serialised failure matches', () => {
  it('compiles regex objects into RegExps and keeps the other fields', () => {
    const match = compileFailureMatch({
      name: { regex: '^axios', flags: 'i' },
      message: 'status code',
      code: ['ERR_BAD_RESPONSE'],
      status: { min: 500, max: 599 },
    });
    expect(match.name).toBeInstanceOf(RegExp);
    expect(match.message).toBe('status code');
    const axios = failure({
      name: 'AxiosError',
      message: 'Request failed with status code 503',
      code: 'ERR_BAD_RESPONSE',
      status: 503,
    });
    expect(matchesFailure(match, axios)).toBe(true);
    expect(matchesFailure(match, { ...axios, status: 404 })).toBe(false);
  });

  it('drops the g and y flags, which would make repeated tests disagree', () => {
    const match = compileFailureMatch({ message: { regex: 'reset', flags: 'gy' } });
    expect((match.message as RegExp).flags).toBe('');
    const reset = failure({ message: 'reset' });
    expect([matchesFailure(match, reset), matchesFailure(match, reset)]).toEqual([true, true]);
  });

  it('round-trips through JSON, as when stored in the database', () => {
    const stored = JSON.parse(JSON.stringify({ code: '23505', message: { regex: 'users_\\w+_key' } }));
    const match = compileFailureMatch(stored);
    expect(
      matchesFailure(
        match,
        failure({ code: '23505', message: 'violates unique constraint "users_email_key"' }),
      ),
    ).toBe(true);
  });

  it.each<[string, unknown]>([
    ['an invalid regex', { message: { regex: '(unclosed' } }],
    ['invalid flags', { message: { regex: 'x', flags: 'q' } }],
    ['an empty matcher', {}],
    ['an unknown field', { nme: 'Error' }],
    ['a status out of range', { status: 42 }],
    ['an inverted status range', { status: { min: 599, max: 500 } }],
    ['an empty code list', { code: [] }],
    ['not an object', 'Error'],
  ])('rejects %s with a ValidationError', (_what, input) => {
    expect(() => compileFailureMatch(input)).toThrow(ValidationError);
  });

  it('describes the serialisable form with a zod schema', () => {
    expect(failureMatchSchema.safeParse({ name: 'TypeError', status: [400, 422] }).success).toBe(true);
    expect(failureMatchSchema.safeParse({ name: /TypeError/ }).success).toBe(false);
  });
});
