import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError } from '../../src/core/errors.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import {
  type Dashboard,
  expectNothingExecuted,
  shot,
  startDashboard,
  XSS_IMG,
  XSS_SCRIPT,
  XSS_SVG,
} from './fixture.ts';
import type { Browser, ServedProcess } from './harness.ts';
import { signIn } from './harness.ts';

/**
 * The dashboard end to end, safety and access: at 390 px and in dark; script payloads in a
 * message's body, headers, error and stack and in a runbook never execute; an admin's alert rule
 * fires; a viewer sees no replay or discard and the API refuses them.
 */

let dashboard: Dashboard;
let served: ServedProcess;
let workers: Deadletter;
let tokens: Dashboard['tokens'];
let browser: Browser;

beforeAll(async () => {
  dashboard = await startDashboard();
  ({ served, workers, tokens, browser } = dashboard);
  await signIn(browser.page, served.url, tokens.operator);
});

afterAll(() => dashboard?.close());

describe('safety and access in the dashboard (Chromium against dlq serve)', () => {
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
    await expectNothingExecuted(browser, page);

    // A dead letter whose body, headers, error and stack carry payloads (replayed dead letters
    // of the "evil" group were discarded; a fresh one is made here).
    await workers.store.queueGet({ name: 'orders' });
    const dl = await Deadletter.open({ store: dashboard.store, maintenance: false });
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
        await expectNothingExecuted(browser, page);
      }
      await page.goto(`${served.url}/dead-letters/${id}`);
      await page.getByRole('heading', { name: 'Attempts' }).waitFor();
      expect(await page.locator('.json-block pre').textContent()).toContain(
        JSON.stringify(XSS_IMG).slice(1, -1),
      );
      expect(await page.locator('main').textContent()).toContain(XSS_SVG);
      expect(await page.locator('details.attempt pre').first().textContent()).toContain(XSS_SCRIPT);
      await expectNothingExecuted(browser, page);
    } finally {
      await dl.close();
    }
  });

  it('an admin adds an alert rule; it fires on the overview and the alerts page, resolves once disabled, then goes', async () => {
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
    // Disabled, the rule's alert resolves at the next evaluation; then it goes.
    await page.getByRole('button', { name: 'Disable emails-depth' }).click();
    await page.getByRole('button', { name: 'Enable emails-depth' }).waitFor();
    expect((await workers.store.alertRuleList()).map((r) => [r.name, r.enabled])).toEqual([
      ['emails-depth', false],
    ]);
    await expect
      .poll(async () => (await workers.store.alertList({ state: 'firing', limit: 10 })).length, {
        timeout: 30_000,
      })
      .toBe(0);
    await page.getByRole('button', { name: 'Remove emails-depth' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Remove emails-depth' }).count()).toBe(0);
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
