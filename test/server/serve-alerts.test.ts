import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { killOne } from '../../src/store/conformance/fixtures.ts';
import { openStore } from '../../src/store/open.ts';
import { runDlq } from '../cli/harness.ts';
import { type AlertReceiver, startAlertReceiver } from '../engine/fixtures/alert-receiver.ts';
import { tempDir } from '../support/temp-dir.ts';

const BIN = resolve('bin/dlq.js');

let tmp: ReturnType<typeof tempDir>;
let hook: AlertReceiver;
let review: AlertReceiver;
let child: ChildProcess | undefined;

beforeEach(async () => {
  tmp = tempDir('dlq-serve-alerts-');
  hook = await startAlertReceiver({ failFirst: 1 });
  review = await startAlertReceiver();
});

afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((done) => child?.once('exit', done));
    child.kill('SIGKILL');
    await exited;
  }
  child = undefined;
  await hook.close();
  await review.close();
  tmp.remove();
});

/** Resolves once `check` holds, polling every 100 ms (no time is asserted: the test's timeout bounds it). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((done) => setTimeout(done, 100));
}

describe('dlq serve runs the alerts (a real process)', () => {
  it('evaluates the rules, delivers with a retry, sends the scheduled review, and stops cleanly', {
    timeout: 60_000,
  }, async () => {
    const store = `sqlite:${join(tmp.dir, 'dl.db')}`;
    const env = { DEADLETTER_STORE: store };
    expect((await runDlq(['queue', 'create', 'orders'], { env, cwd: tmp.dir })).code).toBe(0);
    const add = await runDlq(
      [
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
        '0',
        '--webhook',
        hook.url,
      ],
      { env, cwd: tmp.dir },
    );
    expect(add.code, add.stderr).toBe(0);
    const opened = await openStore(store);
    await killOne(opened, { queue: 'orders', diedAt: Date.now() - 1_000 });
    await opened.close();

    const spawned = spawn(
      process.execPath,
      [
        BIN,
        'serve',
        '--port',
        '0',
        '--log-level',
        'warn',
        '--no-demo',
        '--store',
        store,
        '--alert-interval',
        '1s',
        '--review-webhook',
        review.url,
        '--review-every',
        '1d',
      ],
      { cwd: tmp.dir, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = spawned;
    let err = '';
    spawned.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((done) => spawned.on('exit', (code) => done(code)));

    // The first delivery gets a 500; the retry (after its backoff of 5-10 s) is accepted.
    await until(() => hook.accepted().length >= 1 && review.accepted().length >= 1);
    expect(hook.requests.length).toBeGreaterThanOrEqual(2);
    expect(hook.accepted()[0]?.body).toMatchObject({
      event: 'fired',
      rule: 'orders-depth',
      queue: 'orders',
      value: 1,
    });
    expect(review.accepted()[0]?.body).toMatchObject({ event: 'review', report: { totals: { depth: 1 } } });

    spawned.kill('SIGTERM');
    expect(await exited, err).toBe(0);
    const history = await runDlq(['alert', 'list', '--json'], { env, cwd: tmp.dir });
    const [alert] = JSON.parse(history.stdout) as {
      state: string;
      deliveries: { status: string; attempts: number }[];
    }[];
    expect(alert?.state).toBe('firing');
    expect(alert?.deliveries).toMatchObject([{ status: 'delivered', attempts: 2 }]);
  });
});
