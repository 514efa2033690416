import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveDay } from '../../src/core/archive-record.ts';
import type { ReplayJob } from '../../src/core/replay.ts';
import { killOne } from '../../src/store/conformance/fixtures.ts';
import { type ServerFixture, seedDeadLetters, startServer } from '../server/harness.ts';
import { type RunOptions, runDlq } from './harness.ts';

/**
 * Every command that has an API route, run with `--server URL --token T` against a server on a
 * real port: the same result as on the store, the token's name in the audit log.
 */

let server: ServerFixture;
let url: string;
let cardGroup: string;

beforeAll(async () => {
  server = await startServer();
  await seedDeadLetters(server.dl);
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
  const groups = await server.dl.listGroups({ queue: 'orders' });
  cardGroup = groups.find((g) => g.errorName === 'PermanentError')?.id as string;
});
afterAll(() => server.close());

type Role = 'viewer' | 'operator' | 'admin';

function remote(args: string[], role: Role = 'admin', options: RunOptions = {}) {
  return runDlq(['--server', url, '--token', server.tokens[role], ...args], options);
}

async function remoteJson<T>(args: string[], role: Role = 'admin'): Promise<T> {
  const result = await remote([...args, '--json'], role);
  expect(result.stderr, args.join(' ')).toBe('');
  expect(result.code, args.join(' ')).toBe(0);
  return JSON.parse(result.stdout) as T;
}

function local(args: string[]) {
  return runDlq(['--store', server.storeUrl, '--archive-dir', server.archiveDir, ...args]);
}

