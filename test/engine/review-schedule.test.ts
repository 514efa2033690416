import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import type { ReviewReport } from '../../src/core/review.ts';
import { deliverAlerts } from '../../src/engine/alert-delivery.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { sendScheduledReview } from '../../src/engine/review-schedule.ts';
import { killOne } from '../../src/store/conformance/fixtures.ts';
import { tempDir } from '../support/temp-dir.ts';
import { type AlertReceiver, startAlertReceiver } from './fixtures/alert-receiver.ts';

const T = Date.UTC(2026, 2, 1);
const DAY = 86_400_000;
let tmp: ReturnType<typeof tempDir>;
let clock: ManualClock;
let dl: Deadletter;
let hook: AlertReceiver;
let slack: AlertReceiver;

beforeEach(async () => {
  tmp = tempDir();
  clock = new ManualClock(T);
  dl = await Deadletter.open({ store: `sqlite:${join(tmp.dir, 'dl.db')}`, clock, maintenance: false });
  await dl.createQueue('orders');
  hook = await startAlertReceiver();
  slack = await startAlertReceiver({ failFirst: 1 });
});

afterEach(async () => {
  await dl.close();
  await hook.close();
  await slack.close();
  tmp.remove();
});

describe('the review report on a schedule', () => {
  it('sends the report once per period to a webhook (JSON and Markdown) and Slack, with retries', async () => {
    await killOne(dl.store, { queue: 'orders', diedAt: T - 1_000, groupId: 'g-1' });
    const options = {
      store: dl.store,
      clock,
      everyMs: 7 * DAY,
      channels: [
        { type: 'webhook' as const, url: hook.url },
        { type: 'slack' as const, url: slack.url },
      ],
    };
    expect(await sendScheduledReview(options)).toHaveLength(2);
    // Not due again within the period, whoever asks (a restart reads the outbox).
    clock.advance(7 * DAY - 1);
    expect(await sendScheduledReview(options)).toEqual([]);
    await deliverAlerts({ store: dl.store, clock, baseDelayMs: 1_000, random: () => 0 });

    expect(hook.requests).toHaveLength(1);
    const body = hook.requests[0]?.body as { event: string; report: ReviewReport; markdown: string };
    expect(body.event).toBe('review');
    expect(body.report.until - body.report.since).toBe(7 * DAY);
    expect(body.report.totals).toMatchObject({ depth: 1, inflow: 1, newGroups: 1 });
    expect(body.markdown).toMatch(/^# Dead-letter review: /);
    expect(slack.accepted()).toHaveLength(0);

    clock.advance(1);
    expect(await sendScheduledReview(options)).toHaveLength(2);
    await deliverAlerts({ store: dl.store, clock, baseDelayMs: 1_000, random: () => 0 });
    expect(hook.requests).toHaveLength(2);
    expect(slack.accepted()).toHaveLength(1);
    clock.advance(500);
    await deliverAlerts({ store: dl.store, clock, baseDelayMs: 1_000, random: () => 0 });
    // Slack failed once, then got both reports (the first after its backoff).
    expect(slack.accepted()).toHaveLength(2);
    expect((slack.accepted()[0]?.body as { text?: string } | undefined)?.text).toBe('Deadletter review');
    const reviews = await dl.store.alertDeliveryList({ event: 'review', limit: 10 });
    expect(reviews.map((d) => d.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
  });
});
