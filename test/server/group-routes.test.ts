import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDlq } from '../cli/harness.ts';
import { type ServerFixture, seedDeadLetters, startServer } from './harness.ts';

let server: ServerFixture;

beforeEach(async () => {
  server = await startServer();
  await seedDeadLetters(server.dl);
});
afterEach(() => server.close());

/** The seeded groups, most dead letters first: card declined (3), upstream 503 (2), invalid address (1). */
async function groupIds(): Promise<string[]> {
  return (await server.dl.listGroups()).map((g) => g.id);
}

describe('POST /api/groups/:id/merge', () => {
  it('merges for an operator, with a dry run first, and lists what was merged', async () => {
    const [card, upstream, address] = await groupIds();
    const dry = await server.call('operator', {
      method: 'POST',
      url: `/api/groups/${card}/merge`,
      payload: { sources: [upstream, address], dryRun: true },
    });
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({ dryRun: true, moved: 3, target: { id: card, count: 6 } });
    expect(await groupIds()).toHaveLength(3);

    const done = await server.call('operator', {
      method: 'POST',
      url: `/api/groups/${card}/merge`,
      payload: { sources: [upstream, address] },
    });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({ dryRun: false, moved: 3, target: { count: 6, deadCount: 6 } });
    expect(await groupIds()).toEqual([card]);
    const merged = await server.call('viewer', { method: 'GET', url: `/api/groups/${card}/merged` });
    expect(
      merged
        .json()
        .groups.map((g: { id: string }) => g.id)
        .sort(),
    ).toEqual([upstream, address].sort());
    const [entry] = (await server.dl.listAudit({ action: 'group.merge' })).items;
    expect(entry).toMatchObject({ actor: 'operator', targetId: card });
    const old = await server.call('viewer', { method: 'GET', url: `/api/groups/${upstream}` });
    expect(old.statusCode).toBe(404);
    expect(old.json().error.message).toBe(`group "${upstream}" was merged into "${card}"`);
  });

  it('answers 403 to a viewer, 400 to a bad body, 404, 409 and 422 to bad merges', async () => {
    const [card, upstream] = await groupIds();
    const merge = (role: 'viewer' | 'operator', target: string, payload: unknown) =>
      server.call(role, { method: 'POST', url: `/api/groups/${target}/merge`, payload: payload as object });
    expect((await merge('viewer', card as string, { sources: [upstream] })).statusCode).toBe(403);
    expect((await merge('operator', card as string, { sources: [] })).statusCode).toBe(400);
    expect((await merge('operator', card as string, { sources: 'x' })).statusCode).toBe(400);
    expect((await merge('operator', card as string, { sources: [card] })).statusCode).toBe(422);
    expect((await merge('operator', 'nope', { sources: [upstream] })).statusCode).toBe(404);
    expect((await merge('operator', card as string, { sources: [upstream] })).statusCode).toBe(200);
    const again = await merge('operator', card as string, { sources: [upstream] });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.message).toContain('already merged');
    expect(await groupIds()).toEqual([card, expect.any(String)]);
  });
});

describe('/api/group-rules', () => {
  const rule = {
    name: 'card-declined',
    queue: 'orders',
    match: { name: 'PermanentError', message: { regex: 'card declined', flags: 'i' } },
    fingerprint: 'card-declined',
  };

  it('lets an admin add and remove rules, a viewer read them, and audits the changes', async () => {
    const created = await server.call('admin', { method: 'POST', url: '/api/group-rules', payload: rule });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ ...rule, createdBy: 'admin' });
    const list = await server.call('viewer', { method: 'GET', url: '/api/group-rules' });
    expect(list.json().rules).toEqual([created.json()]);
    expect(
      (await server.call('operator', { method: 'POST', url: '/api/group-rules', payload: rule })).statusCode,
    ).toBe(403);
    expect(
      (await server.call('admin', { method: 'POST', url: '/api/group-rules', payload: rule })).statusCode,
    ).toBe(409);
    const removed = await server.call('admin', { method: 'DELETE', url: '/api/group-rules/card-declined' });
    expect(removed.statusCode).toBe(200);
    expect(
      (await server.call('admin', { method: 'DELETE', url: '/api/group-rules/card-declined' })).statusCode,
    ).toBe(404);
    const actions = (await server.dl.listAudit({})).items.map((e) => e.action);
    expect(actions.filter((a) => a.startsWith('group_rule.'))).toEqual([
      'group_rule.remove',
      'group_rule.create',
    ]);
  });

  it('answers 400 to a bad regex or an empty match, 404 to an unknown queue', async () => {
    const post = (payload: object) =>
      server.call('admin', { method: 'POST', url: '/api/group-rules', payload });
    const badRegex = await post({ ...rule, match: { message: { regex: '(unclosed' } } });
    expect(badRegex.statusCode).toBe(400);
    expect(badRegex.json().error.message).toContain('invalid message regex');
    expect((await post({ ...rule, match: {} })).statusCode).toBe(400);
    expect((await post({ ...rule, queue: 'nope' })).statusCode).toBe(404);
    expect((await server.dl.listGroupRules()).length).toBe(0);
  });
});

describe('dlq group merge and dlq group rule through --server', () => {
  it('merge as the operator token, rules as the admin token; the audit log names the tokens', async () => {
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
    const dlq = (role: 'viewer' | 'operator' | 'admin', args: string[]) =>
      runDlq(['--server', url, '--token', server.tokens[role], ...args]);
    const [card, upstream] = await groupIds();
    const dry = await dlq('operator', [
      'group',
      'merge',
      card as string,
      upstream as string,
      '--dry-run',
      '--json',
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, moved: 2 });
    expect((await dlq('viewer', ['group', 'merge', card as string, upstream as string])).code).toBe(2);
    const merged = await dlq('operator', ['group', 'merge', card as string, upstream as string]);
    expect(merged.stdout).toContain(`merged 1 group into ${card}: 2 dead letters moved`);
    const shown = await dlq('viewer', ['group', 'show', card as string]);
    expect(shown.stdout).toMatch(new RegExp(`merged in\\s+${upstream}`));

    const add = await dlq('admin', [
      'group',
      'rule',
      'add',
      '--name',
      'card',
      '--message-contains',
      'card declined',
      '--fingerprint',
      'card',
      '--json',
    ]);
    expect(add.code, add.stderr).toBe(0);
    const badRegex = await dlq('admin', [
      'group',
      'rule',
      'add',
      '--name',
      'x',
      '--message-matches',
      '(',
      '--fingerprint',
      'x',
    ]);
    expect(badRegex.code).toBe(2);
    expect(badRegex.stderr).toContain('invalid message regex');
    expect(JSON.parse((await dlq('viewer', ['group', 'rule', 'list', '--json'])).stdout)).toHaveLength(1);
    expect((await dlq('operator', ['group', 'rule', 'remove', 'card'])).code).toBe(2);
    expect((await dlq('admin', ['group', 'rule', 'remove', 'card'])).code).toBe(0);
    const actors = (await server.dl.listAudit({})).items
      .filter((e) => e.action === 'group.merge' || e.action.startsWith('group_rule.'))
      .map((e) => [e.action, e.actor]);
    expect(actors).toEqual([
      ['group_rule.remove', 'admin'],
      ['group_rule.create', 'admin'],
      ['group.merge', 'operator'],
    ]);
  });
});
