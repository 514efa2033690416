import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RouteModule } from '../../src/server/routes/index.ts';
import { jsonSchema } from '../../src/server/schemas.ts';
import { SECURITY_HEADERS } from '../../src/server/security-headers.ts';
import { type ServerFixture, seedDeadLetters, startServer } from './harness.ts';

/** A route that fails the way a bug does, to check what the client sees of an unexpected error. */
const crashingRoute: RouteModule = (app) => {
  app.get('/api/test-crash', { config: { access: 'viewer' } }, async () => {
    const secret = { path: '/srv/secret/config.json' };
    throw new TypeError(`cannot read ${secret.path}`);
  });
};

/** A route whose handler returns more than its response schema documents. */
const leakyRoute: RouteModule = (app) => {
  app.get(
    '/api/test-leak',
    {
      config: { access: 'viewer' },
      schema: { response: { 200: z.object({ name: z.string(), body: jsonSchema }) } },
    },
    async () => ({ name: 'ci', body: { deep: [1, { x: null }] }, hash: 'f'.repeat(64) }) as never,
  );
};

let server: ServerFixture;
beforeAll(async () => {
  server = await startServer({ routes: [crashingRoute, leakyRoute] });
  await seedDeadLetters(server.dl);
});
afterAll(() => server.close());

/** Expects `{error: {code, message}}` with the given status and code, and nothing else. */
function expectError(
  response: { statusCode: number; json: () => unknown },
  status: number,
  code: string,
): void {
  expect(response.statusCode).toBe(status);
  expect(response.json()).toEqual({ error: { code, message: expect.any(String) } });
}

describe('errors are {error: {code, message}} with the right status', () => {
  it('400 for a body that is not JSON', async () => {
    const response = await server.call('operator', {
      method: 'POST',
      url: '/api/queues/orders/messages',
      headers: { 'content-type': 'application/json' },
      payload: '{"body": ',
    });
    expectError(response, 400, 'bad_request');
  });

  it('400 for wrong types, unknown fields and bad enums, naming where', async () => {
    const limit = await server.call('viewer', { method: 'GET', url: '/api/dead-letters?limit=many' });
    expectError(limit, 400, 'bad_request');
    expect(limit.json().error.message).toMatch(/^querystring\/limit: /);
    expectError(
      await server.call('viewer', { method: 'GET', url: '/api/groups?tier=cosmic' }),
      400,
      'bad_request',
    );
    expectError(
      await server.call('admin', {
        method: 'POST',
        url: '/api/queues',
        payload: { name: 'x', maxReceives: '5' },
      }),
      400,
      'bad_request',
    );
    expectError(
      await server.call('admin', { method: 'POST', url: '/api/queues', payload: { name: 'x', sudo: true } }),
      400,
      'bad_request',
    );
    expectError(
      await server.call('admin', { method: 'POST', url: '/api/queues', payload: { name: 'bad name' } }),
      400,
      'bad_request',
    );
  });

  it('400 for proto poisoning in a body', async () => {
    const response = await server.call('operator', {
      method: 'POST',
      url: '/api/queues/orders/messages',
      headers: { 'content-type': 'application/json' },
      payload: '{"body": {"__proto__": {"admin": true}}}',
    });
    expectError(response, 400, 'bad_request');
  });

  it('404 for an unknown dead letter, group, queue or route', async () => {
    expectError(
      await server.call('viewer', { method: 'GET', url: '/api/dead-letters/nope' }),
      404,
      'not_found',
    );
    expectError(await server.call('viewer', { method: 'GET', url: '/api/groups/nope' }), 404, 'not_found');
    expectError(await server.call('viewer', { method: 'GET', url: '/api/queues/nope' }), 404, 'not_found');
    expectError(
      await server.call('operator', {
        method: 'POST',
        url: '/api/queues/nope/messages',
        payload: { body: 1 },
      }),
      404,
      'not_found',
    );
    expectError(await server.call('none', { method: 'GET', url: '/api/nothing-here' }), 404, 'not_found');
  });

  it('409 for a queue that exists', async () => {
    const response = await server.call('admin', {
      method: 'POST',
      url: '/api/queues',
      payload: { name: 'orders' },
    });
    expectError(response, 409, 'conflict');
  });

  it('422 for well-formed requests that ask for something invalid', async () => {
    expectError(
      await server.call('admin', {
        method: 'POST',
        url: '/api/queues',
        payload: { name: 'q1', backoff: 'sometimes' },
      }),
      422,
      'validation',
    );
    expectError(
      await server.call('viewer', { method: 'GET', url: '/api/dead-letters?cursor=not-a-cursor' }),
      422,
      'validation',
    );
    expectError(
      await server.call('viewer', { method: 'GET', url: '/api/dead-letters?where=customer.country' }),
      422,
      'validation',
    );
    expectError(
      await server.call('viewer', { method: 'GET', url: '/api/dead-letters?since=yesterday' }),
      422,
      'validation',
    );
  });

  it('413 for a body over the limit, 415 for a body that is not JSON', async () => {
    const huge = JSON.stringify({ body: 'x'.repeat(1024 * 1024 + 10) });
    expectError(
      await server.call('operator', {
        method: 'POST',
        url: '/api/queues/orders/messages',
        headers: { 'content-type': 'application/json' },
        payload: huge,
      }),
      413,
      'payload_too_large',
    );
    expectError(
      await server.call('operator', {
        method: 'POST',
        url: '/api/queues/orders/messages',
        headers: { 'content-type': 'text/plain' },
        payload: 'hello',
      }),
      415,
      'unsupported_media_type',
    );
  });

  it('500 with a generic message for an unexpected error: no stack, no detail', async () => {
    const response = await server.call('viewer', { method: 'GET', url: '/api/test-crash' });
    expectError(response, 500, 'internal');
    expect(response.body).not.toMatch(/TypeError|secret|at |\.ts/);
  });
});

