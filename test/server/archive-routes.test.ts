import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveDay } from '../../src/core/archive-record.ts';
import { killOne } from '../../src/store/conformance/fixtures.ts';
import { type ServerFixture, startServer } from './harness.ts';

const DAY = 86_400_000;
let server: ServerFixture;
let day: string;
let expired: string[];

beforeEach(async () => {
  server = await startServer();
  await server.dl.createQueue('orders');
  // Noon UTC of 20 days ago (past the default 14 days): both fall on the same UTC day.
  const noon = Math.floor((Date.now() - 20 * DAY) / DAY) * DAY + DAY / 2;
  day = archiveDay(noon);
  expired = [];
  for (let i = 0; i < 3; i++) {
    expired.push(await killOne(server.dl.store, { queue: 'orders', diedAt: noon + i * 1000, groupId: 'g1' }));
  }
  await killOne(server.dl.store, { queue: 'orders', diedAt: Date.now() - DAY, groupId: 'g1' });
});
afterEach(() => server.close());

const post = (role: 'viewer' | 'operator' | 'admin', url: string, payload: unknown) =>
  server.call(role, { method: 'POST', url, payload: payload as Record<string, unknown> });

describe('retention and archive routes', () => {
  it('runs a retention sweep (admin): a dry run counts, a run archives, as the token in the audit log', async () => {
    expect((await post('operator', '/api/retention/run', {})).statusCode).toBe(403);
    const dry = await post('admin', '/api/retention/run', { dryRun: true });
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toMatchObject({ dryRun: true, dead: 3, archiveDir: server.archiveDir });
    expect((await server.dl.stats())[0]?.dead).toBe(4);

    const run = await post('admin', '/api/retention/run', { queue: 'orders' });
    expect(run.statusCode, run.body).toBe(200);
    expect(run.json()).toMatchObject({ dryRun: false, dead: 3, errors: 0 });
    expect((await server.dl.stats())[0]).toMatchObject({ dead: 1, archived: 3 });
    const [entry] = (await server.dl.listAudit({ action: 'retention.archive', limit: 1 })).items;
    expect(entry?.actor).toBe('admin');

    expect((await post('admin', '/api/retention/run', { queue: 'nope' })).statusCode).toBe(404);
    expect((await post('admin', '/api/retention/run', { dryRun: 'yes' })).statusCode).toBe(400);
  });

  it('lists archive files and reads their records a page at a time (viewer)', async () => {
    await post('admin', '/api/retention/run', {});
    const list = await server.call('viewer', { method: 'GET', url: '/api/archives' });
    expect(list.statusCode, list.body).toBe(200);
    const file = `orders/${day}.jsonl.gz`;
    expect(list.json().files).toEqual([
      { file, queue: 'orders', day, records: 3, bytes: expect.any(Number) },
    ]);
    expect(
      (await server.call('viewer', { method: 'GET', url: '/api/archives?queue=emails' })).json(),
    ).toEqual({
      files: [],
    });

    const url = `/api/archives/${encodeURIComponent(file)}`;
    const first = await server.call('viewer', { method: 'GET', url: `${url}?limit=2` });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ file, nextOffset: 2 });
    const second = await server.call('viewer', { method: 'GET', url: `${url}?offset=2&limit=2` });
    expect(second.json().nextOffset).toBeNull();
    const ids = [...first.json().records, ...second.json().records].map((r: { id: string }) => r.id);
    expect(ids.sort()).toEqual([...expired].sort());
    expect(second.json().records[0]).toMatchObject({ state: 'dead', queue: 'orders', groupId: 'g1' });
    // The name without its extension works too.
    const short = await server.call('viewer', {
      method: 'GET',
      url: `/api/archives/${encodeURIComponent(`orders/${day}`)}`,
    });
    expect(short.json().records).toHaveLength(3);

    const missing = await server.call('viewer', {
      method: 'GET',
      url: `/api/archives/${encodeURIComponent('orders/2001-01-01.jsonl.gz')}`,
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
  });

  it('never reads a file outside the archive directory', async () => {
    // A valid archive file one level above the archive directory, and a secret beside it.
    const outside = join(server.archiveDir, '..');
    writeFileSync(join(outside, 'secret.txt'), 'TOP-SECRET-CONTENT');
    mkdirSync(join(server.archiveDir, 'orders'), { recursive: true });
    for (const name of [
      '../secret.txt',
      '..%2Fsecret.txt',
      `../orders/${day}.jsonl.gz`,
      `../../etc/${day}`,
      `/etc/passwd`,
      `${outside}/secret.txt`,
      `orders/../../${day}`,
      `./orders/${day}`,
      `../${day}`,
      'orders',
      `orders/${day}/x`,
      `orders\\..\\..\\${day}`,
      `orders/${day}.txt`,
      `orders/${day}\u0000.jsonl.gz`,
    ]) {
      const response = await server.call('viewer', {
        method: 'GET',
        url: `/api/archives/${encodeURIComponent(name)}`,
      });
      expect([400, 404, 422], name).toContain(response.statusCode);
      expect(response.body, name).not.toContain('TOP-SECRET-CONTENT');
      const imported = await post('admin', '/api/archives/import', { file: name });
      expect([400, 404, 422], name).toContain(imported.statusCode);
    }
  });

  it('imports an archive file back (admin), adding nothing twice', async () => {
    await post('admin', '/api/retention/run', {});
    const file = `orders/${day}.jsonl.gz`;
    expect((await post('operator', '/api/archives/import', { file })).statusCode).toBe(403);
    const dry = await post('admin', '/api/archives/import', { file, dryRun: true });
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toMatchObject({ file, dryRun: true, records: 3, restored: 3 });
    expect((await server.dl.stats())[0]?.dead).toBe(1);

    const imported = await post('admin', '/api/archives/import', { file });
    expect(imported.json()).toMatchObject({ dryRun: false, restored: 3, added: 0 });
    expect((await server.dl.stats())[0]).toMatchObject({ dead: 4, archived: 0 });
    const again = await post('admin', '/api/archives/import', { file });
    expect(again.json()).toMatchObject({ restored: 0, added: 0, skipped: { dead: 3 } });
    expect((await server.dl.stats())[0]?.dead).toBe(4);
    const [entry] = (await server.dl.listAudit({ action: 'archive.import', limit: 1 })).items;
    expect(entry?.actor).toBe('admin');
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = (await server.call('none', { method: 'GET', url: '/api/openapi.json' })).json();
    for (const path of [
      '/api/archives',
      '/api/archives/{file}',
      '/api/archives/import',
      '/api/retention/run',
    ]) {
      expect(Object.keys(doc.paths), path).toContain(path);
    }
    expect(Object.keys(doc.paths['/api/alert-rules/{rule}'])).toContain('patch');
  });
});
