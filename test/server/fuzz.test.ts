import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveDay } from '../../src/core/archive-record.ts';
import { createAlertRule } from '../../src/engine/alerts.ts';
import { killOne } from '../../src/store/conformance/fixtures.ts';
import { type ServerFixture, seedDeadLetters, startServer } from './harness.ts';

/**
 * Thousands of random and malformed requests to every route: no 5xx, the server keeps
 * answering, and a rejected request (any 4xx) changes nothing: queues, counts, groups, tokens
 * and the audit log are the same before and after it.
 */

let server: ServerFixture;
let deadLetterId: string;
let groupId: string;
/** An archive file of the server (`emails/<day>.jsonl.gz`), for the archive routes. */
let archiveFile: string;

beforeAll(async () => {
  server = await startServer();
  await seedDeadLetters(server.dl);
  deadLetterId = (await server.dl.listDeadLetters({ limit: 1 })).items[0]?.id as string;
  groupId = (await server.dl.listGroups())[0]?.id as string;
  // One dead letter past retention, archived; and an alert rule to update.
  const noon = Math.floor((Date.now() - 20 * 86_400_000) / 86_400_000) * 86_400_000 + 43_200_000;
  await killOne(server.dl.store, { queue: 'emails', diedAt: noon, groupId: 'archived-group' });
  await server.dl.sweepRetention();
  archiveFile = `emails/${archiveDay(noon)}.jsonl.gz`;
  await createAlertRule(server.dl.store, {
    input: {
      name: 'emails-depth',
      queue: 'emails',
      kind: 'depth',
      threshold: 5,
      channels: [{ type: 'log' }],
    },
    actor: 'test',
    now: Date.now(),
  });
});
afterAll(() => server.close());

/** What a rejected request must not change. */
async function snapshot(): Promise<string> {
  const { dl } = server;
  const [queues, stats, groups, tokens, audit, rules, archives] = await Promise.all([
    dl.listQueues(),
    dl.store.queueStats({ now: 0 }),
    dl.listGroups({ limit: 1000 }),
    dl.store.tokenList(),
    dl.store.auditList({ limit: 1 }),
    dl.store.alertRuleList(),
    dl.listArchives(),
  ]);
  return JSON.stringify({
    queues,
    stats,
    groups: groups.map((g) => [g.id, g.status, g.count, g.deadCount]),
    tokens: tokens.map((t) => [t.name, t.role, t.revokedAt]),
    lastAudit: audit[0]?.id ?? null,
    rules,
    archives: archives.map((a) => [a.path, a.bytes, a.records]),
  });
}

const NASTY = [
  "' OR 1=1 --",
  "'; DROP TABLE dead_letters; --",
  '" OR ""="',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '../../../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '%00',
  '\u0000',
  '\uffff\ud800',
  '𝕯𝖊𝖆𝖉 💀 letter',
  '\u202eevil',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell-style fragment, sent as text on purpose
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '9999999999999999999999',
  ' ',
  '',
  'a'.repeat(5000),
];

const nasty = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const segment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('orders', 'emails', 'nope') },
  { weight: 1, arbitrary: fc.constant('ID') },
  { weight: 1, arbitrary: fc.constant('GROUP') },
  { weight: 1, arbitrary: fc.constant('ARCHIVE') },
  { weight: 1, arbitrary: fc.constant('emails-depth') },
  { weight: 3, arbitrary: nasty },
);

/**
 * Path templates of every route the server documents (so routes added later are fuzzed too),
 * plus one that matches nothing; `{}` stands for a random segment.
 */
function routePaths(): string[] {
  const paths = Object.keys((server.app.swagger() as { paths: Record<string, unknown> }).paths);
  return [...paths.map((path) => path.replace(/\{\w+\}/g, '{}')), '/api/openapi.json', '/{}'];
}

const QUERY_KEYS = [
  'queue',
  'tier',
  'group',
  'since',
  'until',
  'grep',
  'where',
  'ids',
  'limit',
  'cursor',
  'status',
  'sort',
  'offset',
  'action',
  'actor',
  'target',
  '__proto__',
];
const queryValue = fc.oneof(
  nasty,
  fc.constantFrom(
    '1',
    '0',
    '1000',
    '1001',
    '-5',
    'permanent',
    'new',
    'count',
    '2h',
    '2026-01-01',
    'body.n=1',
  ),
);

