import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FailureInfo } from '../../src/core/failure.ts';
import {
  type FingerprintRule,
  fingerprintFailure,
  normalizeMessage,
  stackFrames,
} from '../../src/core/fingerprint.ts';

interface FixtureFailure extends FailureInfo {
  id: string;
  group: string;
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const fixturesPath = path.resolve(repoRoot, '../shared/fixtures/failures.jsonl');

function loadFixtures(): FixtureFailure[] {
  return readFileSync(fixturesPath, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const row = JSON.parse(line) as Record<string, unknown>;
      if (
        typeof row.id !== 'string' ||
        typeof row.group !== 'string' ||
        typeof row.name !== 'string' ||
        typeof row.message !== 'string'
      ) {
        throw new Error(`bad fixture line: ${line.slice(0, 80)}`);
      }
      return {
        id: row.id,
        group: row.group,
        name: row.name,
        message: row.message,
        code: typeof row.code === 'string' ? row.code : undefined,
        status: typeof row.status === 'number' ? row.status : undefined,
        stack: typeof row.stack === 'string' ? row.stack : undefined,
      };
    });
}

const fixtures = loadFixtures();

describe('fingerprintFailure on the real-world fixtures', () => {
  const byGroup = new Map<string, { ids: string[]; fingerprints: Map<string, string[]> }>();
  for (const fixture of fixtures) {
    const { fingerprint } = fingerprintFailure(fixture);
    const entry = byGroup.get(fixture.group) ?? { ids: [], fingerprints: new Map<string, string[]>() };
    entry.ids.push(fixture.id);
    entry.fingerprints.set(fingerprint, [...(entry.fingerprints.get(fingerprint) ?? []), fixture.id]);
    byGroup.set(fixture.group, entry);
  }

  it('loads all 131 fixtures, in several groups of look-alikes', () => {
    expect(fixtures).toHaveLength(131);
    expect(byGroup.size).toBeGreaterThan(30);
  });

  it('gives the lines of one group exactly one fingerprint', () => {
    const split = [...byGroup]
      .filter(([, entry]) => entry.fingerprints.size !== 1)
      .map(
        ([group, entry]) =>
          `${group}: ${[...entry.fingerprints].map(([fp, ids]) => `${ids.join(',')} -> ${fp}`).join(' / ')}`,
      );
    expect(split).toEqual([]);
  });

  it('gives lines of different groups different fingerprints (all pairs)', () => {
    const computed = fixtures.map((fixture) => ({ fixture, fp: fingerprintFailure(fixture) }));
    const merged: string[] = [];
    for (const a of computed) {
      for (const b of computed) {
        if (a.fixture.id < b.fixture.id && a.fixture.group !== b.fixture.group) {
          if (a.fp.fingerprint === b.fp.fingerprint || a.fp.groupId === b.fp.groupId) {
            merged.push(`${a.fixture.id} (${a.fixture.group}) = ${b.fixture.id} (${b.fixture.group})`);
          }
        }
      }
    }
    expect(merged).toEqual([]);
  });

  it('derives the group id from the SHA-256 of the fingerprint', () => {
    for (const fixture of fixtures.slice(0, 10)) {
      const { fingerprint, groupId } = fingerprintFailure(fixture);
      expect(groupId).toMatch(/^[0-9a-f]{16}$/);
      expect(groupId).toBe(createHash('sha256').update(fingerprint).digest('hex').slice(0, 16));
    }
  });

  it('keeps the fingerprint readable: name, code, status, message and frames', () => {
    const fixture = fixtures.find((f) => f.group === 'pg-unique-users-email-key');
    expect(fixture).toBeDefined();
    expect(fingerprintFailure(fixture as FixtureFailure).fingerprint).toBe(
      'error|23505||duplicate key value violates unique constraint "users_email_key"|' +
        'createUser (/app/src/users/repository.js);handleSignupRequested (/app/src/handlers/signup.js)',
    );
  });
});

