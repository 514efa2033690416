import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { type ServerFixture, seedDeadLetters, startServer } from './harness.ts';

let server: ServerFixture;
const clock = new ManualClock(Date.UTC(2026, 10, 25, 9));
let groupId: string;

beforeAll(async () => {
  server = await startServer({ cacheTtlMs: 1_000, clock });
  await seedDeadLetters(server.dl);
  groupId = (await server.dl.listGroups())[0]?.id as string;
});
afterAll(() => server.close());

const groups = () => server.call('viewer', { method: 'GET', url: '/api/groups?sort=count' });
const statusOf = (body: string) =>
  (JSON.parse(body) as { groups: { id: string; status: string }[] }).groups.find((g) => g.id === groupId)
    ?.status;

describe('the response cache of the list routes', () => {
  it('shares one answer between identical GETs for its time-to-live, then reads again', async () => {
    clock.advance(5_000);
    const first = await groups();
    expect(first.headers['x-cache']).toBe('miss');
    // A change made behind the server's back (a worker, another server) is not seen yet...
    await server.dl.setGroupStatus(groupId, 'ignored');
    const second = await groups();
    expect(second.headers['x-cache']).toBe('hit');
    expect(second.body).toBe(first.body);
    expect(statusOf(second.body)).toBe('new');
    // ...until the time-to-live has passed.
    clock.advance(1_001);
    const third = await groups();
    expect(third.headers['x-cache']).toBe('miss');
    expect(statusOf(third.body)).toBe('ignored');
  });

  it('forgets everything after a change made through the API', async () => {
    clock.advance(5_000);
    await groups();
    expect((await groups()).headers['x-cache']).toBe('hit');
    const changed = await server.call('operator', {
      method: 'POST',
      url: `/api/groups/${groupId}/status`,
      payload: { status: 'acknowledged' },
    });
    expect(changed.statusCode).toBe(200);
    const after = await groups();
    expect(after.headers['x-cache']).toBe('miss');
    expect(statusOf(after.body)).toBe('acknowledged');
  });

  it('keys on the whole URL, and keeps checking tokens and roles', async () => {
    clock.advance(5_000);
    await groups();
    const other = await server.call('viewer', { method: 'GET', url: '/api/groups?sort=last-seen' });
    expect(other.headers['x-cache']).toBe('miss');
    expect((await server.call('none', { method: 'GET', url: '/api/groups?sort=count' })).statusCode).toBe(
      401,
    );
  });

  it('computes identical requests that arrive together once', async () => {
    clock.advance(5_000);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        server.call('viewer', { method: 'GET', url: '/api/dead-letters?limit=3' }),
      ),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    expect(responses.filter((r) => r.headers['x-cache'] === 'miss')).toHaveLength(1);
    expect(new Set(responses.map((r) => r.body)).size).toBe(1);
  });

  it('does not keep errors, and leaves uncached routes alone', async () => {
    clock.advance(5_000);
    const bad = await server.call('viewer', { method: 'GET', url: '/api/dead-letters?cursor=nope' });
    expect(bad.statusCode).toBe(422);
    expect(
      (await server.call('viewer', { method: 'GET', url: '/api/dead-letters?cursor=nope' })).headers[
        'x-cache'
      ],
    ).toBe('miss');
    const one = await server.call('viewer', { method: 'GET', url: `/api/groups/${groupId}` });
    expect(one.headers['x-cache']).toBeUndefined();
  });
});
