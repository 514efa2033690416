import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROLES, type ApiRole } from '../../src/core/api-token.ts';
import { archiveDay } from '../../src/core/archive-record.ts';
import { killOne } from '../../src/store/conformance/fixtures.ts';
import { type ServerFixture, seedDeadLetters, startServer } from './harness.ts';

/** One route, the least role it needs and the status it answers that role with. */
interface RouteCase {
  name: string;
  role: ApiRole;
  request: () => InjectOptions;
  status: number;
}

let server: ServerFixture;
let deadLetterId: string;
let groupId: string;
let otherGroupId: string;
let archiveFile: string;

beforeAll(async () => {
  server = await startServer();
  await seedDeadLetters(server.dl);
  deadLetterId = (await server.dl.listDeadLetters({ queue: 'orders', limit: 1 })).items[0]?.id as string;
  groupId = (await server.dl.listGroups({ queue: 'orders' }))[0]?.id as string;
  otherGroupId = (await server.dl.listGroups({ queue: 'emails' }))[0]?.id as string;
  // An archive file: one dead letter past the default retention, swept.
  const noon = Math.floor((Date.now() - 20 * 86_400_000) / 86_400_000) * 86_400_000 + 43_200_000;
  await killOne(server.dl.store, { queue: 'emails', diedAt: noon, groupId: 'archived-group' });
  await server.dl.sweepRetention();
  archiveFile = `emails/${archiveDay(noon)}.jsonl.gz`;
});
afterAll(() => server.close());