describe('fingerprint rules', () => {
  const card: FailureInfo = {
    name: 'Error',
    message: 'Your card was declined.',
    code: 'card_declined',
    status: 402,
  };
  const rules: FingerprintRule[] = [
    {
      name: 'stripe-cards',
      match: { code: ['card_declined', 'expired_card'] },
      fingerprint: 'stripe-card-errors',
    },
    { name: 'all-402', match: { status: 402 }, fingerprint: 'payment-required' },
  ];

  it('uses the first matching rule and derives the group id from its fingerprint', () => {
    const result = fingerprintFailure(card, rules);
    expect(result.fingerprint).toBe('stripe-card-errors');
    expect(result.groupId).toBe(createHash('sha256').update('stripe-card-errors').digest('hex').slice(0, 16));
    expect(result.normalizedMessage).toBe('Your card was declined.');
    expect(
      fingerprintFailure({ ...card, code: 'expired_card', message: 'Your card has expired.' }, rules).groupId,
    ).toBe(result.groupId);
  });

  it('falls through to the next rule, then to the computed fingerprint', () => {
    expect(fingerprintFailure({ ...card, code: 'processing_error' }, rules).fingerprint).toBe(
      'payment-required',
    );
    expect(fingerprintFailure({ ...card, code: 'processing_error', status: 500 }, rules).fingerprint).toBe(
      'Error|processing_error|500|Your card was declined.|',
    );
  });

  it('accepts predicates', () => {
    const byLength: FingerprintRule[] = [
      { name: 'long', match: (f) => f.message.length > 20, fingerprint: 'long' },
    ];
    expect(fingerprintFailure({ name: 'Error', message: 'x'.repeat(21) }, byLength).fingerprint).toBe('long');
    expect(fingerprintFailure({ name: 'Error', message: 'x' }, byLength).fingerprint).not.toBe('long');
  });

  it('escapes the separator inside parts so that parts cannot run into each other', () => {
    const a = fingerprintFailure({ name: 'A|B', message: 'm' });
    const b = fingerprintFailure({ name: 'A', code: 'B', message: 'm' });
    expect(a.fingerprint).toBe('A\\|B|||m|');
    expect(a.groupId).not.toBe(b.groupId);
  });
});

describe('normalizeMessage', () => {
  it.each([
    ['User 48213 not found', 'User <n> not found'],
    ['timeout of 5000ms exceeded', 'timeout of <n>ms exceeded'],
    ['connect ECONNREFUSED 127.0.0.1:5432', 'connect ECONNREFUSED <addr>'],
    ['connect ECONNREFUSED ::1:5432', 'connect ECONNREFUSED <addr>'],
    ['getaddrinfo ENOTFOUND orders-db.internal', 'getaddrinfo ENOTFOUND <addr>'],
    ['read ECONNRESET', 'read ECONNRESET'],
    ['upstream 10.0.3.18:6379 and fe80::1ff:fe23:4567:890a are down', 'upstream <ip> and <ip> are down'],
    ['order 3f2b8c1e-9d4a-4b7e-8f21-0c5d6e7f8a9b failed', 'order <uuid> failed'],
    ['could not mail bob.smith+tag@example.co.uk today', 'could not mail <email> today'],
    ['GET https://api.example.com/v1/orders/42?x=1 failed.', 'GET <url> failed.'],
    ['blob 8f14e45fceea167a5a36dedd4bea2543 and 0x1F', 'blob <n> and <n>'],
    ['customer cus_NffrFeUfNV2Hib has no card', 'customer cus_<id> has no card'],
    ['session 01HZX3V9K2M8Q7W4E5R6T1Y0UP expired', 'session <id> expired'],
    ['at 2024-06-11T14:03:27.123Z the job stopped', 'at <ts> the job stopped'],
    ['Date: Tue, 11 Jun 2024 14:00:00 GMT', 'Date: <ts>'],
    ['line one\n   line   two\t', 'line one line two'],
    // Identifiers are kept, free values are not.
    [
      'duplicate key value violates unique constraint "users_email_key"',
      'duplicate key value violates unique constraint "users_email_key"',
    ],
    [
      'null value in column "email" of relation "users" violates not-null constraint',
      'null value in column "email" of relation "users" violates not-null constraint',
    ],
    [
      "Duplicate entry 'bob@example.com' for key 'users.email'",
      "Duplicate entry '<email>' for key 'users.email'",
    ],
    ["Duplicate entry 'Bob Smith' for key 'PRIMARY'", "Duplicate entry '<str>' for key 'PRIMARY'"],
    ['invalid input syntax for type uuid: "abc"', 'invalid input syntax for type uuid: "<str>"'],
    [
      "Cannot read properties of undefined (reading 'email')",
      "Cannot read properties of undefined (reading 'email')",
    ],
    [
      'Unique constraint failed on the fields: (`email`,`tenant_id`)',
      'Unique constraint failed on the fields: (`email`,`tenant_id`)',
    ],
    ['the "maxRetries" option is invalid', 'the "maxRetries" option is invalid'],
    ['welcome mail for "alice" bounced', 'welcome mail for "<str>" bounced'],
    [
      '{"path": ["items", 3, "sku"], "received": "boolean"}',
      '{"path": ["items", <n>, "sku"], "received": "<str>"}',
    ],
    [
      'Unexpected token \'<\', "<!DOCTYPE "... is not valid JSON',
      'Unexpected token \'<\', "<str>"... is not valid JSON',
    ],
    // Apostrophes are not quotes.
    ["can't reach user's inbox 'box-7'", "can't reach user's inbox '<str>'"],
    // Hex ids without a digit: 8+ letters a-f in one case, at least 4 different ones.
    ['object fabdcfcd not found', 'object <n> not found'],
    ['trace deadbeefcafe and FEEDFACECAFE', 'trace <n> and <n>'],
    ['the page was defaced and effaced by a facade', 'the page was defaced and effaced by a facade'],
    ['padding aaaaaaaa abababab kept', 'padding aaaaaaaa abababab kept'],
    ['class BadCafeFeed and Deadbeef kept', 'class BadCafeFeed and Deadbeef kept'],
  ])('normalises %j', (message, expected) => {
    expect(normalizeMessage(message)).toBe(expected);
  });

  it('keeps different constraints and properties apart', () => {
    const a = normalizeMessage('duplicate key value violates unique constraint "users_email_key"');
    const b = normalizeMessage('duplicate key value violates unique constraint "orders_pkey"');
    expect(a).not.toBe(b);
    expect(normalizeMessage("(reading 'id')")).not.toBe(normalizeMessage("(reading 'email')"));
  });
});

