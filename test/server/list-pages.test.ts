import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { BRIEF_MESSAGE_MAX, toDeadLetterBrief } from '../../src/core/dead-letter-brief.ts';
import { VERIFIED_TOKEN_TTL_MS } from '../../src/server/auth.ts';
import { deadLetterListItemSchema, groupSchema } from '../../src/server/schemas.ts';
import { killOne } from '../../src/store/conformance/fixtures.ts';
import { type ServerFixture, seedDeadLetters, startServer } from './harness.ts';

let server: ServerFixture;
let longId: string;

beforeAll(async () => {
  server = await startServer();
  await seedDeadLetters(server.dl);
  longId = await killOne(server.dl.store, {
    queue: 'emails',
    diedAt: server.dl.clock.now(),
    groupId: 'long-message',
    name: 'ValidationError',
    message: `payload rejected: ${'field "x" is "é\\n" '.repeat(40)}`,
  });
});
afterAll(() => server.close());

const BRIEF_KEYS = ['attemptCount', 'diedAt', 'error', 'groupId', 'id', 'queue', 'replayCount', 'tier'];

async function getJson<T>(url: string): Promise<T> {
  const response = await server.call('viewer', { method: 'GET', url });
  expect(response.statusCode, response.body).toBe(200);
  expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
  return response.json() as T;
}

type ListPage = { items: Record<string, unknown>[]; nextCursor: string | null };

describe('GET /api/dead-letters', () => {
  it('answers briefs by default: the documented fields only, the error message cut to 200 characters', async () => {
    const page = await getJson<ListPage>('/api/dead-letters?limit=100');
    const summaries = await server.dl.listDeadLetters({ limit: 100 });
    expect(page.items.length).toBe(summaries.items.length);
    expect(page.items).toEqual(summaries.items.map(toDeadLetterBrief));
    for (const item of page.items) {
      expect(Object.keys(item).sort()).toEqual(BRIEF_KEYS);
      expect(Object.keys(item.error as object).sort()).toEqual(['message', 'name']);
      expect(deadLetterListItemSchema.safeParse(item).success).toBe(true);
    }
    const long = page.items.find((item) => item.id === longId) as { error: { message: string } };
    expect(Array.from(long.error.message)).toHaveLength(BRIEF_MESSAGE_MAX);
    expect(long.error.message.endsWith('…')).toBe(true);
  });

  it('answers whole summaries with fields=full', async () => {
    const page = await getJson<ListPage>('/api/dead-letters?queue=orders&fields=full');
    const summaries = await server.dl.listDeadLetters({ queue: 'orders' });
    expect(page).toEqual(JSON.parse(JSON.stringify(summaries)));
    expect(page.items[0]).toHaveProperty('fingerprint');
    expect(page.items[0]).toHaveProperty('error.stack');
    for (const item of page.items) expect(deadLetterListItemSchema.safeParse(item).success).toBe(true);
  });

  it('pages briefs with the cursor as the library pages summaries, filters included', async () => {
    for (const filter of ['', '&queue=orders', '&tier=permanent', '&grep=card']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let guard = 0; guard < 20; guard++) {
        const page: ListPage = await getJson<ListPage>(
          `/api/dead-letters?limit=2${filter}${cursor ? `&cursor=${cursor}` : ''}`,
        );
        seen.push(...page.items.map((item) => item.id as string));
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      const all = await server.dl.listDeadLetters({
        limit: 1000,
        ...(filter === '&queue=orders' && { queue: 'orders' }),
        ...(filter === '&tier=permanent' && { tier: 'permanent' as const }),
        ...(filter === '&grep=card' && { grep: 'card' }),
      });
      expect(seen, filter).toEqual(all.items.map((item) => item.id));
      expect(seen.length, filter).toBeGreaterThan(0);
    }
  });

  it('refuses an unknown fields value', async () => {
    const response = await server.call('viewer', { method: 'GET', url: '/api/dead-letters?fields=all' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: expect.any(String) } });
  });
});

describe('GET /api/groups', () => {
  it('answers the groups of the library, each as the documented Group', async () => {
    for (const query of [
      '',
      '?queue=orders',
      '?status=new&sort=last-seen',
      '?limit=1&offset=1',
      '?tier=permanent',
    ]) {
      const { groups } = await getJson<{ groups: unknown[] }>(`/api/groups${query}`);
      const params = Object.fromEntries(new URLSearchParams(query));
      const expected = await server.dl.listGroups({
        ...(params.queue && { queue: params.queue }),
        ...(params.status && { status: 'new' as const }),
        ...(params.sort && { sort: 'lastSeen' as const }),
        ...(params.limit && { limit: Number(params.limit) }),
        ...(params.offset && { offset: Number(params.offset) }),
        ...(params.tier && { tier: 'permanent' as const }),
      });
      expect(groups, query).toEqual(expected);
      expect(groups.length, query).toBeGreaterThan(0);
      for (const group of groups) expect(groupSchema.strict().safeParse(group).success).toBe(true);
    }
  });
});

describe('verified tokens', () => {
  it('trusts a verified token for a few seconds; a revocation through the API applies at once', async () => {
    const clock = new ManualClock(Date.now());
    const local = await startServer({ clock });
    try {
      const stats = (secret: string) =>
        local.app.inject({
          method: 'GET',
          url: '/api/stats',
          headers: { authorization: `Bearer ${secret}` },
        });
      expect((await stats(local.tokens.viewer)).statusCode).toBe(200);
      // Revoked in the store directly (as `dlq token revoke` without a server does): the
      // server trusts its verification until it is VERIFIED_TOKEN_TTL_MS old.
      await local.dl.store.tokenRevoke({ name: 'viewer', actor: 'test', now: clock.now() });
      expect((await stats(local.tokens.viewer)).statusCode).toBe(200);
      clock.advance(VERIFIED_TOKEN_TTL_MS);
      expect((await stats(local.tokens.viewer)).statusCode).toBe(401);

      expect((await stats(local.tokens.operator)).statusCode).toBe(200);
      const revoke = await local.call('admin', { method: 'DELETE', url: '/api/tokens/operator' });
      expect(revoke.statusCode).toBe(200);
      expect((await stats(local.tokens.operator)).statusCode).toBe(401);
    } finally {
      await local.close();
    }
  });
});