const ROUTES: RouteCase[] = [
  {
    name: 'GET /api/queues',
    role: 'viewer',
    request: () => ({ method: 'GET', url: '/api/queues' }),
    status: 200,
  },
  {
    name: 'GET /api/queues/:name',
    role: 'viewer',
    request: () => ({ method: 'GET', url: '/api/queues/orders' }),
    status: 200,
  },
  {
    name: 'GET /api/queues/:name/samples',
    role: 'viewer',
    request: () => ({ method: 'GET', url: '/api/queues/orders/samples?since=1h' }),
    status: 200,
  },
  {
    name: 'POST /api/queues',
    role: 'admin',
    request: () => ({
      method: 'POST',
      url: '/api/queues',
      payload: { name: 'created-by-admin', retention: '30d' },
    }),
    status: 201,
  },
  {
    name: 'PATCH /api/queues/:name',
    role: 'admin',
    request: () => ({ method: 'PATCH', url: '/api/queues/emails', payload: { maxReceives: 3 } }),
    status: 200,
  },
  {
    name: 'GET /api/stats',
    role: 'viewer',
    request: () => ({ method: 'GET', url: '/api/stats' }),
    status: 200,
  },
  {
    name: 'POST /api/queues/:name/messages',
    role: 'operator',
    request: () => ({
      method: 'POST',
      url: '/api/queues/emails/messages',
      payload: { body: { to: 'a@b.c' } },
    }),
    status: 201,
  },
  {
    name: 'GET /api/dead-letters',
    role: 'viewer',
    request: () => ({ method: 'GET', url: '/api/dead-letters?queue=orders&limit=2' }),
    status: 200,
  },
  {
    name: 'GET /api/dead-letters/:id',
    role: 'viewer',
    request: () => ({ method: 'GET', url: `/api/dead-letters/${deadLetterId}` }),
    status: 200,
  },
  {
    name: 'GET /api/groups',
    role: 'viewer',
    request: () => ({ method: 'GET', url: '/api/groups' }),
    status: 200,
  },
  {
    name: 'GET /api/groups/:id',
    role: 'viewer',
    request: () => ({ method: 'GET', url: `/api/groups/${groupId}` }),
    status: 200,
  },
  {
    name: 'POST /api/groups/:id/status',
    role: 'operator',
    request: () => ({
      method: 'POST',
      url: `/api/groups/${groupId}/status`,
      payload: { status: 'acknowledged' },
    }),
    status: 200,
  },
  {
    name: 'POST /api/groups/:id/merge',
    role: 'operator',
    // A dry run: the other cases keep their groups.
    request: () => ({
      method: 'POST',
      url: `/api/groups/${groupId}/merge`,
      payload: { sources: [otherGroupId], dryRun: true },
    }),
    status: 200,
  },
  {
    name: 'GET /api/groups/:id/merged',
    role: 'viewer',
    request: () => ({ method: 'GET', url: `/api/groups/${groupId}/merged` }),
    status: 200,
  },
  {
    name: 'GET /api/group-rules',
    role: 'viewer',
    request: () => ({ method: 'GET', url: '/api/group-rules' }),
    status: 200,
  },
  {
    name: 'POST /api/group-rules',
    role: 'admin',
    request: () => ({
      method: 'POST',
      url: '/api/group-rules',
      payload: { name: 'roles-check', match: { message: 'declined' }, fingerprint: 'roles-check' },
    }),
    status: 201,
  },
  {
    name: 'DELETE /api/group-rules/:rule',
    role: 'admin',
    request: () => ({ method: 'DELETE', url: '/api/group-rules/roles-check' }),
    status: 200,
  },
  {
    name: 'GET /api/audit',
    role: 'viewer',
    request: () => ({ method: 'GET', url: '/api/audit' }),
    status: 200,
  },
  {
    name: 'GET /api/tokens',
    role: 'admin',
    request: () => ({ method: 'GET', url: '/api/tokens' }),
    status: 200,
  },
  {
    name: 'POST /api/tokens',
    role: 'admin',
    request: () => ({ method: 'POST', url: '/api/tokens', payload: { name: 'ci', role: 'viewer' } }),
    status: 201,
  },
  {
    name: 'DELETE /api/tokens/:name',
    role: 'admin',
    request: () => ({ method: 'DELETE', url: '/api/tokens/ci' }),
    status: 200,
  },
  { name: 'GET /metrics', role: 'viewer', request: () => ({ method: 'GET', url: '/metrics' }), status: 200 },
  // The dashboard's session and the triage routes; their behaviour is tested in triage-routes.test.ts.
  {
    name: 'GET /api/session',
    role: 'viewer',
    request: () => ({ method: 'GET', url: '/api/session' }),
    status: 200,
  },
  {
    name: 'POST /api/replays/dry-run',
    role: 'viewer',
    request: () => ({
      method: 'POST',
      url: '/api/replays/dry-run',
      payload: { selector: { queue: 'orders' } },
    }),
    status: 200,
  },
  {
    name: 'POST /api/replays',
    role: 'operator',
    request: () => ({ method: 'POST', url: '/api/replays', payload: { selector: { queue: 'orders' } } }),
    status: 201,
  },
  {
    name: 'GET /api/replays',
    role: 'viewer',
    request: () => ({ method: 'GET', url: '/api/replays' }),
    status: 200,
  },
  ...(['GET /api/replays/:id', 'GET /api/replays/:id/skips'] as const).map(
    (name): RouteCase => ({
      name,
      role: 'viewer',
      request: () => ({ method: 'GET', url: name.slice(4).replace(':id', 'no-such-job') }),
      status: 404,
    }),
  ),
  ...(['pause', 'resume', 'cancel'] as const).map(
    (action): RouteCase => ({
      name: `POST /api/replays/:id/${action}`,
      role: 'operator',
      request: () => ({ method: 'POST', url: `/api/replays/no-such-job/${action}`, payload: {} }),
      status: 404,
    }),
  ),
  {
    name: 'POST /api/discards',
    role: 'operator',
    request: () => ({
      method: 'POST',
      url: '/api/discards',
      payload: { selector: { queue: 'orders' }, dryRun: true },
    }),
    status: 200,
  },
  {
    name: 'GET /api/dead-letters/:id/lineage',
    role: 'viewer',
    request: () => ({ method: 'GET', url: `/api/dead-letters/${deadLetterId}/lineage` }),
    status: 200,
  },
  {
    name: 'PUT /api/dead-letters/:id/body',
    role: 'operator',
    request: () => ({
      method: 'PUT',
      url: '/api/dead-letters/no-such-letter/body',
      payload: { body: { n: 1 } },
    }),
    status: 404,
  },
  {
    name: 'GET /api/queues/:name/docs',
    role: 'viewer',
    request: () => ({ method: 'GET', url: '/api/queues/orders/docs' }),
    status: 200,
  },
  {
    name: 'PUT /api/queues/:name/docs',
    role: 'operator',
    request: () => ({ method: 'PUT', url: '/api/queues/orders/docs', payload: { owner: 'team-orders' } }),
    status: 200,
  },
  {
    name: 'GET /api/doctor',
    role: 'viewer',
    request: () => ({ method: 'GET', url: '/api/doctor' }),
    status: 200,
  },
  {
    name: 'GET /api/review',
    role: 'viewer',
    request: () => ({ method: 'GET', url: '/api/review' }),
    status: 200,
  },
  {
    name: 'GET /api/alerts',
    role: 'viewer',
    request: () => ({ method: 'GET', url: '/api/alerts' }),
    status: 200,
  },
  {
    name: 'GET /api/alert-rules',
    role: 'admin',
    request: () => ({ method: 'GET', url: '/api/alert-rules' }),
    status: 200,
  },
  {
    name: 'POST /api/alert-rules',
    role: 'admin',
    request: () => ({
      method: 'POST',
      url: '/api/alert-rules',
      payload: { name: 'roles-check', kind: 'depth', threshold: 5, channels: [{ type: 'log' }] },
    }),
    status: 201,
  },
  {
    name: 'PATCH /api/alert-rules/:rule',
    role: 'admin',
    request: () => ({ method: 'PATCH', url: '/api/alert-rules/roles-check', payload: { threshold: 6 } }),
    status: 200,
  },
  {
    name: 'GET /api/archives',
    role: 'viewer',
    request: () => ({ method: 'GET', url: '/api/archives' }),
    status: 200,
  },
  {
    name: 'GET /api/archives/:file',
    role: 'viewer',
    request: () => ({ method: 'GET', url: `/api/archives/${encodeURIComponent(archiveFile)}` }),
    status: 200,
  },
  {
    name: 'POST /api/archives/import',
    role: 'admin',
    request: () => ({
      method: 'POST',
      url: '/api/archives/import',
      payload: { file: archiveFile, dryRun: true },
    }),
    status: 200,
  },
  {
    name: 'POST /api/retention/run',
    role: 'admin',
    request: () => ({ method: 'POST', url: '/api/retention/run', payload: { dryRun: true } }),
    status: 200,
  },
  {
    name: 'DELETE /api/alert-rules/:rule',
    role: 'admin',
    request: () => ({ method: 'DELETE', url: '/api/alert-rules/roles-check' }),
    status: 200,
  },
];