describe('validation issue lists (Zod)', () => {
  const zodIssues = (issues: object[]) => JSON.stringify(issues, null, 2);
  const zodFixtures = fixtures.filter((f) => f.name === 'ZodError');

  it('titles a ZodError group "path: message" instead of the raw JSON', () => {
    expect(zodFixtures.length).toBeGreaterThan(0);
    const titles = zodFixtures.map((f) => fingerprintFailure(f).normalizedMessage);
    expect(new Set(titles)).toEqual(
      new Set([
        'customer.email: Required',
        'customer.email: Expected string, received null',
        'customer.email: Expected string, received number',
      ]),
    );
  });

  it('groups by path and issue code, so the received value does not split a group', () => {
    const ids = new Set(zodFixtures.map((f) => fingerprintFailure(f).groupId));
    expect(ids.size).toBe(1);
    const [first] = zodFixtures;
    expect(fingerprintFailure(first as FailureInfo).fingerprint).toContain(
      '|customer.email: invalid_type (expected string)|',
    );
  });

  it('summarises several issues, array indexes as <n>, each issue once', () => {
    const message = zodIssues([
      { code: 'too_small', minimum: 1, path: ['items', 3, 'qty'], message: 'Number must be greater than 0' },
      { code: 'too_small', minimum: 1, path: ['items', 7, 'qty'], message: 'Number must be greater than 0' },
      { code: 'invalid_string', validation: 'email', path: [], message: 'Invalid email' },
    ]);
    const result = fingerprintFailure({ name: 'ZodError', message });
    expect(result.normalizedMessage).toBe(
      'items.<n>.qty: Number must be greater than <n>; (root): Invalid email',
    );
    const other = fingerprintFailure({
      name: 'ZodError',
      message: zodIssues([
        {
          code: 'too_small',
          minimum: 1,
          path: ['items', 0, 'qty'],
          message: 'Number must be greater than 0',
        },
        { code: 'invalid_string', validation: 'email', path: [], message: 'Invalid email' },
      ]),
    });
    expect(other.groupId).toBe(result.groupId);
  });

  it('leaves other JSON arrays and unparsable text to the usual normalisation', () => {
    expect(fingerprintFailure({ name: 'Error', message: '[1, 2, 3]' }).normalizedMessage).toBe(
      '[<n>, <n>, <n>]',
    );
    expect(fingerprintFailure({ name: 'Error', message: '[{"path": 1}' }).normalizedMessage).toBe(
      normalizeMessage('[{"path": 1}'),
    );
  });
});

