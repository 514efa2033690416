import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerFixture, startServer } from './harness.ts';

let server: ServerFixture;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

describe('done retention through the API', () => {
  it('creates a queue with a done retention (POST), changes it (PATCH, audited) and answers it in doneRetentionMs', async () => {
    const created = await server.call('admin', {
      method: 'POST',
      url: '/api/queues',
      payload: { name: 'orders', doneRetention: '30m' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'orders', doneRetentionMs: 1_800_000 });

    const defaults = await server.call('admin', {
      method: 'POST',
      url: '/api/queues',
      payload: { name: 'emails' },
    });
    expect(defaults.json()).toMatchObject({ doneRetentionMs: 3_600_000 });

    const patched = await server.call('admin', {
      method: 'PATCH',
      url: '/api/queues/orders',
      payload: { doneRetention: 0 },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ doneRetentionMs: 0 });
    const read = await server.call('viewer', { method: 'GET', url: '/api/queues/orders' });
    expect(read.json()).toMatchObject({ doneRetentionMs: 0 });
    const [entry] = await server.dl.store.auditList({ action: 'queue.update', limit: 1 });
    expect(entry).toMatchObject({
      actor: 'admin',
      details: { from: { doneRetentionMs: 1_800_000 }, to: { doneRetentionMs: 0 } },
    });
  });

  it('refuses a bad done retention with 422 and an operator with 403', async () => {
    const bad = await server.call('admin', {
      method: 'PATCH',
      url: '/api/queues/orders',
      payload: { doneRetention: '2y' },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.message).toMatch(/done retention "2y"/);
    const tooLong = await server.call('admin', {
      method: 'PATCH',
      url: '/api/queues/orders',
      payload: { doneRetention: '400d' },
    });
    expect(tooLong.statusCode).toBe(422);
    const operator = await server.call('operator', {
      method: 'PATCH',
      url: '/api/queues/orders',
      payload: { doneRetention: '1h' },
    });
    expect(operator.statusCode).toBe(403);
  });
});