describe('responses', () => {
  it('carry exactly the documented fields (a field the schema does not name never leaves)', async () => {
    const response = await server.call('viewer', { method: 'GET', url: '/api/test-leak' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ name: 'ci', body: { deep: [1, { x: null }] } });
  });

  it('carry the security headers and no CORS headers, even for a cross-origin request', async () => {
    const response = await server.call('viewer', {
      method: 'GET',
      url: '/api/stats',
      headers: { origin: 'https://evil.example' },
    });
    expect(response.statusCode).toBe(200);
    for (const [name, value] of Object.entries(SECURITY_HEADERS))
      expect(response.headers[name.toLowerCase()]).toBe(value);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(Object.keys(response.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    const preflight = await server.app.inject({
      method: 'OPTIONS',
      url: '/api/stats',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(Object.keys(preflight.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    expect(preflight.headers['x-frame-options']).toBe('DENY');
  });
});

describe('rate limit on failed authentication', () => {
  it('answers 429 with Retry-After after 20 failures a minute from one address, before looking at the token', async () => {
    const limited = await startServer({ authFailuresPerMinute: 20 });
    try {
      const attempt = (authorization?: string) =>
        limited.app.inject({
          method: 'GET',
          url: '/api/stats',
          remoteAddress: '10.0.0.7',
          ...(authorization ? { headers: { authorization } } : {}),
        });
      for (let i = 0; i < 20; i++) expect((await attempt(`Bearer dlq_guess${i}`)).statusCode).toBe(401);
      const refused = await attempt(`Bearer ${limited.tokens.viewer}`);
      expectError(refused, 429, 'too_many_requests');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // Another address is not affected.
      const other = await limited.app.inject({
        method: 'GET',
        url: '/api/stats',
        remoteAddress: '10.0.0.8',
        headers: { authorization: `Bearer ${limited.tokens.viewer}` },
      });
      expect(other.statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('store trouble', () => {
  it('answers 503 on /api/health when the store is gone', async () => {
    const broken = await startServer();
    await broken.dl.store.close();
    try {
      expectError(await broken.call('none', { method: 'GET', url: '/api/health' }), 503, 'unavailable');
    } finally {
      await broken.close();
    }
  });
});
