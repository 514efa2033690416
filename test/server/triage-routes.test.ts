import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiApp } from '../../src/server/routes/index.ts';
import { registerUi, UI_CSP } from '../../src/server/ui.ts';
import { tempDir } from '../support/temp-dir.ts';
import { type ServerFixture, seedDeadLetters, startServer } from './harness.ts';

let server: ServerFixture;

beforeAll(async () => {
  server = await startServer();
  await seedDeadLetters(server.dl);
});
afterAll(() => server.close());

const post = (role: 'viewer' | 'operator' | 'admin', url: string, payload: object) =>
  server.call(role, { method: 'POST', url, payload });

describe('the session route', () => {
  it("answers the token's name and role", async () => {
    const response = await server.call('operator', { method: 'GET', url: '/api/session' });
    expect(response.json()).toEqual({ name: 'operator', role: 'operator' });
  });
});

describe('replays over the API', () => {
  it('dry-runs a selection: counts per group, tier and queue, samples, destination', async () => {
    const response = await post('viewer', '/api/replays/dry-run', { selector: { queue: 'orders' } });
    expect(response.statusCode).toBe(200);
    const plan = response.json();
    expect(plan.total).toBe(5);
    expect(plan.byTier.map((t: { tier: string }) => t.tier).sort()).toEqual(['permanent', 'transient']);
    expect(plan.byGroup).toHaveLength(2);
    expect(plan.destinations).toEqual([{ queue: 'orders', count: 5 }]);
    expect(plan.samples.length).toBeGreaterThan(0);
    expect(plan.selector).toEqual({ queue: 'orders' });
  });

  it('refuses a bad selector, an empty one and an unknown destination without changing anything', async () => {
    expect((await post('viewer', '/api/replays/dry-run', { selector: { tier: 'nope' } })).statusCode).toBe(
      400,
    );
    expect((await post('viewer', '/api/replays/dry-run', { selector: {} })).statusCode).toBe(422);
    const unknown = await post('operator', '/api/replays', { selector: { queue: 'orders' }, to: 'nowhere' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.message).toContain('nowhere');
    expect((await server.call('viewer', { method: 'GET', url: '/api/replays' })).json().jobs).toEqual([]);
  });

  it('creates a durable job, pauses, resumes and cancels it, each audited under the token name', async () => {
    const group = (await server.dl.listGroups({ queue: 'emails' }))[0]?.id as string;
    const created = await post('operator', '/api/replays', {
      selector: { group },
      canary: 1,
      rate: 50,
    });
    expect(created.statusCode).toBe(201);
    const { job, plan } = created.json();
    expect(plan.total).toBe(1);
    expect(job).toMatchObject({
      status: 'pending',
      planned: 1,
      canarySize: 1,
      ratePerSecond: 50,
      createdBy: 'operator',
    });

    const paused = await post('operator', `/api/replays/${job.id}/pause`, {});
    expect(paused.json().status).toBe('paused');
    expect((await post('operator', `/api/replays/${job.id}/resume`, {})).json().status).toBe('pending');
    expect((await post('operator', `/api/replays/${job.id}/cancel`, {})).json().status).toBe('cancelled');
    const again = await post('operator', `/api/replays/${job.id}/resume`, {});
    expect(again.statusCode).toBe(409);

    const got = await server.call('viewer', { method: 'GET', url: `/api/replays/${job.id}` });
    expect(got.json().status).toBe('cancelled');
    const skips = await server.call('viewer', { method: 'GET', url: `/api/replays/${job.id}/skips` });
    expect(skips.json()).toEqual({ skips: [] });
    const audit = await server.dl.listAudit({ targetId: job.id });
    expect(audit.items.map((e) => [e.action, e.actor])).toEqual([
      ['replay.cancel', 'operator'],
      ['replay.resume', 'operator'],
      ['replay.pause', 'operator'],
      ['replay.create', 'operator'],
    ]);
  });

  it('a created job is run to completion by a runner (the server runs the replay runner service)', async () => {
    const created = await post('operator', '/api/replays', {
      selector: { queue: 'orders', tier: 'transient' },
    });
    const { job } = created.json();
    const run = await server.dl.resumeReplay(job.id);
    expect(run.job.status).toBe('completed');
    const got = (await server.call('viewer', { method: 'GET', url: `/api/replays/${job.id}` })).json();
    expect(got).toMatchObject({ status: 'completed', replayed: 2, planned: 2 });
    const left = await server.call('viewer', {
      method: 'GET',
      url: '/api/dead-letters?queue=orders&tier=transient',
    });
    expect(left.json().items).toEqual([]);
  });
});

describe('discard over the API', () => {
  it('dry-runs, requires a reason, then discards with tombstones and an audit entry', async () => {
    const selector = { queue: 'orders', grep: 'card declined' };
    const dry = await post('operator', '/api/discards', { selector, dryRun: true });
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({ dryRun: true, matched: 3, discarded: 0 });

    const noReason = await post('operator', '/api/discards', { selector });
    expect(noReason.statusCode).toBe(422);
    expect(noReason.json().error.message).toMatch(/reason/);
    expect(
      (await post('viewer', '/api/discards', { selector, reason: 'test', dryRun: true })).statusCode,
    ).toBe(403);

    const done = await post('operator', '/api/discards', { selector, reason: 'card data fixed upstream' });
    expect(done.json()).toMatchObject({
      dryRun: false,
      matched: 3,
      discarded: 3,
      reason: 'card data fixed upstream',
    });
    const audit = await server.dl.listAudit({ action: 'discard' });
    expect(audit.items[0]).toMatchObject({
      actor: 'operator',
      details: expect.objectContaining({ reason: 'card data fixed upstream' }),
    });
  });
});

describe('dead letters: lineage and body edit', () => {
  it('edits a body before replay, keeps the original and answers the changes', async () => {
    const id = (await server.dl.listDeadLetters({ queue: 'emails' })).items[0]?.id as string;
    const edit = await server.call('operator', {
      method: 'PUT',
      url: `/api/dead-letters/${id}/body`,
      payload: { body: { to: 'somebody@example.com' } },
    });
    expect(edit.statusCode).toBe(200);
    expect(edit.json().changes).toEqual([
      { path: 'to', kind: 'changed', before: 'nobody', after: 'somebody@example.com' },
    ]);
    const letter = (await server.call('viewer', { method: 'GET', url: `/api/dead-letters/${id}` })).json();
    expect(letter.body).toEqual({ to: 'somebody@example.com' });
    expect(letter.originalBody).toEqual({ to: 'nobody' });
    const lineage = (
      await server.call('viewer', { method: 'GET', url: `/api/dead-letters/${id}/lineage` })
    ).json();
    expect(lineage.self).toMatchObject({ id, state: 'dead', queue: 'emails' });
    expect(lineage.previous).toBeNull();
  });
});

describe('documentation, doctor and review', () => {
  it("sets and reads a queue's documentation (audited)", async () => {
    const set = await server.call('operator', {
      method: 'PUT',
      url: '/api/queues/emails/docs',
      payload: { owner: 'team-mail', runbook: '# Runbook\n\nCheck the address.' },
    });
    expect(set.statusCode).toBe(200);
    const docs = (await server.call('viewer', { method: 'GET', url: '/api/queues/emails/docs' })).json();
    expect(docs).toMatchObject({
      queue: 'emails',
      owner: 'team-mail',
      runbook: '# Runbook\n\nCheck the address.',
    });
    expect((await server.dl.listAudit({ action: 'queue.docs' })).items[0]?.actor).toBe('operator');
  });

  it('answers the doctor findings and the review report', async () => {
    const doctor = (await server.call('viewer', { method: 'GET', url: '/api/doctor' })).json();
    expect(doctor.queues).toBeGreaterThanOrEqual(2);
    expect(
      doctor.findings.some(
        (f: { code: string; queue: string }) => f.code === 'no_owner' && f.queue === 'orders',
      ),
    ).toBe(true);
    const review = await server.call('viewer', { method: 'GET', url: '/api/review?since=1d' });
    expect(review.statusCode).toBe(200);
    expect(review.json().queues.map((q: { queue: string }) => q.queue)).toContain('orders');
    expect((await server.call('viewer', { method: 'GET', url: '/api/review?since=soon' })).statusCode).toBe(
      422,
    );
  });
});

describe('the dashboard beside the API', () => {
  let ui: { dir: string; remove: () => void };
  let app: ApiApp;
  beforeAll(async () => {
    ui = tempDir('deadletter-ui-');
    mkdirSync(join(ui.dir, 'assets'));
    writeFileSync(join(ui.dir, 'index.html'), '<!doctype html><title>dashboard</title>');
    writeFileSync(join(ui.dir, 'assets', 'app-1234.js'), 'console.log(1)');
    app = Fastify() as unknown as ApiApp;
    registerUi(app, ui.dir);
    app.get('/api/health', async () => ({ status: 'ok' }));
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    ui.remove();
  });

  it('answers index.html for paths outside the API, with a strict Content-Security-Policy', async () => {
    for (const url of ['/', '/queues/orders', '/dead-letters?queue=x']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.body).toContain('<title>dashboard</title>');
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.headers['content-security-policy']).toBe(UI_CSP);
      expect(response.headers['cache-control']).toBe('no-cache');
    }
    expect(UI_CSP).toContain("script-src 'self'");
    expect(UI_CSP).not.toContain('unsafe-inline');
  });

  it('serves built assets with a long cache, and never serves files outside the build', async () => {
    const asset = await app.inject({ method: 'GET', url: '/assets/app-1234.js' });
    expect(asset.body).toBe('console.log(1)');
    expect(asset.headers['cache-control']).toContain('immutable');
    const traversal = await app.inject({ method: 'GET', url: '/assets/..%2f..%2f..%2fetc%2fpasswd' });
    expect(traversal.body).not.toContain('root:');
  });

  it('leaves the API alone: its routes and its 404 for unknown API paths', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/health' })).json()).toEqual({ status: 'ok' });
    expect(
      (await app.inject({ method: 'GET', url: '/api/nothing' })).headers['content-security-policy'],
    ).toBeUndefined();
    expect((await app.inject({ method: 'POST', url: '/queues' })).statusCode).toBe(404);
  });

  it('says how to build it when it is not built', async () => {
    const bare = Fastify() as unknown as ApiApp;
    registerUi(bare, join(ui.dir, 'missing'));
    const response = await bare.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.message).toContain('npm run build:ui');
    await bare.close();
  });
});

describe('the real server serves the dashboard', () => {
  it('at / with the UI policy, and keeps the API policy and JSON 404 under /api', async () => {
    const page = await server.call('none', { method: 'GET', url: '/groups' });
    // Built by the test suite's global setup (test/ui/global-setup.ts).
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<div id="app">');
    expect(page.headers['content-security-policy']).toBe(UI_CSP);
    const api = await server.call('none', { method: 'GET', url: '/api/nothing-here' });
    expect(api.statusCode).toBe(404);
    expect(api.headers['content-security-policy']).toContain("default-src 'none'");
  });
});
