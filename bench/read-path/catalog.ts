import type { FailureInfo } from '../../src/index.ts';

/**
 * The made-up but realistic failures the read-path bench seeds: 200 bugs (one group each)
 * spread over 10 queues, with sizes skewed the way real DLQs are (a few bugs hold most dead
 * letters), errors of every tier, variable parts in messages (ids, numbers, addresses) that
 * grouping must normalise away, and 10-frame stacks that differ per bug.
 */

export const QUEUES = [
  'orders',
  'payments',
  'emails',
  'webhooks',
  'inventory',
  'shipping',
  'invoices',
  'notifications',
  'search-index',
  'analytics',
] as const;

export const GROUP_COUNT = 200;

/** A deterministic pseudo-random generator (mulberry32): the same seed gives the same data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type ErrorShape = (n: number, hex: string) => Omit<FailureInfo, 'stack'>;

/** Error shapes by the tier the built-in classifier gives them; a group takes one shape. */
const SHAPES: ErrorShape[] = [
  (n) => ({
    name: 'Error',
    code: 'ECONNRESET',
    message: `read ECONNRESET while calling ledger for order ${n}`,
  }),
  (n) => ({
    name: 'HTTPError',
    status: 503,
    message: `Request failed with status code 503: inventory unavailable for sku SKU-${n}`,
  }),
  (n, hex) => ({
    name: 'HTTPError',
    status: 429,
    message: `rate limited by mailer for tenant ${hex}, retry after ${n % 60}s`,
  }),
  (n) => ({
    name: 'Error',
    code: 'ETIMEDOUT',
    message: `connect ETIMEDOUT 10.0.${n % 250}.${(n >> 8) % 250}:5432`,
  }),
  (n) => ({ name: 'SyntaxError', message: `Unexpected token } in JSON at position ${n % 4096}` }),
  (n, hex) => ({
    name: 'ZodError',
    message: `Invalid input: expected string, received number at "customer.id" (${hex}, row ${n})`,
  }),
  () => ({ name: 'RangeError', message: 'Maximum call stack size exceeded' }),
  (n, hex) => ({
    name: 'TypeError',
    message: `Cannot read properties of undefined (reading 'address') in order ${hex}-${n}`,
  }),
  (n, hex) => ({ name: 'PermanentError', message: `order ${n} refers to unknown customer cus_${hex}` }),
  (n) => ({
    name: 'Error',
    message: `duplicate key value violates unique constraint "invoices_pkey" for ${n}`,
  }),
];

export interface CatalogGroup {
  index: number;
  queues: string[];
  /** Share of the queue's dead letters, before normalisation. */
  weight: number;
  /** The failure of message `n` in this group (its stack names this group's own frames). */
  failure(n: number, random: () => number): FailureInfo;
}

const FILES = ['handlers', 'services', 'clients', 'domain', 'adapters'];

/** The 200 groups: deterministic for a given seed. */
export function buildCatalog(seed = 1): CatalogGroup[] {
  const random = seededRandom(seed);
  const groups: CatalogGroup[] = [];
  for (let g = 0; g < GROUP_COUNT; g++) {
    const shape = SHAPES[g % SHAPES.length] as ErrorShape;
    const home = g % QUEUES.length;
    const spread = 1 + Math.floor(random() * 3);
    const queues = Array.from({ length: spread }, (_, k) => QUEUES[(home + k * 3) % QUEUES.length] as string);
    // Zipf-like: the group of rank r weighs 1 / r^0.9.
    const weight = 1 / (g + 1) ** 0.9;
    const frames = Array.from({ length: 10 }, (_, depth) => {
      const dir = FILES[(g + depth) % FILES.length];
      return `    at ${depth === 0 ? `handle${g}` : `step${depth}_${g % 17}`} (/srv/app/dist/${dir}/unit-${g}-${depth}.js:${10 + depth * 7}:${5 + (g % 30)})`;
    }).join('\n');
    groups.push({
      index: g,
      queues,
      weight,
      failure(n: number, r: () => number): FailureInfo {
        // A hex id of letters only ('fabdcfcd') reads as a word, which the fingerprint rightly
        // keeps; real ids of 8 hex digits nearly always hold a digit, so these do too.
        const hex = `${Math.floor(r() * 10)}${Math.floor(r() * 0xfffffff)
          .toString(16)
          .padStart(7, '0')}`;
        const info = shape(n, hex);
        return { ...info, stack: `${info.name}: ${info.message}\n${frames}` };
      },
    });
  }
  return groups;
}
