import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deadletter } from '../../src/engine/deadletter.ts';
import { type Dashboard, shot, startDashboard, WEBHOOKS } from './fixture.ts';
import type { Browser, ServedProcess } from './harness.ts';
import { signIn } from './harness.ts';

/**
 * The Groups page's merge, end to end: an operator chooses two groups, picks the one to keep,
 * reads the dry run and confirms; the merged group leaves the list and the kept one lists it.
 * A viewer gets no checkboxes.
 */

let dashboard: Dashboard;
let served: ServedProcess;
let workers: Deadletter;
let tokens: Dashboard['tokens'];
let browser: Browser;

beforeAll(async () => {
  dashboard = await startDashboard();
  ({ served, workers, tokens, browser } = dashboard);
});

afterAll(() => dashboard?.close());

describe('merging groups in the dashboard (Chromium against dlq serve)', () => {
  it('merges the chosen groups into the one picked, after a dry run', async () => {
    const { page } = browser;
    await signIn(page, served.url, tokens.operator);
    const [emails] = await workers.listGroups({ queue: 'emails' });
    const [webhooks] = await workers.listGroups({ queue: 'webhooks' });
    const before = (await workers.listGroups()).length;
    if (!emails || !webhooks) throw new Error('the fixture has no emails or webhooks group');

    await page.goto(`${served.url}/groups`);
    await page.getByLabel(`Choose group ${emails.id}`).check();
    await page.getByLabel(`Choose group ${webhooks.id}`).check();
    const bar = page.getByRole('region', { name: 'Selection' });
    await expect.poll(() => bar.textContent()).toContain('2 groups chosen');
    await page.getByLabel('Merge into').selectOption(webhooks.id);
    await bar.getByRole('button', { name: 'Merge…' }).click();
    const plan = bar.getByRole('alert');
    await expect.poll(() => plan.textContent()).toContain('Merge 1 group into');
    expect(await plan.textContent()).toContain(`${emails.deadCount} dead letters move`);
    // The dry run changed nothing.
    expect(await workers.listGroups()).toHaveLength(before);
    await shot(page, 'groups-merge');
    await bar.getByRole('button', { name: 'Confirm merge' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Merged 1 group into');
    await expect.poll(async () => page.locator('tbody tr').count()).toBe(before - 1);
    expect(await page.getByLabel(`Choose group ${emails.id}`).count()).toBe(0);

    const kept = await workers.getGroup(webhooks.id);
    expect(kept.deadCount).toBe(WEBHOOKS + emails.deadCount);
    expect((await workers.listDeadLetters({ groupId: webhooks.id, limit: 100 })).items).toHaveLength(
      WEBHOOKS + emails.deadCount,
    );
    const [entry] = (await workers.listAudit({ action: 'group.merge' })).items;
    expect(entry).toMatchObject({
      actor: 'oncall-ana',
      targetId: webhooks.id,
      details: { sources: [emails.id] },
    });

    await page.goto(`${served.url}/groups/${webhooks.id}`);
    const merged = page.locator('section', {
      has: page.getByRole('heading', { name: 'Merged into this group' }),
    });
    await merged.waitFor();
    expect(await merged.textContent()).toContain(emails.id);
    expect(await merged.textContent()).toContain('oncall-ana');

    // A link to the merged group (an alert's, a bookmark) leads to the group it was merged into.
    await page.goto(`${served.url}/groups/${emails.id}`);
    await page.getByRole('link', { name: 'Open the group it was merged into' }).click();
    await page.waitForURL(new RegExp(`/groups/${webhooks.id}$`));
    await page.getByRole('heading', { name: 'Merged into this group' }).waitFor();
  });

  it('offers a viewer no choice of groups to merge', async () => {
    const { page } = browser;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, served.url, tokens.viewer);
    await page.goto(`${served.url}/groups`);
    await page.locator('tbody tr').first().waitFor();
    expect(await page.locator('tbody input[type=checkbox]').count()).toBe(0);
    expect(await page.getByRole('region', { name: 'Selection' }).count()).toBe(0);
  });
});
