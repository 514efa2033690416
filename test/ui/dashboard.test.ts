import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedError, PermanentError, TransientError } from '../../src/core/errors.ts';
import { createApiToken } from '../../src/engine/api-tokens.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import type { Worker } from '../../src/engine/worker.ts';
import { tempDir } from '../support/temp-dir.ts';
import { type Browser, launchBrowser, type ServedProcess, signIn, startServe } from './harness.ts';

/**
 * The dashboard end to end: a real `dlq serve` on a temporary SQLite store, driven by Debian's
 * Chromium. An operator finds a group, opens a dead letter, replays the group with a dry run
 * and a canary (a worker in this process handles the replays: the bug is "fixed"), discards
 * another group with a reason, and finds both in the audit log; a viewer sees no replay or
 * discard buttons and the API refuses them. Messages and a runbook carry script payloads:
 * nothing may execute.
 *
 * With DEADLETTER_SCREENSHOTS=<dir> (`npm run screenshots`), the main pages are saved there.
 */

/** A script that would set `window.__xss` (or open a dialog) if any of it ran. */
const XSS_IMG = '<img src=x onerror="window.__xss=1;alert(1)">';
const XSS_SCRIPT = '<script>window.__xss=1;alert(2)</script>';
const XSS_SVG = '<svg onload="window.__xss=1">';
const XSS_RUNBOOK = [
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

const CARD_ORDERS = 12;
const EVIL_ORDERS = 3;
const WEBHOOKS = 6;
const shotsDir = process.env.DEADLETTER_SCREENSHOTS ? resolve(process.env.DEADLETTER_SCREENSHOTS) : undefined;

let dir: string;
let removeDir: () => void;
let served: ServedProcess;
let workers: Deadletter;
let orderWorker: Worker;
let tokens: { operator: string; viewer: string };
let browser: Browser;
/** A dead letter of the card group, opened in the first tests and replayed later. */
let cardLetterId: string;

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

async function shot(page: Page, name: string): Promise<void> {
  if (!shotsDir) return;
  mkdirSync(shotsDir, { recursive: true });
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true });
}