describe('stackFrames', () => {
  const stack = [
    "TypeError: Cannot read properties of undefined (reading 'id')",
    '    at buildInvoiceLines (/app/src/billing/invoiceLines.js:42:29)',
    '    at Array.map (<anonymous>)',
    '    at /app/node_modules/pg/lib/client.js:545:17',
    '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    '    at async generateInvoice (file:///app/src/billing/generate.js?v=3:63:17)',
    '    at async handle (/app/src/handlers/invoice.js:9:3)',
    '    at async run (/app/src/runtime.js:1:1)',
  ].join('\n');

  it('keeps application frames as "fn (file)" without line numbers, async or URL scheme', () => {
    expect(stackFrames(stack)).toEqual([
      'buildInvoiceLines (/app/src/billing/invoiceLines.js)',
      'generateInvoice (/app/src/billing/generate.js)',
      'handle (/app/src/handlers/invoice.js)',
    ]);
    expect(stackFrames(stack, 1)).toEqual(['buildInvoiceLines (/app/src/billing/invoiceLines.js)']);
    expect(stackFrames(stack, 10)).toHaveLength(4);
  });

  it('gives the same frames for the same frames under any message, and keys seen stacks by limit too', () => {
    const frames = stack.slice(stack.indexOf('\n    at '));
    const other = `Error: a message\n  at lookslike (/app/src/frame.js:1:1)\nthat spans lines${frames}`;
    expect(stackFrames(other)).toEqual(stackFrames(stack));
    expect(stackFrames(other, 2)).toEqual(stackFrames(stack).slice(0, 2));
    expect(stackFrames(`Error: no frames at all`)).toEqual([]);
    // What it returns is shared with later calls: it cannot be changed.
    expect(() => (stackFrames(stack) as string[]).push('x')).toThrow(TypeError);
    expect(stackFrames(stack)).toHaveLength(3);
  });

  it('falls back to library frames, without Node internals, when there is no application frame', () => {
    const library = [
      'Error: Connection is closed.',
      '    at close (/app/node_modules/.pnpm/ioredis@5.4.1/node_modules/ioredis/built/redis/event_handler.js:189:25)',
      '    at processTicksAndRejections (node:internal/process/task_queues:95:5)',
      '    at Socket.emit (node:events:520:28)',
    ].join('\n');
    expect(stackFrames(library)).toEqual([
      'close (node_modules/ioredis/built/redis/event_handler.js)',
      'Socket.emit (node:events)',
    ]);
  });

  it('counts a recursive function once', () => {
    const recursion = ['RangeError: Maximum call stack size exceeded']
      .concat(Array.from({ length: 9 }, (_, i) => `    at walk (/app/src/tree.js:${10 + i}:5)`))
      .join('\n');
    expect(stackFrames(recursion)).toEqual(['walk (/app/src/tree.js)']);
  });

  it('ignores message lines that merely start with "at"', () => {
    const multiLine =
      'Error: bad input\n  at least one item is required\n    at check (/app/src/check.js:3:9)';
    expect(stackFrames(multiLine)).toEqual(['check (/app/src/check.js)']);
  });

  it('normalises build hashes and release directories in file paths', () => {
    const a = stackFrames('E: x\n    at run (/srv/releases/20240611/dist/main.3f2a9c1b.js:1:2)');
    const b = stackFrames('E: x\n    at run (/srv/releases/20240718/dist/main.77e0d4a2.js:1:2)');
    expect(a).toEqual(b);
    expect(a).toEqual(['run (/srv/releases/<n>/dist/main.<n>.js)']);
  });

  it('returns nothing for a missing stack', () => {
    expect(stackFrames(undefined)).toEqual([]);
    expect(stackFrames('')).toEqual([]);
  });
});

// --- Properties ------------------------------------------------------------------------------

const hexId = fc.oneof(
  fc.stringMatching(/^[0-9a-f]{7,40}$/).filter((s) => /\d/.test(s)),
  // Letters-only hex ids (`fabdcfcd`): 8+ letters a-f, at least 4 different ones.
  fc.stringMatching(/^[a-f]{8,40}$/).filter((s) => new Set(s).size >= 4),
);
const email = fc
  .tuple(fc.stringMatching(/^[a-z0-9][a-z0-9._+-]{0,15}$/), fc.domain())
  .map(([local, domain]) => `${local}@${domain}`);
const integer = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.nat({ max: Number.MAX_SAFE_INTEGER }),
);
const decimal = fc
  .tuple(fc.nat({ max: 100_000 }), fc.integer({ min: 1, max: 4 }))
  .map(([n, d]) => (n / 7).toFixed(d));
