import { describe, expect, it } from 'vitest';
import { errorLine, formatAge, formatAgo } from '../../src/cli/output.ts';

describe('ages in CLI tables', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');

  it('read in whole seconds, as "… ago" does', () => {
    expect(formatAge(now - 20_600, now)).toBe('20s');
    expect(formatAgo(now - 20_600, now)).toBe('20s ago');
    expect(formatAge(now - 192_400, now)).toBe('3m12s');
    expect(formatAge(now - 26 * 3_600_000 - 5_000, now)).toBe('1d2h5s');
  });

  it('say 0s under a second, never a negative age, and - for none', () => {
    expect(formatAge(now - 400, now)).toBe('0s');
    expect(formatAge(now + 5_000, now)).toBe('0s');
    expect(formatAge(null, now)).toBe('-');
  });
});

describe('errors in CLI tables', () => {
  it('show a Zod issue list as its issues on one line, not as the start of its JSON', () => {
    const issues = [
      { code: 'invalid_type', expected: 'string', path: ['customer', 'email'], message: 'Required' },
      { code: 'too_small', minimum: 1, path: ['items', 3, 'qty'], message: 'Number must be greater than 0' },
    ];
    expect(errorLine({ name: 'ZodError', message: JSON.stringify(issues, null, 2) }, 200)).toBe(
      'ZodError: customer.email: Required; items.3.qty: Number must be greater than 0',
    );
  });

  it('keep any other message on one line, cut to the width with an ellipsis', () => {
    expect(errorLine({ name: 'Error', message: 'connect ECONNREFUSED\n  127.0.0.1:5432' }, 200)).toBe(
      'Error: connect ECONNREFUSED 127.0.0.1:5432',
    );
    expect(errorLine({ name: 'Error', message: '[not json' }, 12)).toBe('Error: [not…');
  });
});
