import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.ts';
import { runDlq } from './harness.ts';

const BIN = resolve('bin/dlq.js');

interface Spawned {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real binary in a child process, with `input` on its stdin. */
function spawnDlq(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string },
): Promise<Spawned> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: options.cwd, env: { PATH: process.env.PATH, ...options.env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? -1 : 0;
        done({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

let dir: string;
let remove: () => void;
beforeAll(() => {
  ({ dir, remove } = tempDir('dlq-bin-'));
});
afterAll(() => remove());

describe('bin/dlq.js', () => {
  it('prints help and exits 0', async () => {
    const result = await spawnDlq(['--help'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: dlq \[options\] \[command\]/);
  });

  it('exits 2 with one line on stderr for bad usage', async () => {
    const result = await spawnDlq(['stats', '--verbose'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("dlq: unknown option '--verbose'\n");
  });

  it('reads stdin, runs a .ts handler and prints stats', async () => {
    const env = { DEADLETTER_STORE: 'sqlite:./bin-store.db' };
    // Set up in-process (fast); what follows goes through the binary.
    expect((await runDlq(['queue', 'create', 'jobs', '--max-receives', '1'], { cwd: dir, env })).code).toBe(
      0,
    );
    const sent = await spawnDlq(['send', 'jobs', '--json'], {
      cwd: dir,
      env,
      input: '{"ok":true}\n{"ok":false}\n',
    });
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout)).toHaveLength(2);
    const errorsModule = pathToFileURL(resolve('src/core/errors.ts')).href;
    // As in a user's project: TypeScript handlers with import/export live in an ESM package.
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(
      join(dir, 'handler.ts'),
      `import { PermanentError } from ${JSON.stringify(errorsModule)};
export default (message: { body: { ok: boolean } }): void => {
  if (!message.body.ok) throw new PermanentError('not ok');
};
`,
    );
    const worked = await spawnDlq(['work', 'jobs', '--handler', 'handler.ts', '--drain', '--json'], {
      cwd: dir,
      env,
    });
    expect(worked.code).toBe(0);
    expect(JSON.parse(worked.stdout)).toMatchObject({ counters: { completed: 1, deadLettered: 1 } });
    const stats = await spawnDlq(['stats', '--json'], { cwd: dir, env });
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toEqual([
      expect.objectContaining({ queue: 'jobs', waiting: 0, done: 1, dead: 1 }),
    ]);
  });

  it('stops a worker gracefully on SIGTERM and exits 0 with its summary', async () => {
    const env = { DEADLETTER_STORE: 'sqlite:./bin-store.db' };
    writeFileSync(join(dir, 'idle.mjs'), 'export default async () => {};\n');
    const child = spawn(process.execPath, [BIN, 'work', 'jobs', '--handler', 'idle.mjs', '--json'], {
      cwd: dir,
      env: { PATH: process.env.PATH, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    // Under --json the progress line goes to stderr; the signal is sent once the worker runs.
    await new Promise<void>((started) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('on queue jobs')) started();
      });
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ queue: 'jobs', stoppedBy: 'shutdown' });
  });
});
