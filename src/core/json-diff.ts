import type { Json } from './message.ts';

/** One difference between two JSON values, at a path such as `customer.address[0].city`. */
export interface JsonChange {
  /** The path from the root; `''` is the root itself. */
  path: string;
  kind: 'added' | 'removed' | 'changed';
  /** Absent for `added`. */
  before?: Json;
  /** Absent for `removed`. */
  after?: Json;
}

/**
 * The differences between two JSON values, depth first in key order of `after` then removed
 * keys: objects are compared key by key and arrays index by index; any other difference (a
 * value, a type) is one `changed` entry at its path. Equal values give `[]`.
 */
export function diffJson(before: Json, after: Json, path = ''): JsonChange[] {
  if (isObject(before) && isObject(after)) {
    const changes: JsonChange[] = [];
    for (const key of Object.keys(after)) {
      const at = joinKey(path, key);
      if (!(key in before)) changes.push({ path: at, kind: 'added', after: after[key] as Json });
      else changes.push(...diffJson(before[key] as Json, after[key] as Json, at));
    }
    for (const key of Object.keys(before)) {
      if (!(key in after))
        changes.push({ path: joinKey(path, key), kind: 'removed', before: before[key] as Json });
    }
    return changes;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const changes: JsonChange[] = [];
    const length = Math.max(before.length, after.length);
    for (let i = 0; i < length; i++) {
      const at = `${path}[${i}]`;
      if (i >= before.length) changes.push({ path: at, kind: 'added', after: after[i] as Json });
      else if (i >= after.length) changes.push({ path: at, kind: 'removed', before: before[i] as Json });
      else changes.push(...diffJson(before[i] as Json, after[i] as Json, at));
    }
    return changes;
  }
  return sameJson(before, after) ? [] : [{ path, kind: 'changed', before, after }];
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameJson(a: Json, b: Json): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function joinKey(path: string, key: string): string {
  if (!PLAIN_KEY.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}