describe('every route, for each role', () => {
  for (const route of ROUTES) {
    it(`${route.name}: 401 without a token, 403 below ${route.role}, ${route.status} for ${route.role}`, async () => {
      const anonymous = await server.call('none', route.request());
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="deadletter"');
      for (const role of API_ROLES.slice(0, API_ROLES.indexOf(route.role))) {
        const refused = await server.call(role, route.request());
        expect(refused.statusCode, role).toBe(403);
        expect(refused.json().error.code).toBe('forbidden');
      }
      const allowed = await server.call(route.role, route.request());
      expect(allowed.statusCode, allowed.body).toBe(route.status);
    });
  }

  it('lets a higher role do what a lower one may', async () => {
    expect((await server.call('admin', { method: 'GET', url: '/api/dead-letters' })).statusCode).toBe(200);
    expect(
      (
        await server.call('admin', {
          method: 'POST',
          url: `/api/groups/${groupId}/status`,
          payload: { status: 'resolved' },
        })
      ).statusCode,
    ).toBe(200);
  });

  it('covers every route the server declares', () => {
    const declared = server.app
      .printRoutes({ commonPrefix: false })
      .split('\n')
      .filter((line) => line.trim().length > 0);
    expect(declared.length).toBeGreaterThan(0);
    const documented = Object.entries(
      (server.app.swagger() as { paths: Record<string, Record<string, unknown>> }).paths,
    ).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const tested = ROUTES.map((route) => route.name);
    const publicRoutes = ['GET /api/health'];
    expect([...tested, ...publicRoutes].sort()).toEqual([...documented].sort());
  });
});

