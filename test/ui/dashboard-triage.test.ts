import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deadletter } from '../../src/engine/deadletter.ts';
import {
  CARD_ORDERS,
  type Dashboard,
  EVIL_ORDERS,
  expectNothingExecuted,
  shot,
  startDashboard,
  WEBHOOKS,
  XSS_IMG,
} from './fixture.ts';
import type { Browser, ServedProcess } from './harness.ts';
import { signIn } from './harness.ts';

/**
 * The dashboard end to end, triage: a real `dlq serve` on a temporary store, driven by Debian's
 * Chromium. An operator finds a group, opens and edits a dead letter, replays the group with a
 * dry run and a canary (a worker in this process handles the replays: the bug is "fixed"),
 * pauses and cancels a slow replay, discards another group with a reason, finds both in the
 * audit log, and documents a queue.
 */

let dashboard: Dashboard;
let served: ServedProcess;
let workers: Deadletter;
let tokens: Dashboard['tokens'];
let browser: Browser;
/** A dead letter of the card group, opened in the first tests and replayed later. */
let cardLetterId: string;

beforeAll(async () => {
  dashboard = await startDashboard();
  ({ served, workers, tokens, browser } = dashboard);
});

afterAll(() => dashboard?.close());

describe('triage in the dashboard (Chromium against dlq serve)', () => {
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
    // The queue page while its DLQ is full: charts, settings, documentation, groups.
    await page.goto(`${served.url}/queues/orders`);
    await page.getByRole('heading', { name: 'Runbook', exact: true }).waitFor();
    await page.locator('.chart canvas').first().waitFor();
    expect(await page.locator('table.data').first().textContent()).toContain('card declined for order <n>');
    await shot(page, 'queue');
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
    await expectNothingExecuted(browser, page);
    await page.getByRole('button', { name: 'Save documentation' }).click();
    await page.getByRole('button', { name: 'Edit documentation' }).waitFor();
    expect(await page.locator('section', { hasText: 'Documentation' }).locator('dl').textContent()).toContain(
      'team-mail',
    );
    expect(await page.locator('.markdown h2').textContent()).toBe('Bounces');
    await expectNothingExecuted(browser, page);
    const docs = await workers.getQueueDocs('emails');
    expect(docs).toMatchObject({ owner: 'team-mail', contact: '#mail-oncall', updatedBy: 'oncall-ana' });
  });
});