const number = fc.oneof(integer.map(String), decimal);
const timestamp = fc
  .date({ min: new Date('1971-01-01'), max: new Date('2099-12-31'), noInvalidDate: true })
  .map((d) => d.toISOString());

/** A variable value of a message and what it stands for. */
const slotValue = fc.oneof(number, fc.uuid(), email, hexId, timestamp);

/** Message templates from real code; each `%` is a variable value. */
const templates = [
  'User % not found',
  'Order % could not be charged: card ending % declined',
  'Could not deliver mail to %: mailbox unavailable',
  'Key (email)=(%) already exists.',
  'Job % failed after % attempts at %',
  "Upload % failed for '%' after % ms",
  'request % to https://api.example.com/v1/orders/%?attempt=% returned %',
  '{"orderId":%,"email":"%"}',
  'duplicate key value violates unique constraint "orders_pkey" (order %)',
  'tenant=% user=% quota exceeded by %',
  "Cannot read properties of undefined (reading 'id') for invoice %",
];

function fill(template: string, values: readonly string[]): string {
  let i = 0;
  return template.replace(/%/g, () => values[i++ % values.length] as string);
}

describe('normalisation properties', () => {
  const fragments = fc.constantFrom(
    ' ',
    '\n',
    '"',
    "'",
    '`',
    ':',
    ',',
    '.',
    '(',
    ')',
    '[',
    ']',
    '{',
    '}',
    '=',
    '-',
    '_',
    '/',
    '@',
    '<',
    '>',
    '<n>',
    '<str>',
    'x',
    '0x',
    'constraint ',
    'column',
    'key',
    'path',
    'reading',
    'table',
    'E',
    'connect ECONNREFUSED ',
    'getaddrinfo EAI_AGAIN ',
    'localhost',
    '%',
    'ftp://',
    '::',
    'fe80',
    '2024-06-11',
    'T10:00:00Z',
    'cus_',
    'Tue, 11 Jun 2024 14:00:00 GMT',
  );
  const soup = fc
    .array(fc.oneof(fragments, fragments, fc.string({ maxLength: 6 }), slotValue, fc.uuid()), {
      maxLength: 40,
    })
    .map((parts) => parts.join(''));

  it('is idempotent on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const once = normalizeMessage(text);
        expect(normalizeMessage(once)).toBe(once);
      }),
      { numRuns: 500 },
    );
  });

  it('is idempotent on text made of the tokens the rules look at', () => {
    fc.assert(
      fc.property(soup, (text) => {
        const once = normalizeMessage(text);
        expect(normalizeMessage(once)).toBe(once);
      }),
      { numRuns: 2_000 },
    );
  });

  it('never changes the fingerprint when numbers, UUIDs, e-mails, hex ids or timestamps change', () => {
    const stack = 'Error: x\n    at handle (/app/src/handler.js:10:5)';
    fc.assert(
      fc.property(
        fc.constantFrom(...templates),
        fc.array(slotValue, { minLength: 4, maxLength: 4 }),
        fc.array(slotValue, { minLength: 4, maxLength: 4 }),
        (template, first, second) => {
          // Fill each slot with a value of the same kind in both messages.
          const kinds = first.map((value) => kindOf(value));
          const matching = second.map((value, i) =>
            kindOf(value) === kinds[i] ? value : (first[i] as string),
          );
          const a = fingerprintFailure({ name: 'Error', message: fill(template, first), stack });
          const b = fingerprintFailure({ name: 'Error', message: fill(template, matching), stack });
          expect(b.normalizedMessage).toBe(a.normalizedMessage);
          expect(b.groupId).toBe(a.groupId);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('changes the fingerprint when the constant part of the message changes', () => {
    fc.assert(
      fc.property(slotValue, (value) => {
        const a = fingerprintFailure({ name: 'Error', message: fill('User % not found', [value]) });
        const b = fingerprintFailure({ name: 'Error', message: fill('Order % not found', [value]) });
        expect(a.groupId).not.toBe(b.groupId);
      }),
      { numRuns: 100 },
    );
  });

  it('never changes the fingerprint when line and column numbers in the stack change', () => {
    const fnName = fc.stringMatching(/^[A-Za-z_$][\w$]{0,12}(?:\.[A-Za-z_$][\w$]{0,12})?$/);
    const file = fc.oneof(
      fc.stringMatching(/^\/app\/src\/[a-z]{1,8}\/[a-zA-Z]{1,10}\.(?:js|ts|mjs)$/),
      fc.stringMatching(/^\/app\/node_modules\/[a-z]{1,8}\/lib\/[a-z]{1,8}\.js$/),
      fc.constantFrom('node:internal/process/task_queues', 'node:events', 'node:net'),
    );
    const frame = fc.record({ fn: fc.option(fnName, { nil: undefined }), file });
    const position = fc.tuple(fc.integer({ min: 1, max: 99_999 }), fc.integer({ min: 1, max: 999 }));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(frame, position, position), { minLength: 1, maxLength: 12 }),
        (frames) => {
          const render = (which: 1 | 2) =>
            [
              'TypeError: boom',
              ...frames.map(([f, first, second]) => {
                const [line, column] = which === 1 ? first : second;
                const location = `${f.file}:${line}:${column}`;
                return f.fn === undefined ? `    at ${location}` : `    at ${f.fn} (${location})`;
              }),
            ].join('\n');
          const a = fingerprintFailure({ name: 'TypeError', message: 'boom', stack: render(1) });
          const b = fingerprintFailure({ name: 'TypeError', message: 'boom', stack: render(2) });
          expect(b.fingerprint).toBe(a.fingerprint);
          expect(a.fingerprint).not.toMatch(/:\d+\)/);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('finishes on long adversarial input (no catastrophic backtracking)', () => {
    const size = 50_000;
    const repeated = [
      'a'.repeat(size),
      '1'.repeat(size),
      'a-'.repeat(size / 2),
      'a.'.repeat(size / 2),
      'a@'.repeat(size / 2),
      '1.'.repeat(size / 2),
      '1:'.repeat(size / 2),
      'f:'.repeat(size / 2),
      '"'.repeat(size),
      "' ".repeat(size / 2),
      ' "a'.repeat(size / 3),
      `http://${'a'.repeat(size)}`,
      `${'a'.repeat(size)}@`,
      `${'a1'.repeat(size / 2)}-`,
      `connect E${'A'.repeat(size)}`,
      ` at f (${'a ('.repeat(size / 3)}`,
      '\n    at '.repeat(size / 8),
    ];
    for (const text of repeated) {
      expectIdempotent(text);
      expect(fingerprintFailure({ name: 'Error', message: text, stack: text }).groupId).toMatch(
        /^[0-9a-f]{16}$/,
      );
    }
    const alphabet = fc.constantFrom(
      'a',
      'f',
      'A',
      '1',
      '0',
      '.',
      '-',
      '_',
      ':',
      '@',
      '/',
      '"',
      "'",
      '`',
      ' ',
      '\n',
      '(',
      ')',
      '<',
      '>',
      'x',
    );
    fc.assert(
      fc.property(fc.string({ unit: alphabet, minLength: size, maxLength: size }), (text) => {
        expectIdempotent(text);
        expect(stackFrames(text).length).toBeLessThanOrEqual(3);
      }),
      // Shrinking 50 000-character strings takes long; the first failure is enough.
      { numRuns: 10, endOnFailure: true },
    );
  });
});

/** Idempotence, reported as the first difference only: a diff of two 50 000-character strings is slow. */
function expectIdempotent(text: string): void {
  const once = normalizeMessage(text);
  const twice = normalizeMessage(once);
  let at = 0;
  while (at < once.length && once[at] === twice[at]) at += 1;
  const around = (s: string) => s.slice(Math.max(0, at - 40), at + 40);
  expect(once === twice ? '' : `differs at ${at}: ${around(once)} / ${around(twice)}`).toBe('');
}

function kindOf(value: string): string {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-/.test(value)) return 'uuid';
  if (value.includes('@')) return 'email';
  if (/^\d{4}-\d{2}-\d{2}T/.test(value)) return 'timestamp';
  return 'number-or-hex';
}