describe('public routes', () => {
  it('GET /api/health answers without a token', async () => {
    const response = await server.call('none', { method: 'GET', url: '/api/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', version: expect.any(String) });
  });

  it('GET /api/openapi.json answers without a token', async () => {
    const response = await server.call('none', { method: 'GET', url: '/api/openapi.json' });
    expect(response.statusCode).toBe(200);
    expect(response.json().openapi).toBe('3.1.0');
  });
});

describe('tokens', () => {
  it('refuses unknown, malformed and revoked tokens alike', async () => {
    const created = await server.call('admin', {
      method: 'POST',
      url: '/api/tokens',
      payload: { name: 'short-lived', role: 'operator' },
    });
    expect(created.statusCode).toBe(201);
    const { secret, token } = created.json() as { secret: string; token: Record<string, unknown> };
    expect(secret).toMatch(/^dlq_[A-Za-z0-9_-]{43}$/);
    expect(token).not.toHaveProperty('hash');
    expect(created.headers['cache-control']).toBe('no-store');
    const asIt = (authorization: string) =>
      server.app.inject({ method: 'GET', url: '/api/stats', headers: { authorization } });
    expect((await asIt(`Bearer ${secret}`)).statusCode).toBe(200);
    expect((await asIt(`bearer  ${secret}`)).statusCode).toBe(200);
    expect((await asIt(`Basic ${secret}`)).statusCode).toBe(401);
    expect((await asIt(`Bearer ${secret}x`)).statusCode).toBe(401);
    expect((await asIt('Bearer ')).statusCode).toBe(401);
    expect((await asIt(`Bearer ${'x'.repeat(5000)}`)).statusCode).toBe(401);
    expect(
      (await server.call('admin', { method: 'DELETE', url: '/api/tokens/short-lived' })).statusCode,
    ).toBe(200);
    expect((await asIt(`Bearer ${secret}`)).statusCode).toBe(401);
    expect(
      (await server.call('admin', { method: 'DELETE', url: '/api/tokens/short-lived' })).statusCode,
    ).toBe(404);
  });

  it('records the token name as the actor of what it changes', async () => {
    const response = await server.call('operator', {
      method: 'POST',
      url: `/api/groups/${groupId}/status`,
      payload: { status: 'ignored' },
    });
    expect(response.statusCode).toBe(200);
    const audit = await server.call('viewer', {
      method: 'GET',
      url: '/api/audit?action=group.status&limit=1',
    });
    expect(audit.json().items[0]).toMatchObject({
      actor: 'operator',
      action: 'group.status',
      targetId: groupId,
    });
    const created = await server.call('admin', {
      method: 'POST',
      url: '/api/queues',
      payload: { name: 'audited' },
    });
    expect(created.statusCode).toBe(201);
    const queueAudit = await server.call('viewer', { method: 'GET', url: '/api/audit?target=audited' });
    expect(queueAudit.json().items[0]).toMatchObject({ actor: 'admin', action: 'queue.create' });
  });

  it('never shows a hash or secret in the token list', async () => {
    const listed = await server.call('admin', { method: 'GET', url: '/api/tokens' });
    const text = listed.body;
    expect(text).not.toMatch(/"hash"|dlq_/);
    expect(listed.json().tokens.map((t: { name: string }) => t.name)).toEqual(
      expect.arrayContaining(['viewer', 'operator', 'admin']),
    );
  });
});
