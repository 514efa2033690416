import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDlq } from '../cli/harness.ts';
import { type ServerFixture, seedDeadLetters, startServer } from './harness.ts';

/** The CLI with `--server URL --token T` against a server listening on a real port. */

let server: ServerFixture;
let url: string;

beforeAll(async () => {
  server = await startServer();
  await seedDeadLetters(server.dl);
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

/** `dlq --json <args>` through the server with the token of `role`. */
function remote(args: string[], role: 'viewer' | 'operator' | 'admin' = 'admin', extra: string[] = []) {
  return runDlq(['--server', url, '--token', server.tokens[role], ...extra, ...args]);
}

/** `dlq --json <args>` on the store itself, for comparison. */
function local(args: string[]) {
  return runDlq(['--store', server.storeUrl, ...args]);
}

describe('dlq --server', () => {
  it('lists, shows, groups and stats exactly as on the store', async () => {
    const someId = (await server.dl.listDeadLetters({ queue: 'orders', limit: 1 })).items[0]?.id as string;
    const groupId = (await server.dl.listGroups())[0]?.id as string;
    for (const args of [
      ['list', '--json', '--queue', 'orders', '--limit', '2'],
      ['list', '--json', '--where', 'body.customer.country=DE'],
      ['list', '--json', '--tier', 'transient', '--since', '1h'],
      ['show', '--json', someId],
      ['groups', '--json', '--sort', 'last-seen'],
      ['group', 'show', '--json', groupId],
      ['queue', 'list', '--json'],
    ]) {
      const [viaServer, viaStore] = await Promise.all([remote(args, 'viewer'), local(args)]);
      expect(viaServer.stderr, args.join(' ')).toBe('');
      expect(viaServer.code, args.join(' ')).toBe(0);
      const fromServer = JSON.parse(viaServer.stdout);
      const fromStore = JSON.parse(viaStore.stdout);
      expect(fromServer, args.join(' ')).toEqual(fromStore);
    }
    const stats = await remote(['stats', '--json'], 'viewer');
    expect(JSON.parse(stats.stdout)).toEqual(JSON.parse((await local(['stats', '--json'])).stdout));
    const page = JSON.parse((await remote(['list', '--json', '--limit', '2'], 'viewer')).stdout);
    const next = await remote(['list', '--json', '--limit', '2', '--cursor', page.nextCursor], 'viewer');
    expect(JSON.parse(next.stdout).items[0].id).not.toBe(page.items[0].id);
  });

  it('prints the same human tables', async () => {
    const viaServer = await remote(['groups'], 'viewer');
    expect(viaServer.code).toBe(0);
    // Relative times ("45s ago") may tick between the two runs: compare them as placeholders.
    const relative = (text: string) => text.replace(/\b(?:just now|\d+[smhd] ago|in \d+[smhd])/g, '<when>');
    expect(relative(viaServer.stdout)).toBe(relative((await local(['groups'])).stdout));
  });

  it('creates and updates queues, sends and triages groups, as the token’s name in the audit log', async () => {
    const created = await remote(['queue', 'create', 'remote-q', '--max-receives', '2', '--json'], 'admin');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'remote-q', maxReceives: 2 });
    expect((await remote(['queue', 'update', 'remote-q', '--retention', '30d'], 'admin')).code).toBe(0);
    expect((await server.dl.getQueue('remote-q')).retentionDays).toBe(30);

    const sent = await runDlq(
      ['--server', url, '--token', server.tokens.operator, 'send', 'remote-q', '--json'],
      {
        stdin: '{"n":1}\n{"n":2}\n',
      },
    );
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout)).toHaveLength(2);
    expect((await server.dl.stats()).find((s) => s.queue === 'remote-q')?.waiting).toBe(2);

    const groupId = (await server.dl.listGroups())[0]?.id as string;
    const acked = await remote(['group', 'ack', groupId], 'operator', ['--actor', 'someone-else']);
    expect(acked.code).toBe(0);
    expect(acked.stdout).toBe(`group ${groupId} is now acknowledged\n`);
    const audit = await server.dl.listAudit({ action: 'group.status', limit: 1 });
    expect(audit.items[0]).toMatchObject({ actor: 'operator', targetId: groupId });
    const queueAudit = await server.dl.listAudit({ targetId: 'remote-q', limit: 5 });
    expect(queueAudit.items.map((e) => e.actor)).toEqual(['admin', 'admin']);
  });

  it('takes the server and token from DEADLETTER_SERVER and DEADLETTER_TOKEN', async () => {
    const result = await runDlq(['stats', '--json'], {
      env: { DEADLETTER_SERVER: url, DEADLETTER_TOKEN: server.tokens.viewer },
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).length).toBeGreaterThan(0);
  });

  it('maps refusals to the usual exit codes, with one line on stderr', async () => {
    const forbidden = await remote(['queue', 'create', 'nope'], 'viewer');
    expect(forbidden.code).toBe(2);
    expect(forbidden.stderr).toMatch(
      /^dlq: the server refused the token: token "viewer" has role viewer; this needs admin\n$/,
    );
    const badToken = await runDlq(['--server', url, '--token', 'dlq_wrong', 'stats']);
    expect(badToken.code).toBe(2);
    const missing = await remote(['show', 'no-such-id'], 'viewer');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('unknown dead letter');
    const conflict = await remote(['queue', 'create', 'orders'], 'admin');
    expect(conflict.code).toBe(2);
    const invalid = await remote(['queue', 'create', 'q-bad', '--backoff', 'sometimes'], 'admin');
    expect(invalid.code).toBe(2);
  });

  it('refuses commands that need the store, a server without a token, and a bad URL (exit 2)', async () => {
    const replay = await remote(['demo'], 'admin');
    expect(replay.code).toBe(2);
    expect(replay.stderr).toMatch(/needs the store and cannot go through --server/);
    const noToken = await runDlq(['--server', url, 'stats']);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/--server needs a token/);
    const badUrl = await runDlq(['--server', 'ftp://x', '--token', 't', 'stats']);
    expect(badUrl.code).toBe(2);
  });

  it('fails with exit 1 when the server cannot be reached', async () => {
    const closed = await runDlq(['--server', 'http://127.0.0.1:1', '--token', 't', 'stats']);
    expect(closed.code).toBe(1);
    expect(closed.stderr).toMatch(/^dlq: cannot reach the server at http:\/\/127\.0\.0\.1:1/);
  });
});