describe('dlq --server: the rest of the commands', () => {
  it('reads docs, audit, doctor, review and dry runs exactly as on the store', async () => {
    for (const [args, role] of [
      [['docs', 'show', 'orders', '--json'], 'viewer'],
      [['audit', '--json', '--limit', '5'], 'viewer'],
      [['doctor', '--json'], 'viewer'],
      [['review', '--json', '--since', '2026-01-01T00:00:00Z', '--until', '2030-01-01T00:00:00Z'], 'viewer'],
      [['replay', '--dry-run', '--json', '--queue', 'orders'], 'viewer'],
      [['discard', '--dry-run', '--json', '--group', cardGroup], 'operator'],
      // Selectors travel as the API's JSON selector: a number stays a number, a string a string.
      [
        [
          'replay',
          '--dry-run',
          '--json',
          '--where',
          'body.customer.country=DE',
          '--since',
          '2020-01-01T00:00:00Z',
        ],
        'viewer',
      ],
      [['discard', '--dry-run', '--json', '--where', 'body.n=2', '--tier', 'permanent'], 'operator'],
      [['discard', '--dry-run', '--json', '--where', 'body.n="2"'], 'operator'],
    ] as [string[], Role][]) {
      const [viaServer, viaStore] = await Promise.all([remote(args, role), local(args)]);
      expect(viaServer.stderr, args.join(' ')).toBe(viaStore.stderr);
      expect(viaServer.code, args.join(' ')).toBe(viaStore.code);
      const [fromServer, fromStore] = [JSON.parse(viaServer.stdout), JSON.parse(viaStore.stdout)];
      // The doctor says when it looked.
      if (args[0] === 'doctor') fromServer.checkedAt = fromStore.checkedAt;
      expect(fromServer, args.join(' ')).toEqual(fromStore);
    }
    const matched = (where: string) =>
      remoteJson<{ matched: number }>(['discard', '--dry-run', '--where', where], 'operator');
    expect((await matched('body.n=2')).matched).toBe(1);
    expect((await matched('body.n="2"')).matched).toBe(0);
    // The human output too (up to the samples, whose "died ... ago" may tick between the two runs).
    const args = ['replay', '--dry-run', '--group', cardGroup];
    const head = (text: string) => text.slice(0, text.indexOf('samples:'));
    const viaServer = (await remote(args, 'viewer')).stdout;
    expect(viaServer).toContain('would replay 3 dead letters');
    expect(head(viaServer)).toBe(head((await local(args)).stdout));
  });

  it('sets docs and edits a body as the token, and refuses a viewer (exit 2)', async () => {
    const docs = await remoteJson<{ owner: string }>(
      ['docs', 'set', 'orders', '--owner', 'team-pay'],
      'operator',
    );
    expect(docs.owner).toBe('team-pay');
    const id = (await server.dl.listDeadLetters({ groupId: cardGroup, limit: 1 })).items[0]?.id as string;
    const edited = await remoteJson<{ changes: unknown[]; previousBody: { n: number } }>(
      ['edit', id, '--body', '{"n":100,"kind":"card"}'],
      'operator',
    );
    expect(edited.changes.length).toBeGreaterThan(0);
    expect(edited.previousBody.n).toBeLessThan(100);
    expect((await server.dl.getDeadLetter(id)).body).toEqual({ n: 100, kind: 'card' });
    const audit = await remoteJson<{ items: { action: string; actor: string }[] }>(
      ['audit', '--actor', 'operator'],
      'viewer',
    );
    expect(audit.items.map((e) => e.action)).toEqual(['dead_letter.edit', 'queue.docs']);

    const refused = await remote(['edit', id, '--body', '{}'], 'viewer');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^dlq: the server refused the token: .*needs operator\n$/);
  });

  it('manages alert rules (add, list, update, remove) and lists the history through the server', async () => {
    const added = await remoteJson<{ name: string; enabled: boolean }>([
      'alert',
      'rule',
      'add',
      '--name',
      'orders-depth',
      '--queue',
      'orders',
      '--kind',
      'depth',
      '--threshold',
      '100',
      '--log',
    ]);
    expect(added).toMatchObject({ name: 'orders-depth', enabled: true });
    const updated = await remoteJson<{ threshold: number; enabled: boolean; cooldownMs: number }>([
      'alert',
      'rule',
      'update',
      'orders-depth',
      '--threshold',
      '5',
      '--cooldown',
      '1h',
      '--disable',
    ]);
    expect(updated).toMatchObject({ threshold: 5, enabled: false, cooldownMs: 3_600_000 });
    const listed = await remote(['alert', 'rule', 'list']);
    expect(listed.stdout).toMatch(/orders-depth\s+orders\s+depth > 5\s+log\s+disabled/);
    const [entry] = (await server.dl.listAudit({ action: 'alert_rule.update', limit: 1 })).items;
    expect(entry?.actor).toBe('admin');

    const nothing = await remote(['alert', 'rule', 'update', 'orders-depth']);
    expect([nothing.code, nothing.stderr]).toEqual([2, expect.stringMatching(/^dlq: nothing to change/)]);
    const missing = await remote(['alert', 'rule', 'update', 'nope', '--enable']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no alert rule "nope"');
    const viewer = await remote(['alert', 'rule', 'list'], 'viewer');
    expect(viewer.code).toBe(2);

    expect(await remoteJson<unknown[]>(['alert', 'list'], 'viewer')).toEqual([]);
    expect((await remote(['alert', 'rule', 'remove', 'orders-depth'])).code).toBe(0);
    expect(await server.dl.store.alertRuleList()).toEqual([]);
  });

  it('creates, lists and revokes tokens through the server (admin)', async () => {
    const created = await remoteJson<{ token: { name: string }; secret: string }>([
      'token',
      'create',
      '--name',
      'ci-bot',
      '--role',
      'viewer',
    ]);
    expect(created.token.name).toBe('ci-bot');
    expect((await runDlq(['--server', url, '--token', created.secret, 'stats'])).code).toBe(0);
    const tokens = await remoteJson<{ name: string }[]>(['token', 'list']);
    expect(tokens.map((t) => t.name)).toContain('ci-bot');
    expect((await remote(['token', 'revoke', 'ci-bot'])).code).toBe(0);
    expect((await runDlq(['--server', url, '--token', created.secret, 'stats'])).code).toBe(2);
  });

  it('runs retention and lists, reads and imports archives on the server', async () => {
    const noon = Math.floor((Date.now() - 20 * 86_400_000) / 86_400_000) * 86_400_000 + 43_200_000;
    const old = await killOne(server.dl.store, { queue: 'emails', diedAt: noon, groupId: 'old-group' });
    const dry = await remoteJson<{ dryRun: boolean; dead: number }>(['retention', 'run', '--dry-run']);
    expect(dry).toMatchObject({ dryRun: true, dead: 1 });
    const run = await remote(['retention', 'run']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('archived 1 dead letters');

    const file = `emails/${archiveDay(noon)}.jsonl.gz`;
    const list = await remote(['archive', 'list'], 'viewer');
    expect(list.stdout).toContain(file);
    expect(list.stdout).toContain('1 files, 1 records in the server');
    const read = await remote(['archive', 'read', file, '--json'], 'viewer');
    expect(
      read.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).id),
    ).toEqual([old]);
    // The same file read on the store's side, line for line.
    const lines = (text: string) =>
      text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
    expect(lines(read.stdout)).toEqual(lines((await local(['archive', 'read', file, '--json'])).stdout));

    expect((await remote(['archive', 'import', file], 'operator')).code).toBe(2);
    const imported = await remoteJson<{ restored: number }>(['archive', 'import', file]);
    expect(imported.restored).toBe(1);
    expect((await server.dl.getDeadLetter(old)).id).toBe(old);
    const again = await remoteJson<{ restored: number; skipped: { dead: number } }>([
      'archive',
      'import',
      file,
    ]);
    expect(again).toMatchObject({ restored: 0, skipped: { dead: 1 } });
    const outside = await remote(['archive', 'read', '../../etc/passwd'], 'viewer');
    expect(outside.code).toBe(2);
  });

  it('replays through the server: detached, then status, pause, resume and cancel by id', async () => {
    const created = await remoteJson<{ job: ReplayJob }>(
      ['replay', '--group', cardGroup, '--detach'],
      'operator',
    );
    expect(created.job.status).toBe('pending');
    const id = created.job.id;
    const status = await remoteJson<{ job: ReplayJob; skipped: unknown[] }>(
      ['replay', 'status', id],
      'viewer',
    );
    expect(status.job).toMatchObject({ id, status: 'pending' });
    const listed = await remoteJson<ReplayJob[]>(['replay', 'list', '--status', 'pending'], 'viewer');
    expect(listed.map((j) => j.id)).toContain(id);
    expect(await remoteJson<ReplayJob[]>(['replay', 'list', '--status', 'failed'], 'viewer')).toEqual([]);

    expect((await remoteJson<ReplayJob>(['replay', 'pause', id], 'operator')).status).toBe('paused');
    const resumed = await remoteJson<{ job: ReplayJob }>(['replay', 'resume', id, '--detach'], 'operator');
    expect(resumed.job.status).toBe('pending');
    expect((await remoteJson<ReplayJob>(['replay', 'cancel', id], 'operator')).status).toBe('cancelled');
    const [entry] = (await server.dl.listAudit({ action: 'replay.cancel', limit: 1 })).items;
    expect(entry?.actor).toBe('operator');
  });

  it('follows a replay the server runs until it ends, and Ctrl-C pauses it', async () => {
    // The test server runs no maintenance: play the replay runner once the job exists.
    const following = remote(['replay', '--queue', 'orders', '--tier', 'transient', '--json'], 'operator');
    let job: ReplayJob | undefined;
    while (!job) {
      job = (await server.dl.listReplayJobs({ status: 'pending' }))[0];
      if (!job) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await server.dl.resumeReplay(job.id);
    const result = await following;
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).job).toMatchObject({ id: job.id, status: 'completed', replayed: 2 });

    // Nobody runs this one: Ctrl-C pauses it and the command exits 1, saying how to resume.
    const shutdown = new EventEmitter();
    const interrupted = remote(['replay', '--queue', 'emails'], 'operator', { shutdown });
    let pending: ReplayJob | undefined;
    while (!pending) {
      pending = (await server.dl.listReplayJobs({ status: 'pending' }))[0];
      if (!pending) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    shutdown.emit('shutdown');
    const stopped = await interrupted;
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toContain(`dlq replay resume ${pending.id}`);
    expect((await server.dl.getReplayJob(pending.id)).status).toBe('paused');
  });

  it('refuses only the commands that need the store (exit 2)', async () => {
    for (const args of [['migrate'], ['work', 'orders', '--handler', 'x.js'], ['serve'], ['demo']]) {
      const result = await remote(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/needs the store and cannot go through --server/);
    }
    // And `dlq serve` checks how long it keeps the alert history before it starts.
    const short = await runDlq(['serve', '--alert-history', '10m', '--store', server.storeUrl]);
    expect([short.code, short.stderr]).toEqual([
      2,
      'dlq: invalid --alert-history: use at least 1h, or 0 to keep alerts forever\n',
    ]);
  });
});
