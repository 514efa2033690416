import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerFixture, startServer } from './harness.ts';

interface Operation {
  summary?: string;
  parameters?: { in: string; name: string; schema?: unknown }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
  security?: unknown[];
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  security: unknown[];
}

let server: ServerFixture;
let doc: Document;
beforeAll(async () => {
  server = await startServer();
  const response = await server.call('none', { method: 'GET', url: '/api/openapi.json' });
  expect(response.statusCode).toBe(200);
  doc = response.json() as Document;
});
afterAll(() => server.close());

/** Every route the server declares, as `METHOD /path/{param}`, without HEAD and the document itself. */
function declaredRoutes(): string[] {
  const routes: string[] = [];
  const text = server.app.printRoutes({ commonPrefix: false });
  // printRoutes prints a tree; rebuild full paths with their methods.
  const stack: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^([│ ]*)[└├]── (\S*) \(([A-Z, ]+)\)$/.exec(line) ?? /^([│ ]*)[└├]── (\S*)$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    stack.length = depth;
    stack.push(match[2] ?? '');
    const methods = match[3]?.split(', ') ?? [];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push(`${method} ${stack.join('').replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return routes.filter((route) => route !== 'GET /api/openapi.json');
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('documents every route the server serves', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const declared = declaredRoutes();
    expect(declared.length).toBeGreaterThanOrEqual(17);
    expect([...documented].sort()).toEqual([...declared].sort());
  });

  it('gives every operation a summary, its parameters, its body and its responses with schemas', () => {
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(operation.summary, where).toBeTruthy();
        for (const param of path.match(/\{(\w+)\}/g) ?? []) {
          const name = param.slice(1, -1);
          const found = operation.parameters?.find((p) => p.in === 'path' && p.name === name);
          expect(found?.schema, `${where} path parameter ${name}`).toBeTruthy();
        }
        if (['post', 'patch', 'put'].includes(method)) {
          expect(operation.requestBody?.content['application/json']?.schema, `${where} body`).toBeTruthy();
        }
        const success = Object.keys(operation.responses).filter((status) => status.startsWith('2'));
        expect(success.length, `${where} success response`).toBe(1);
        if (path !== '/metrics') {
          for (const [status, response] of Object.entries(operation.responses)) {
            expect(response.content?.['application/json']?.schema, `${where} ${status}`).toBeTruthy();
          }
        }
      }
    }
  });

  it('documents the query parameters of the dead-letter list (the filters of dlq list)', () => {
    const names = doc.paths['/api/dead-letters']?.get?.parameters
      ?.filter((p) => p.in === 'query')
      .map((p) => p.name);
    expect(names?.sort()).toEqual(
      [
        'cursor',
        'fields',
        'grep',
        'group',
        'ids',
        'limit',
        'queue',
        'since',
        'tier',
        'until',
        'where',
      ].sort(),
    );
  });

  it('declares bearer auth for every route but the public ones', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/api/health']?.get?.security).toEqual([]);
    expect(doc.paths['/api/queues']?.get?.security).toBeUndefined();
  });

  it('names the shared schemas and the error envelope', () => {
    for (const name of [
      'Queue',
      'QueueStats',
      'DeadLetter',
      'DeadLetterSummary',
      'Group',
      'Token',
      'AuditEntry',
    ]) {
      expect(
        Object.keys(doc.components.schemas).some((key) => key.startsWith(name)),
        name,
      ).toBe(true);
    }
    expect(JSON.stringify(doc.paths['/api/groups/{id}']?.get?.responses['404'])).toContain('Error');
  });
});