/** What a script payload would have left behind on the page. */
async function expectNothingExecuted(page: Page): Promise<void> {
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

beforeAll(async () => {
  ({ dir, remove: removeDir } = tempDir('deadletter-e2e-'));
  const store = `sqlite:${join(dir, 'e2e.db')}`;
  tokens = await seed(store);
  // Alert rules evaluated every second, so that a rule added in the test fires in time.
  served = await startServe(store, dir, { args: ['--alert-interval', '1s'] });
  // The service's own workers: after the "fix", orders succeed (they handle the replays).
  workers = await Deadletter.open({ store, maintenance: false });
  orderWorker = await workers.work('orders', async () => undefined, { concurrency: 4 });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await orderWorker?.stop();
  await workers?.close();
  await served?.stop();
  removeDir?.();
});

describe('the dashboard in Chromium against dlq serve', () => {
  it('refuses a wrong token and signs in with a good one; the overview shows every queue', async () => {
    const { page } = browser;
    await page.goto(`${served.url}/`);
    await shot(page, 'login');
    await page.getByLabel('API token').fill('dlq_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('bearer token');

    await signIn(page, served.url, tokens.operator);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const queueTable = page.locator('table.data');
    await queueTable.getByRole('link', { name: 'orders' }).waitFor();
    await expect.poll(() => queueTable.textContent()).toContain('emails');
    await expect.poll(() => page.locator('.attention').textContent()).toContain('untriaged group');
    expect(await page.locator('header .who').textContent()).toContain('oncall-ana');
    await shot(page, 'overview');
  });

  it('finds a group and opens one of its dead letters with its whole context', async () => {
    const { page } = browser;
    await page
      .getByRole('navigation', { name: 'Main', exact: true })
      .getByRole('link', { name: 'Groups' })
      .click();
    await page.getByLabel('Queue').selectOption('orders');
    const row = page.locator('tr', { hasText: 'card declined for order <n>' });
    await row.waitFor();
    expect(await row.locator('td.num').first().textContent()).toBe(String(CARD_ORDERS));
    await shot(page, 'groups');
    await row.getByRole('link', { name: 'PermanentError' }).click();
    await page.getByRole('heading', { name: 'Normalised error' }).waitFor();
    await expect
      .poll(() => page.locator('pre').first().textContent())
      .toContain('card declined for order <n>');
    await shot(page, 'group');

    await page.getByRole('link', { name: 'Dead letters', exact: true }).last().click();
    await page.getByRole('heading', { name: 'Dead letters' }).waitFor();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(CARD_ORDERS);
    await shot(page, 'dead-letters');
    await page.locator('tbody tr').first().getByRole('link', { name: 'PermanentError' }).click();
    await page.getByRole('heading', { name: 'Attempts' }).waitFor();
    const body = await page.locator('.json-block pre').textContent();
    expect(body).toContain('"kind": "card"');
    expect(await page.locator('table.data').first().textContent()).toContain('x-request-id');
    expect(await page.locator('details.attempt').count()).toBe(1);
    expect(await page.locator('details.attempt pre').last().textContent()).toContain('PermanentError');
    await shot(page, 'dead-letter');
    cardLetterId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2] as string);

    // Edit the body before replay: a live diff against the original, then saved and audited.
    await page.getByRole('button', { name: 'Edit body before replay…' }).click();
    const editor = page.getByLabel('New body (JSON)');
    const original = JSON.parse((await editor.inputValue()) || '{}') as { customer: { country: string } };
    const edited = { ...original, customer: { ...original.customer, country: 'NL' }, note: 'fixed by hand' };
    await editor.fill('{ not json');
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Not JSON');
    await editor.fill(JSON.stringify(edited, null, 2));
    const diff = page.getByRole('list', { name: 'Changes against the original body' });
    await expect.poll(() => diff.textContent()).toContain('+ customer.country: "NL"');
    expect(await diff.textContent()).toContain('+ note: "fixed by hand"');
    await shot(page, 'dead-letter-edit');
    await page.getByRole('button', { name: 'Save the new body' }).click();
    await expect.poll(() => page.locator('.json-block').textContent()).toContain('Body (edited)');
    expect(await page.locator('.json-block pre').textContent()).toContain('"country": "NL"');
    await expect
      .poll(() => page.locator('section', { hasText: 'Audit' }).last().textContent())
      .toContain('dead_letter.edit');
  });

  it('replays the group with a dry run and a canary, and watches the job complete', async () => {
    const { page } = browser;
    const groupId = new URL(
      (await page
        .getByRole('link', { name: /^[0-9a-f]{8,}/ })
        .first()
        .getAttribute('href')) ?? '',
      served.url,
    ).pathname.split('/')[2] as string;
    await page.goto(`${served.url}/groups/${groupId}`);
    await page.getByRole('link', { name: 'Replay group…' }).click();
    await page.getByRole('button', { name: 'Dry run →' }).click();
    await expect
      .poll(() => page.locator('.notice').first().textContent())
      .toContain(`${CARD_ORDERS} dead letters would be replayed to orders`);
    expect(await page.locator('.grid-2').textContent()).toContain('permanent');
    await shot(page, 'replay-dry-run');
    await page.getByRole('button', { name: 'Options →' }).click();
    await page.getByLabel(/^Canary/).fill('3');
    await page.getByLabel(/^Rate/).fill('200');
    await page.getByRole('button', { name: 'Review →' }).click();
    await expect.poll(() => page.locator('section.card').textContent()).toContain('canary of 3');
    await page.getByRole('button', { name: `Start replay of ${CARD_ORDERS}` }).click();

    await page.waitForURL(/\/replays\/[^/]+$/);
    await page.locator('[data-verdict="passed"]').waitFor({ timeout: 60_000 });
    await page.locator('.badge.job-completed').first().waitFor({ timeout: 60_000 });
    const summary = await page.locator('section.card').first().textContent();
    expect(summary).toContain(`${CARD_ORDERS} replayed, 0 skipped of ${CARD_ORDERS} planned`);
    expect(await page.locator('[data-verdict="passed"]').textContent()).toContain('3 done, 0 died again');
    await shot(page, 'replay-job');
    // The replayed messages were handled by the worker: the group's dead letters left the DLQ.
    const left = await workers.listDeadLetters({ groupId });
    expect(left.items).toEqual([]);

    // A replayed dead letter's page says where it went; its replay links back to it.
    await page.goto(`${served.url}/dead-letters/${cardLetterId}`);
    await expect.poll(() => page.getByRole('status').textContent()).toContain('It was replayed');
    await page.getByRole('link', { name: /^next / }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('a replay) that succeeded');
    await page.getByRole('link', { name: /^previous dead letter / }).click();
    await page.waitForURL(new RegExp(`/dead-letters/${cardLetterId}$`));
  });

  it('pauses, resumes and cancels a slow replay from its page', async () => {
    const { page } = browser;
    await page.goto(`${served.url}/queues/webhooks`);
    await page.getByRole('link', { name: 'Replay…' }).click();
    await page.getByRole('button', { name: 'Dry run →' }).click();
    await expect
      .poll(() => page.locator('.notice').first().textContent())
      .toContain(`${WEBHOOKS} dead letters`);
    await page.getByRole('button', { name: 'Options →' }).click();
    // One message every 5 seconds: slow enough to pause between two.
    await page.getByLabel(/^Rate/).fill('0.2');
    await page.getByRole('button', { name: 'Review →' }).click();
    await page.getByRole('button', { name: `Start replay of ${WEBHOOKS}` }).click();
    await page.waitForURL(/\/replays\/[^/]+$/);
    // The server's replay runner takes the job and replays the first message; the next is 5 s away.
    await expect
      .poll(() => page.locator('section.card p strong').first().textContent(), { timeout: 20_000 })
      .toBe('1');
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('.badge.job-paused').waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('button', { name: 'Pause' }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.badge.job-cancelled').waitFor();
    expect(await page.getByRole('button', { name: /Pause|Resume|Cancel/ }).count()).toBe(0);
    const left = await workers.listDeadLetters({ queue: 'webhooks' });
    expect(left.items.length).toBeGreaterThan(0);
    expect(left.items.length).toBeLessThan(WEBHOOKS);
    const actions = (await workers.listAudit({ actor: 'oncall-ana' })).items.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['replay.pause', 'replay.resume', 'replay.cancel']));
  });

  it('discards a group with a required reason, confirmed by typing the count', async () => {
    const { page } = browser;
    const evil = (await workers.listGroups({ queue: 'orders' })).find((g) => g.deadCount === EVIL_ORDERS);
    expect(evil).toBeDefined();
    await page.goto(`${served.url}/groups/${evil?.id}`);
    await page.getByRole('link', { name: 'Discard group…' }).click();
    await expect
      .poll(() => page.locator('.notice').first().textContent())
      .toContain(`${EVIL_ORDERS} dead letters would be discarded`);
    const discard = page.getByRole('button', { name: `Discard ${EVIL_ORDERS}` });
    await page.getByLabel(/^Reason/).fill('test payloads from a scanner; nothing to replay');
    expect(await discard.isDisabled()).toBe(true);
    await page.getByLabel(/^Type the number/).fill('2');
    expect(await discard.isDisabled()).toBe(true);
    await page.getByLabel(/^Type the number/).fill(String(EVIL_ORDERS));
    await shot(page, 'discard');
    await discard.click();
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toContain(`Discarded ${EVIL_ORDERS} dead letters`);
    expect((await workers.listDeadLetters({ groupId: evil?.id as string })).items).toEqual([]);
    expect(
      (
        await workers.getTombstone(
          (
            await workers.listAudit({ action: 'discard' })
          ).items[0]?.details.ids
            ?.toString()
            .split(',')[0] as string,
        )
      ).reason,
    ).toBe('test payloads from a scanner; nothing to replay');
  });

  it('shows the replay and the discard in the audit log, under the token name', async () => {
    const { page } = browser;
    await page
      .getByRole('navigation', { name: 'Main', exact: true })
      .getByRole('link', { name: 'Audit log' })
      .click();
    const table = page.locator('table.data');
    await table.waitFor();
    const discardRow = table.locator('tr', { hasText: 'discard' }).filter({ hasText: 'oncall-ana' }).first();
    await discardRow.waitFor();
    expect(await discardRow.textContent()).toContain('test payloads from a scanner');
    await table
      .locator('tr', { hasText: 'replay.create' })
      .filter({ hasText: 'oncall-ana' })
      .first()
      .waitFor();
    await page.getByLabel('Action').selectOption('replay.finish');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    await shot(page, 'audit');
  });

  it('renders doctor findings and the review report', async () => {
    const { page } = browser;
    await page.goto(`${served.url}/doctor`);
    await expect.poll(() => page.locator('table.data').textContent()).toContain('no_owner');
    await shot(page, 'doctor');
    await page.goto(`${served.url}/review`);
    await expect.poll(() => page.locator('main').textContent()).toContain('discarded');
    await shot(page, 'review');
    await page.goto(`${served.url}/queues/orders`);
    await page.getByRole('heading', { name: 'Runbook', exact: true }).waitFor();
    await page.locator('.chart canvas').first().waitFor();
    await shot(page, 'queue');
  });

  it('at 390 px: a compact menu reachable with the keyboard, tables scroll inside the page; dark theme', async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${served.url}/`);
      await page.locator('table.data').waitFor();
      expect(await page.locator('nav.nav-wide').isVisible()).toBe(false);
      // The page itself never scrolls sideways: wide tables scroll in their own box.
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await shot(page, 'overview-390');
      const menu = page.locator('.nav-menu summary');
      await menu.focus();
      await page.keyboard.press('Enter');
      const link = page
        .getByRole('navigation', { name: 'Main (compact)' })
        .getByRole('link', { name: 'Dead letters' });
      await link.waitFor();
      await link.focus();
      expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).not.toBe('none');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/dead-letters$/);
      await page.locator('tbody tr').first().waitFor();
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await shot(page, 'dead-letters-390');
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    await page.emulateMedia({ colorScheme: 'dark' });
    try {
      await page.goto(`${served.url}/`);
      await page.locator('table.data').waitFor();
      const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
      expect(background).not.toBe('rgb(246, 247, 249)');
      await shot(page, 'overview-dark');
      await page.goto(`${served.url}/queues/orders`);
      await page.locator('.chart canvas').first().waitFor();
      await shot(page, 'queue-dark');
    } finally {
      await page.emulateMedia({ colorScheme: 'light' });
    }
  });

  it('shows script payloads from messages and a runbook as text: nothing executes', async () => {
    const { page } = browser;
    // The runbook: Markdown rendered, its HTML shown as text, its javascript: link gone.
    await page.goto(`${served.url}/queues/orders`);
    const runbook = page.locator('.markdown');
    await runbook.waitFor();
    expect(await runbook.locator('strong').textContent()).toBe('card processor');
    expect(await runbook.textContent()).toContain(XSS_SCRIPT);
    expect(await runbook.textContent()).toContain(XSS_IMG);
    await expectNothingExecuted(page);

    // A dead letter whose body, headers, error and stack carry payloads (replayed dead letters
    // of the "evil" group were discarded; a fresh one is made here).
    await workers.store.queueGet({ name: 'orders' });
    const dl = await Deadletter.open({ store: `sqlite:${join(dir, 'e2e.db')}`, maintenance: false });
    try {
      await dl.createQueue('intake', { maxReceives: 1, backoff: 'fixed:0' });
      await dl.send('intake', { note: XSS_IMG, html: XSS_SCRIPT }, { headers: { 'x-evil': XSS_SVG } });
      const worker = await dl.work(
        'intake',
        () => {
          throw new PermanentError(`${XSS_IMG} refused ${XSS_SCRIPT}`);
        },
        { drain: true },
      );
      await worker.stopped;
      const id = (await dl.listDeadLetters({ queue: 'intake' })).items[0]?.id as string;
      for (const path of [`/dead-letters/${id}`, '/dead-letters?queue=intake', '/groups?queue=intake', '/']) {
        await page.goto(`${served.url}${path}`);
        await page.locator('main h1').waitFor();
        await page.waitForLoadState('networkidle');
        await expectNothingExecuted(page);
      }
      await page.goto(`${served.url}/dead-letters/${id}`);
      await page.getByRole('heading', { name: 'Attempts' }).waitFor();
      expect(await page.locator('.json-block pre').textContent()).toContain(
        JSON.stringify(XSS_IMG).slice(1, -1),
      );
      expect(await page.locator('main').textContent()).toContain(XSS_SVG);
      expect(await page.locator('details.attempt pre').first().textContent()).toContain(XSS_SCRIPT);
      await expectNothingExecuted(page);
    } finally {
      await dl.close();
    }
  });

  it('documents a queue from its page: owner, contact and a runbook previewed and rendered safely', async () => {
    const { page } = browser;
    await page.goto(`${served.url}/queues/emails`);
    await page.getByRole('button', { name: 'Edit documentation' }).click();
    await page.getByLabel(/^Owner/).fill('team-mail');
    await page.getByLabel(/^Contact/).fill('#mail-oncall');
    await page.getByLabel(/^Runbook/).fill(`## Bounces\n\nCheck the *address*.\n\n${XSS_IMG}`);
    await expect.poll(() => page.locator('.markdown em').textContent()).toBe('address');
    expect(await page.locator('.markdown').textContent()).toContain(XSS_IMG);
    await expectNothingExecuted(page);
    await page.getByRole('button', { name: 'Save documentation' }).click();
    await page.getByRole('button', { name: 'Edit documentation' }).waitFor();
    expect(await page.locator('section', { hasText: 'Documentation' }).locator('dl').textContent()).toContain(
      'team-mail',
    );
    expect(await page.locator('.markdown h2').textContent()).toBe('Bounces');
    await expectNothingExecuted(page);
    const docs = await workers.getQueueDocs('emails');
    expect(docs).toMatchObject({ owner: 'team-mail', contact: '#mail-oncall', updatedBy: 'oncall-ana' });
  });

  it('an admin adds an alert rule; it fires on the overview and the alerts page, and resolves once removed', async () => {
    const { page } = browser;
    const admin = /admin token "[^"]+" \(shown once; keep it\): (\S+)/.exec(served.output())?.[1];
    expect(admin).toMatch(/^dlq_/);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, served.url, admin as string);
    await page
      .getByRole('navigation', { name: 'Main', exact: true })
      .getByRole('link', { name: 'Alerts' })
      .click();
    await page.getByRole('heading', { name: 'Rules' }).waitFor();
    await page.getByLabel('Name').fill('emails-depth');
    await page.getByLabel('Queue').selectOption('emails');
    await page.getByLabel('Fires on').selectOption('depth');
    await page.getByLabel(/^Threshold/).fill('2');
    await page.getByRole('button', { name: 'Add rule' }).click();
    const rule = page.locator('tr', { hasText: 'emails-depth' });
    await rule.waitFor();
    expect(await rule.textContent()).toContain('more than 2 dead letters');

    // The server evaluates the rules every second (--alert-interval 1s): emails holds 4.
    await expect
      .poll(async () => (await workers.store.alertList({ state: 'firing', limit: 10 })).length, {
        timeout: 30_000,
      })
      .toBe(1);
    await page.getByRole('button', { name: 'Firing' }).click();
    // The history's row (the rules table has one for the rule too).
    const alertRow = page
      .locator('tbody tr', { hasText: 'still firing' })
      .filter({ hasText: 'emails-depth' });
    await alertRow.waitFor();
    expect(await alertRow.locator('.badge').textContent()).toBe('firing');
    await shot(page, 'alerts');
    await page.goto(`${served.url}/`);
    await expect.poll(() => page.locator('.attention').textContent()).toContain('1 alert firing');
    expect(await page.locator('.attention li').first().textContent()).toContain('emails');

    await page.goto(`${served.url}/alerts`);
    await page.getByRole('button', { name: 'Remove emails-depth' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Remove emails-depth' }).count()).toBe(0);
    await expect
      .poll(async () => (await workers.store.alertList({ state: 'firing', limit: 10 })).length)
      .toBe(0);
  });

  it('a viewer sees no replay or discard buttons, and the API refuses them anyway', async () => {
    const { page } = browser;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, served.url, tokens.viewer);
    const group = (await workers.listGroups({ queue: 'emails' }))[0];
    await page.goto(`${served.url}/groups/${group?.id}`);
    await page.getByRole('heading', { name: 'Normalised error' }).waitFor();
    expect(
      await page
        .locator('main')
        .getByRole('link', { name: /^(Replay|Discard)/ })
        .count(),
    ).toBe(0);
    expect(await page.getByRole('button', { name: 'Resolve' }).count()).toBe(0);
    await page.goto(`${served.url}/dead-letters?queue=emails`);
    await page.locator('tbody tr').first().waitFor();
    expect(await page.locator('tbody input[type=checkbox]').count()).toBe(0);
    await page.goto(`${served.url}/replay?group=${group?.id}`);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('needs an operator token');

    // The API refuses the viewer's token whatever the page shows.
    const refused = await Promise.all(
      [
        ['/api/replays', { selector: { group: group?.id } }],
        ['/api/discards', { selector: { group: group?.id }, reason: 'viewer tries' }],
      ].map(async ([path, body]) => {
        const response = await fetch(`${served.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens.viewer}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return response.status;
      }),
    );
    expect(refused).toEqual([403, 403]);
    expect((await workers.listDeadLetters({ queue: 'emails' })).items).toHaveLength(4);
  });
});
