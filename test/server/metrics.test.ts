import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleQueues } from '../../src/engine/queue-sampler.ts';
import { type ServerFixture, seedDeadLetters, startServer } from './harness.ts';

let server: ServerFixture;
let families: Map<string, ParsedFamily>;

/** The value of one sample of a family, found by its labels. */
function sampleValue(name: string, labels: Record<string, string> = {}): number | undefined {
  const sample = families
    .get(name)
    ?.metrics.find((m) => Object.entries(labels).every(([key, value]) => m.labels?.[key] === value));
  return sample?.value === undefined ? undefined : Number(sample.value);
}

beforeAll(async () => {
  server = await startServer();
  // A first sample before the dead letters arrive, so the second one has an inflow.
  await server.dl.createQueue('idle');
  await seedDeadLetters(server.dl);
  const response = await server.call('viewer', { method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  families = new Map(parsePrometheusTextFormat(response.body).map((family) => [family.name, family]));
});
afterAll(() => server.close());

describe('GET /metrics', () => {
  it('parses as Prometheus text format with a help text and a type for every family', () => {
    expect(families.size).toBeGreaterThanOrEqual(12);
    for (const family of families.values()) {
      expect(family.name).toMatch(/^deadletter_[a-z_]+$/);
      expect(family.help.length).toBeGreaterThan(10);
    }
  });

  it('gives per-queue live messages, DLQ depth and oldest dead letter age', () => {
    expect(families.get('deadletter_dlq_depth')?.type).toBe('GAUGE');
    expect(sampleValue('deadletter_dlq_depth', { queue: 'orders' })).toBe(5);
    expect(sampleValue('deadletter_dlq_depth', { queue: 'emails' })).toBe(1);
    expect(sampleValue('deadletter_dlq_depth', { queue: 'idle' })).toBe(0);
    for (const state of ['waiting', 'delayed', 'leased']) {
      expect(sampleValue('deadletter_queue_messages', { queue: 'orders', state })).toBe(0);
    }
    expect(sampleValue('deadletter_dlq_oldest_age_seconds', { queue: 'orders' })).toBeGreaterThanOrEqual(0);
    expect(sampleValue('deadletter_dlq_oldest_age_seconds', { queue: 'idle' })).toBeUndefined();
  });

  it('gives the store’s cumulative counters, as counters', () => {
    expect(families.get('deadletter_dead_letters_total')?.type).toBe('COUNTER');
    expect(sampleValue('deadletter_dead_letters_total', { queue: 'orders' })).toBe(5);
    expect(sampleValue('deadletter_messages_done_total', { queue: 'orders' })).toBe(1);
    expect(sampleValue('deadletter_replayed_total', { queue: 'orders' })).toBe(0);
    expect(sampleValue('deadletter_discarded_total', { queue: 'orders' })).toBe(0);
    expect(families.get('deadletter_replayed_total')?.type).toBe('COUNTER');
    expect(families.get('deadletter_discarded_total')?.type).toBe('COUNTER');
  });

  it('counts groups by status, every status present', () => {
    expect(sampleValue('deadletter_groups', { status: 'new' })).toBe(3);
    for (const status of ['acknowledged', 'resolved', 'ignored', 'regressed']) {
      expect(sampleValue('deadletter_groups', { status })).toBe(0);
    }
  });

  it("records this process's handler runs in the attempt-duration histogram by queue and outcome", async () => {
    const histogram = families.get('deadletter_attempt_duration_seconds');
    expect(histogram?.type).toBe('HISTOGRAM');
    expect(Object.keys(histogram?.metrics[0]?.buckets ?? {})).toContain('+Inf');
    // The parser above folds labelled histograms into one sample: read the counts from the registry.
    const [json] = await server.metrics.registry
      .getMetricsAsJSON()
      .then((all) => all.filter((metric) => metric.name === 'deadletter_attempt_duration_seconds'));
    const count = (queue: string, outcome: string) =>
      ((json?.values ?? []) as { value: number; labels: Record<string, string>; metricName?: string }[]).find(
        (v) =>
          v.metricName === 'deadletter_attempt_duration_seconds_count' &&
          v.labels.queue === queue &&
          v.labels.outcome === outcome,
      )?.value;
    expect(count('orders', 'done')).toBe(1);
    expect(count('orders', 'dead')).toBe(5);
    expect(count('emails', 'dead')).toBe(1);
  });

  it('reports the inflow of the last queue sample', async () => {
    const at = server.dl.clock.now();
    const clock = { now: () => at };
    // The previous minute's sample saw no dead letters yet; this minute's sees them all.
    await server.dl.store.queueSampleInsert({
      samples: ['orders', 'emails', 'idle'].map((queue) => ({
        queue,
        at: Math.floor(at / 60_000) * 60_000 - 60_000,
        depth: 0,
        inflow: 0,
        deadTotal: 0,
      })),
    });
    await sampleQueues({ store: server.dl.store, clock });
    const response = await server.call('viewer', { method: 'GET', url: '/metrics' });
    const parsed = new Map(parsePrometheusTextFormat(response.body).map((family) => [family.name, family]));
    const inflow = (queue: string) =>
      Number(
        parsed.get('deadletter_dlq_inflow_per_minute')?.metrics.find((m) => m.labels?.queue === queue)?.value,
      );
    expect(inflow('orders')).toBe(5);
    expect(inflow('emails')).toBe(1);
    expect(inflow('idle')).toBe(0);
  });
});
