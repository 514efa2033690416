import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { MalformedError, PermanentError, TransientError } from '../../src/core/errors.ts';
import { createApiToken } from '../../src/engine/api-tokens.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import type { Worker } from '../../src/engine/worker.ts';
import { tempDir } from '../support/temp-dir.ts';
import { type Browser, launchBrowser, type ServedProcess, startServe } from './harness.ts';

/**
 * The dashboard's end-to-end fixture: a seeded temporary SQLite store, a real `dlq serve` on
 * it, the service's own workers in this process, and Debian's Chromium. Messages and a runbook
 * carry script payloads. With DEADLETTER_SCREENSHOTS=<dir> (`npm run screenshots`), `shot`
 * saves the main pages there.
 */

/** A script that would set `window.__xss` (or open a dialog) if any of it ran. */
export const XSS_IMG = '<img src=x onerror="window.__xss=1;alert(1)">';
export const XSS_SCRIPT = '<script>window.__xss=1;alert(2)</script>';
export const XSS_SVG = '<svg onload="window.__xss=1">';
export const XSS_RUNBOOK = [
  '# Orders runbook',
  '',
  '1. Check the **card processor** status page.',
  '2. Replay the `transient` groups once it is green.',
  '',
  XSS_SCRIPT,
  '',
  XSS_IMG,
  '',
  '[looks harmless](javascript:window.__xss=1)',
].join('\n');

export const CARD_ORDERS = 12;
export const EVIL_ORDERS = 3;
export const WEBHOOKS = 6;
const shotsDir = process.env.DEADLETTER_SCREENSHOTS ? resolve(process.env.DEADLETTER_SCREENSHOTS) : undefined;

export interface Dashboard {
  dir: string;
  store: string;
  served: ServedProcess;
  /** A handle of the service: its workers (orders succeed after the "fix") and direct checks. */
  workers: Deadletter;
  tokens: { operator: string; viewer: string };
  browser: Browser;
  close: () => Promise<void>;
}

/** Seeds the store: two queues, three groups of dead letters (one full of script payloads), docs, history. */
async function seed(store: string): Promise<{ operator: string; viewer: string }> {
  const dl = await Deadletter.open({ store, maintenance: false, actor: 'seed' });
  try {
    await dl.createQueue('orders', { maxReceives: 1, backoff: 'fixed:0' });
    await dl.createQueue('emails', { maxReceives: 1, backoff: 'fixed:0', retention: '5d' });
    await dl.createQueue('webhooks', { maxReceives: 1, backoff: 'fixed:0' });
    await dl.sendBatch('orders', [
      ...Array.from({ length: CARD_ORDERS }, (_, i) => ({
        body: { order: 1000 + i, kind: 'card', customer: { id: `c-${i}`, country: i % 2 ? 'DE' : 'FR' } },
        headers: { 'x-request-id': `req-${i}` },
        idempotencyKey: `order-${1000 + i}`,
      })),
      ...Array.from({ length: EVIL_ORDERS }, (_, i) => ({
        body: { order: 2000 + i, kind: 'evil', note: XSS_IMG, html: XSS_SCRIPT },
        headers: { 'x-evil': XSS_SVG },
      })),
    ]);
    await dl.sendBatch(
      'emails',
      Array.from({ length: 4 }, (_, i) => ({ body: { to: `nobody-${i}`, template: 'welcome' } })),
    );
    const orders = await dl.work<{ order: number; kind: string }>(
      'orders',
      (message) => {
        if (message.body.kind === 'card')
          throw new PermanentError(`card declined for order ${message.body.order}`);
        throw new PermanentError(`${XSS_IMG} refused ${XSS_SCRIPT}`);
      },
      { drain: true },
    );
    const emails = await dl.work<{ to: string }>(
      'emails',
      (message) => {
        throw new MalformedError(`invalid address "${message.body.to}"`);
      },
      { drain: true },
    );
    await dl.sendBatch(
      'webhooks',
      Array.from({ length: WEBHOOKS }, (_, i) => ({ body: { url: `https://hooks.example/${i}` } })),
    );
    const webhooks = await dl.work(
      'webhooks',
      () => {
        throw new TransientError('upstream answered 503');
      },
      { drain: true },
    );
    await Promise.all([orders.stopped, emails.stopped, webhooks.stopped]);
    await dl.setQueueDocs('orders', {
      owner: 'team-orders',
      contact: '#orders-oncall',
      purpose: 'Charges a card for each order',
      runbook: XSS_RUNBOOK,
    });
    // A day of history for the charts (the server samples every minute from now on).
    const now = Date.now();
    const samples = [];
    for (let i = 144; i >= 1; i--) {
      const at = now - i * 10 * 60_000;
      const inflow = i < 30 ? (i % 3) + 1 : i % 17 === 0 ? 2 : 0;
      samples.push({ queue: 'orders', at, depth: Math.round(2 + (144 - i) / 10), inflow, deadTotal: 0 });
      samples.push({ queue: 'emails', at, depth: i < 50 ? 4 : 2, inflow: i === 50 ? 2 : 0, deadTotal: 0 });
    }
    await dl.store.queueSampleInsert({ samples });
    const now2 = dl.clock.now();
    const operator = await createApiToken(dl.store, {
      name: 'oncall-ana',
      role: 'operator',
      actor: 'seed',
      now: now2,
    });
    const viewer = await createApiToken(dl.store, {
      name: 'viewer-bo',
      role: 'viewer',
      actor: 'seed',
      now: now2,
    });
    return { operator: operator.secret, viewer: viewer.secret };
  } finally {
    await dl.close();
  }
}

/** Seeds a store, starts `dlq serve` (alert rules evaluated every second) and a browser. */
export async function startDashboard(): Promise<Dashboard> {
  const { dir, remove } = tempDir('deadletter-e2e-');
  const store = `sqlite:${join(dir, 'e2e.db')}`;
  const tokens = await seed(store);
  const served = await startServe(store, dir, { args: ['--alert-interval', '1s'] });
  const workers = await Deadletter.open({ store, maintenance: false });
  let orderWorker: Worker | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await orderWorker?.stop();
    await workers.close();
    await served.stop();
    remove();
  };
  try {
    orderWorker = await workers.work('orders', async () => undefined, { concurrency: 4 });
    browser = await launchBrowser();
  } catch (error) {
    await close();
    throw error;
  }
  return { dir, store, served, workers, tokens, browser, close };
}

/** Saves a full-page screenshot under DEADLETTER_SCREENSHOTS, when it is set. */
export async function shot(page: Page, name: string): Promise<void> {
  if (!shotsDir) return;
  mkdirSync(shotsDir, { recursive: true });
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true });
}

/** What a script payload would have left behind on the page. */
export async function expectNothingExecuted(browser: Browser, page: Page): Promise<void> {
  // Expressions evaluated in the page (strings: this file is type-checked without the DOM).
  expect(await page.evaluate('typeof window.__xss')).toBe('undefined');
  expect(browser.dialogs).toEqual([]);
  const injected = await page.evaluate(
    `document.querySelectorAll('#app script, #app [onerror], #app [onload], #app iframe, #app a[href^="javascript:" i]').length`,
  );
  expect(injected).toBe(0);
  // A Content-Security-Policy refusal would mean markup got in and only the policy stopped it.
  expect(browser.errors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
}
