import { describe, expect, it } from 'vitest';
import { diffJson } from '../../src/core/json-diff.ts';

describe('diffJson', () => {
  it('is empty for equal values, whatever the key order', () => {
    expect(diffJson({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toEqual([]);
  });

  it('lists changed, added and removed paths in objects and arrays', () => {
    expect(
      diffJson(
        { amount: '12,50', customer: { country: 'DE', 'first name': 'A' }, items: [1, 2, 3] },
        { amount: 1250, customer: { country: 'DE', vip: true }, items: [1, 5] },
      ),
    ).toEqual([
      { path: 'amount', kind: 'changed', before: '12,50', after: 1250 },
      { path: 'customer.vip', kind: 'added', after: true },
      { path: 'customer["first name"]', kind: 'removed', before: 'A' },
      { path: 'items[1]', kind: 'changed', before: 2, after: 5 },
      { path: 'items[2]', kind: 'removed', before: 3 },
    ]);
  });

  it('reports a change of type, or of the whole body, at its path', () => {
    expect(diffJson({ a: [1] }, { a: { 0: 1 } })).toEqual([
      { path: 'a', kind: 'changed', before: [1], after: { 0: 1 } },
    ]);
    expect(diffJson('text', 42)).toEqual([{ path: '', kind: 'changed', before: 'text', after: 42 }]);
  });
});