const jsonBody = fc.oneof(
  { weight: 3, arbitrary: fc.json({ maxDepth: 3 }) },
  {
    weight: 3,
    arbitrary: fc
      .record(
        {
          name: nasty,
          body: fc.jsonValue({ maxDepth: 2 }),
          status: fc.oneof(fc.constantFrom('new', 'acknowledged', 'resolved', 'ignored', 'regressed'), nasty),
          role: fc.oneof(fc.constantFrom('viewer', 'operator', 'admin', 'root'), nasty),
          maxReceives: fc.oneof(fc.integer(), fc.double(), nasty),
          backoff: nasty,
          retention: fc.oneof(nasty, fc.integer()),
          messages: fc.array(
            fc.record({ body: fc.jsonValue({ maxDepth: 2 }), delay: fc.oneof(nasty, fc.integer()) }),
            {
              maxLength: 3,
            },
          ),
          headers: fc.dictionary(nasty, fc.oneof(nasty, fc.integer())),
          idempotencyKey: nasty,
          file: fc.oneof(fc.constantFrom('ARCHIVE', '../../etc/passwd', 'emails/2026-01-01'), nasty),
          dryRun: fc.oneof(fc.boolean(), nasty),
          queue: fc.oneof(fc.constantFrom('orders', 'emails', 'nope'), nasty, fc.constant(null)),
          threshold: fc.oneof(fc.integer(), nasty),
          renotify: fc.oneof(fc.constantFrom('1h', '10s', '0'), nasty, fc.constant(null)),
          enabled: fc.oneof(fc.boolean(), nasty),
        },
        { requiredKeys: [] },
      )
      .map((value) => JSON.stringify(value)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('{', '{"body": ', '[1,2', 'null', '"x"', '{"__proto__": {"a": 1}}', '\u0000'),
  },
  { weight: 1, arbitrary: nasty },
);

const HUGE = JSON.stringify({ body: 'x'.repeat(1024 * 1024 + 100) });

/** Percent-encodes the UTF-8 bytes of any string (lone surrogates included, as U+FFFD). */
function encode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).padStart(2, '0')}`,
    )
    .join('');
}

/** Escapes that do not decode (left raw in the URL). */
const BROKEN_ESCAPES = ['%', '%zz', '%E0%A4%A', '%C0%AF', '%u0041', '%ff%fe'];

const requestOf = (paths: string[]) =>
  fc.record({
    method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS', 'HEAD'),
    path: fc.constantFrom(...paths),
    segment,
    brokenEscape: fc.option(fc.constantFrom(...BROKEN_ESCAPES), { nil: undefined, freq: 10 }),
    query: fc.array(fc.tuple(fc.constantFrom(...QUERY_KEYS), queryValue), { maxLength: 4 }),
    auth: fc.constantFrom('viewer', 'operator', 'admin', 'admin', 'none', 'garbage'),
    contentType: fc.constantFrom(
      'application/json',
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'none',
    ),
    body: fc.oneof(
      { weight: 20, arbitrary: jsonBody },
      { weight: 1, arbitrary: fc.constant(HUGE) },
      { weight: 3, arbitrary: fc.constant(undefined) },
    ),
  });

type FuzzRequest = ReturnType<typeof requestOf> extends fc.Arbitrary<infer R> ? R : never;

function toInject(r: FuzzRequest): InjectOptions {
  const seg =
    r.segment === 'ID'
      ? deadLetterId
      : r.segment === 'GROUP'
        ? groupId
        : r.segment === 'ARCHIVE'
          ? archiveFile
          : r.segment;
  const path = r.path.replaceAll(
    '{}',
    r.brokenEscape === undefined ? encode(seg) : `${encode(seg)}${r.brokenEscape}`,
  );
  const query = r.query.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
  const headers: Record<string, string> = {};
  if (r.auth === 'garbage') headers.authorization = 'Bearer dlq_not-a-real-token';
  else if (r.auth !== 'none')
    headers.authorization = `Bearer ${server.tokens[r.auth as 'viewer' | 'operator' | 'admin']}`;
  if (r.body !== undefined && r.contentType !== 'none') headers['content-type'] = r.contentType;
  return {
    method: r.method as InjectOptions['method'],
    url: query ? `${path}?${query}` : path,
    headers,
    ...(r.body === undefined ? {} : { payload: r.body.replaceAll('"ARCHIVE"', JSON.stringify(archiveFile)) }),
  };
}

describe('fuzzing every route', () => {
  it('never answers 5xx and a rejected request changes nothing', async () => {
    let rejected = 0;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(requestOf(routePaths()), async (r) => {
        const options = toInject(r);
        const before = await snapshot();
        const response = await server.app.inject(options);
        expect(
          response.statusCode,
          `${options.method} ${options.url} → ${response.body.slice(0, 300)}`,
        ).toBeLessThan(500);
        if (response.statusCode >= 400) {
          rejected++;
          if (options.method !== 'HEAD') {
            expect(response.json(), `${options.method} ${options.url}`).toEqual({
              error: { code: expect.any(String), message: expect.any(String) },
            });
          }
          expect(
            await snapshot(),
            `${options.method} ${options.url} (${response.statusCode}) changed state`,
          ).toBe(before);
        } else {
          accepted++;
        }
      }),
      { numRuns: 3000, seed: 20261125 },
    );
    // The fuzzer reached both sides: some requests were valid, most were not.
    expect(accepted).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(1000);
    const health = await server.app.inject({ method: 'GET', url: '/api/health' });
    expect(health.statusCode).toBe(200);
  });
});
