// A dead letter whose message is a list of validation issues (Zod's) is listed with its issues on
// one line, on both stores: they cut every message in SQL, and the engine rewrites these few.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BRIEF_MESSAGE_MAX, toDeadLetterBrief } from '../../src/core/dead-letter-brief.ts';
import { Deadletter } from '../../src/engine/deadletter.ts';
import { createQueues, killOne, T0 } from '../../src/store/conformance/fixtures.ts';
import { dropSchemas, storeUrl, tempSchema } from '../store/postgres-schema.ts';
import { tempDir } from '../support/temp-dir.ts';

const tmp = tempDir();
const schemas: string[] = [];

afterAll(async () => {
  tmp.remove();
  await dropSchemas(...schemas);
});

const ISSUES = [
  {
    code: 'invalid_value',
    values: ['welcome', 'receipt'],
    path: ['template'],
    message: 'Invalid option: expected one of "welcome"|"receipt"',
  },
  ...Array.from({ length: 12 }, (_, i) => ({
    code: 'invalid_type',
    expected: 'number',
    path: ['items', i, 'qty'],
    message: 'Invalid input: expected number, received string',
  })),
];

function describeOn(name: string, url: () => string) {
  describe(`dead-letter briefs of validation issues on ${name}`, () => {
    it('carry the issues on one line, cut to the brief length; other messages are left as cut', async () => {
      const dl = await Deadletter.open({ store: url(), maintenance: false });
      try {
        await createQueues(dl.store, 'orders');
        const zod = await killOne(dl.store, {
          queue: 'orders',
          diedAt: T0 + 100,
          name: 'ZodError',
          message: JSON.stringify(ISSUES, null, 2),
        });
        const short = await killOne(dl.store, {
          queue: 'orders',
          diedAt: T0 + 50,
          name: 'ZodError',
          message: JSON.stringify(ISSUES.slice(0, 1)),
        });
        const notIssues = await killOne(dl.store, {
          queue: 'orders',
          diedAt: T0 + 10,
          name: 'Error',
          message: `[worker 3] ${'x'.repeat(300)}`,
        });
        const page = await dl.listDeadLetterBriefs({ queue: 'orders' });
        const briefs = new Map(page.items.map((item) => [item.id, JSON.parse(item.json)]));
        expect(briefs.get(short).error.message).toBe(
          'template: Invalid option: expected one of "welcome"|"receipt"',
        );
        const long = briefs.get(zod).error.message as string;
        expect(
          long.startsWith(
            'template: Invalid option: expected one of "welcome"|"receipt"; items.0.qty: Invalid input',
          ),
        ).toBe(true);
        expect(Array.from(long)).toHaveLength(BRIEF_MESSAGE_MAX);
        expect(long.endsWith('…')).toBe(true);
        expect(briefs.get(notIssues).error.message).toBe(`[worker 3] ${'x'.repeat(BRIEF_MESSAGE_MAX - 12)}…`);
        // The same as the brief of the full summary, for each.
        const summaries = await dl.listDeadLetters({ queue: 'orders' });
        expect([...briefs.values()]).toEqual(summaries.items.map(toDeadLetterBrief));
      } finally {
        await dl.close();
      }
    });
  });
}

describeOn('SQLite', () => `sqlite:${join(tmp.dir, 'briefs.db')}`);
describeOn('PostgreSQL', () => {
  const schema = tempSchema('briefs');
  schemas.push(schema);
  return storeUrl(schema);
});
