import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); the tests never download a browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const BIN = resolve('bin/dlq.js');

/** A real `dlq serve` process on a store, listening on a free port of 127.0.0.1. */
export interface ServedProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Spawns `dlq serve --port 0` on `store` (with `--no-demo` unless `demo`, and `args`) and
 * resolves once it printed its URL.
 */
export function startServe(
  store: string,
  cwd: string,
  options: { demo?: boolean; args?: string[] } = {},
): Promise<ServedProcess> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--store',
      store,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      ...(options.demo ? [] : ['--no-demo']),
      '--log-level',
      'warn',
      ...(options.args ?? []),
    ],
    { cwd, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const collect = (chunk: Buffer) => {
    out += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  return new Promise((done, fail) => {
    const check = () => {
      const url = /Deadletter API on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (url) {
        child.stdout?.off('data', check);
        done({ url, child, output: () => out, stop });
      }
    };
    child.stdout?.on('data', check);
    void exited.then(() => fail(new Error(`dlq serve exited ${child.exitCode}:\n${out}`)));
  });
}

/** A headless Chromium with a fresh profile directory, removed on close. */
export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Dialogs (alert, confirm) the pages opened: a script from a message would show here. */
  dialogs: string[];
  /** Console errors and page errors, e.g. Content-Security-Policy refusals. */
  errors: string[];
  close: () => Promise<void>;
}

export async function launchBrowser(
  options: { width?: number; height?: number; dark?: boolean } = {},
): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium)`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'deadletter-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    colorScheme: options.dark ? 'dark' : 'light',
  });
  const dialogs: string[] = [];
  const errors: string[] = [];
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return {
    context,
    page,
    dialogs,
    errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in on the login screen with a token and waits for the dashboard. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('header.top').waitFor();
}
