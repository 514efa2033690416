import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchemas, storeUrl, tempSchema } from '../store/postgres-schema.ts';
import { tempDir } from '../support/temp-dir.ts';

const BIN = resolve('bin/dlq.js');

interface Served {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Spawns `dlq serve` and resolves once it printed its URL, as text or JSON (or rejects with what it printed). */
function serve(args: string[], cwd: string): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--log-level', 'warn', ...args], {
    cwd,
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return new Promise((done, fail) => {
    const check = () => {
      // Everything is printed once listening: the text ends with the stop hint, the JSON with `}`.
      const complete = out.includes('Stop with Ctrl-C or SIGTERM.') || /^}$/m.test(out);
      const url = /(?:Deadletter API on |"url": ")(http:\/\/[0-9.]+:\d+)/.exec(out)?.[1];
      if (complete && url) {
        child.stdout?.off('data', check);
        done({ child, url, stdout: () => out, stderr: () => err, exited });
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => fail(new Error(`dlq serve exited ${code}:\n${out}\n${err}`)));
  });
}

/** Whether a TCP port on 127.0.0.1 can be bound (nothing listens there any more). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
  });
}

/** Sends raw bytes to the server and resolves with everything it answers before closing. */
function rawRequest(url: URL, text: string): Promise<string> {
  return new Promise((done, fail) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(text));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', fail);
    socket.on('close', () => done(answer));
  });
}

let dir: string;
let remove: () => void;
beforeAll(() => {
  ({ dir, remove } = tempDir('dlq-serve-'));
});
afterAll(() => remove());

describe('dlq serve (a real process)', () => {
  it('loads the demo into an empty store, prints the URL and a working admin token, stops on SIGTERM with exit 0', async () => {
    const tokenFile = join(dir, 'admin-token');
    const served = await serve(['--store', 'sqlite:./demo.db', '--admin-token-file', tokenFile], dir);
    try {
      const printed = /admin token "admin" \(shown once; keep it\): (dlq_\S+)/.exec(served.stdout())?.[1];
      expect(printed).toMatch(/^dlq_/);
      expect(readFileSync(tokenFile, 'utf8').trim()).toBe(printed);
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);

      const health = await fetch(`${served.url}/api/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });

      const auth = { authorization: `Bearer ${printed}` };
      expect((await fetch(`${served.url}/api/stats`)).status).toBe(401);
      const stats = await fetch(`${served.url}/api/stats`, { headers: auth });
      expect(stats.status).toBe(200);
      const { queues } = (await stats.json()) as { queues: { queue: string; dead: number }[] };
      expect(queues.map((q) => q.queue)).toEqual(['demo.emails', 'demo.payments', 'demo.webhooks']);
      expect(queues.reduce((sum, q) => sum + q.dead, 0)).toBeGreaterThan(0);
      const groups = await fetch(`${served.url}/api/groups`, { headers: auth });
      expect(((await groups.json()) as { groups: unknown[] }).groups.length).toBeGreaterThan(0);
    } finally {
      served.child.kill('SIGTERM');
    }
    expect(await served.exited).toBe(0);
    expect(served.stdout()).toContain('Stop with Ctrl-C or SIGTERM.');
    const port = Number(new URL(served.url).port);
    expect(await portIsFree(port)).toBe(true);
  });

  it('on a second start keeps the data, creates no token and prints none', async () => {
    const served = await serve(['--store', 'sqlite:./demo.db', '--json'], dir);
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
    const printed = JSON.parse(served.stdout().slice(0, served.stdout().lastIndexOf('}') + 1)) as {
      url: string;
      adminToken: unknown;
    };
    expect(printed.adminToken).toBeNull();
    expect(served.stdout()).not.toMatch(/dlq_/);
  });

  it('skips the demo with --no-demo', async () => {
    const served = await serve(['--store', 'sqlite:./empty.db', '--no-demo'], dir);
    const token = /keep it\): (dlq_\S+)/.exec(served.stdout())?.[1];
    try {
      const stats = await fetch(`${served.url}/api/stats`, { headers: { authorization: `Bearer ${token}` } });
      expect(await stats.json()).toEqual({ queues: [] });
    } finally {
      served.child.kill('SIGTERM');
    }
    expect(await served.exited).toBe(0);
  });

  it('serves a PostgreSQL store, and answers a malformed HTTP request in the API error format', async () => {
    const schema = tempSchema('dlserve');
    const served = await serve(['--store', storeUrl(schema), '--no-demo'], dir);
    try {
      const token = /keep it\): (dlq_\S+)/.exec(served.stdout())?.[1];
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const created = await fetch(`${served.url}/api/queues`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'pg-queue' }),
      });
      expect(created.status).toBe(201);
      const stats = await fetch(`${served.url}/api/stats`, { headers });
      expect(((await stats.json()) as { queues: { queue: string }[] }).queues.map((q) => q.queue)).toEqual([
        'pg-queue',
      ]);
      const raw = await rawRequest(
        new URL(served.url),
        'GET /api/stats HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
      );
      expect(raw).toMatch(/^HTTP\/1\.1 400 /);
      expect(raw).toContain('{"error":{"code":"bad_request","message":"malformed HTTP request"}}');
    } finally {
      served.child.kill('SIGTERM');
      await served.exited.catch(() => undefined);
      await dropSchemas(schema);
    }
    expect(await served.exited).toBe(0);
  });

  it('refuses a port in use with exit 2 and one line', async () => {
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const port = (blocker.address() as { port: number }).port;
    try {
      const child = spawn(
        process.execPath,
        [BIN, 'serve', '--port', String(port), '--store', 'sqlite:./empty.db'],
        {
          cwd: dir,
          env: { PATH: process.env.PATH },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let err = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        err += chunk.toString('utf8');
      });
      const code = await new Promise<number | null>((done) => child.on('exit', done));
      expect(code).toBe(2);
      expect(err).toContain(`dlq: port ${port} on 127.0.0.1 is in use: pick another with --port`);
    } finally {
      await new Promise((done) => blocker.close(done));
    }
  });
});
