import { randomInt } from 'node:crypto';
import type { FailureInfo } from '../../core/failure.ts';
import type { DeathRecord, FailItem, LeaseRef } from '../store.ts';
import { UNPREPARED } from './db.ts';
import type { PostgresStatements } from './statements.ts';

/** Parameters of a statement. */
export type Values = unknown[];

/**
 * Counter slots per queue (see `queue_counters` in migration 0001): a writer adds to a random
 * one, so two concurrent ackers of a queue meet on the same row once in 16 times.
 */
const COUNTER_SLOTS = 16;

/** A random counter slot for one call's counter updates. */
export function randomCounterSlot(): number {
  return randomInt(COUNTER_SLOTS);
}

/**
 * PostgreSQL's `text` cannot hold the NUL character, which an error message thrown by a handler
 * may well contain; refusing it would leave the message unable to fail. It becomes U+FFFD in
 * the text columns (the attempts keep the exact text, escaped as JSON).
 */
export function storableText(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
}

/** What a batched lease statement returns per applied item: the id and the token it matched. */
export interface LeaseResultRow {
  id: string;
  token: string;
}

/**
 * A copy of `items` sorted by id. Batched updates lock rows in the order they meet them; the
 * same order everywhere keeps two batches that share rows (a late ack racing the lease sweep)
 * from deadlocking.
 */
export function sortedById<T extends LeaseRef>(items: T[]): T[] {
  return [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function leaseKey(ref: { id: string; token: string } | LeaseRef): string {
  return `${ref.id}\u0000${'token' in ref ? ref.token : ref.leaseToken}`;
}

/**
 * The ids of the items that were not applied, in the items' order, given the rows that were.
 * An item applies if a row matched its id and token; a pair given twice applies once, and its
 * repeat is lost (as it would be if the items were applied one by one).
 */
export function settle(items: LeaseRef[], applied: LeaseResultRow[]): string[] {
  const remaining = new Map<string, number>();
  for (const row of applied) remaining.set(leaseKey(row), (remaining.get(leaseKey(row)) ?? 0) + 1);
  const lost: string[] = [];
  for (const item of items) {
    const key = leaseKey(item);
    const n = remaining.get(key) ?? 0;
    if (n > 0) remaining.set(key, n - 1);
    else lost.push(item.id);
  }
  return lost;
}

/** The items of a `messageFail` call split by outcome, each kind sorted by id. */
export interface FailBatches {
  retry: (FailItem & { outcome: 'retry' })[];
  drop: (FailItem & { outcome: 'drop' })[];
  /** `ord` is the item's position in the call: the first death of a group is its sample. */
  dead: (FailItem & { outcome: 'dead'; death: DeathRecord; ord: number })[];
}

/**
 * Splits failure items by outcome for one statement per kind. A lease given twice (same id and
 * token) is kept only the first time, so no two statements of the call touch the same row; the
 * repeat is reported lost by {@link settle}.
 */
export function failBatches(items: FailItem[]): FailBatches {
  const batches: FailBatches = { retry: [], drop: [], dead: [] };
  const seen = new Set<string>();
  items.forEach((item, ord) => {
    const key = leaseKey(item);
    if (seen.has(key)) return;
    seen.add(key);
    if (item.outcome === 'retry') batches.retry.push(item);
    else if (item.outcome === 'drop') batches.drop.push(item);
    else batches.dead.push({ ...item, ord });
  });
  return {
    retry: sortedById(batches.retry),
    drop: sortedById(batches.drop),
    dead: sortedById(batches.dead),
  };
}

/** A statement of a `messageFail` call: prepared-statement name, SQL and parameters. */
export type FailStatement = [name: string | undefined, sql: string, values: Values];

/** The parameters of `messageFailMixed` for a batch holding several kinds of outcome. */
function mixedValues(batches: FailBatches, now: number, slot: number): Values {
  const items = [...batches.retry, ...batches.drop, ...batches.dead];
  const death = (item: FailItem) => (item.outcome === 'dead' ? item.death : undefined);
  const error = (item: FailItem) => death(item)?.error;
  return [
    items.map((i) => i.id),
    items.map((i) => i.leaseToken),
    items.map((i) => i.outcome),
    items.map((i) => ('ord' in i ? i.ord : 0)),
    items.map((i) => (i.outcome === 'retry' ? i.visibleAt : null)),
    items.map((i) => JSON.stringify(i.attempt)),
    items.map((i) => death(i)?.tier ?? null),
    items.map((i) => (error(i) ? storableText((error(i) as FailureInfo).name) : null)),
    items.map((i) => (error(i) ? storableText((error(i) as FailureInfo).message) : null)),
    items.map((i) => {
      const stack = error(i)?.stack;
      return stack === undefined ? null : storableText(stack);
    }),
    items.map((i) => {
      const code = error(i)?.code;
      return code === undefined ? null : storableText(code);
    }),
    items.map((i) => error(i)?.status ?? null),
    items.map((i) => {
      const d = death(i);
      return d ? storableText(d.fingerprint) : null;
    }),
    items.map((i) => death(i)?.groupId ?? null),
    items.map((i) => {
      const d = death(i);
      return d ? storableText(d.normalizedMessage) : null;
    }),
    now,
    slot,
  ];
}

/**
 * The statements of one `messageFail` call, all counting into one random slot: one statement
 * per kind when the batch holds one kind of outcome, else `messageFailMixed` for all of them
 * (one round trip and one commit, where a statement per kind needs a transaction around them).
 */
export function failStatements(sql: PostgresStatements, batches: FailBatches, now: number): FailStatement[] {
  const statements: FailStatement[] = [];
  const slot = randomCounterSlot();
  const { retry, drop, dead } = batches;
  const kinds = [retry, drop, dead].filter((items) => items.length > 0).length;
  if (kinds > 1) return [[UNPREPARED, sql.messageFailMixed, mixedValues(batches, now, slot)]];
  if (retry.length > 0) {
    statements.push([
      UNPREPARED,
      sql.messageRetry,
      [
        retry.map((i) => i.id),
        retry.map((i) => i.leaseToken),
        retry.map((i) => i.visibleAt),
        retry.map((i) => JSON.stringify(i.attempt)),
        now,
      ],
    ]);
  }
  if (drop.length > 0) {
    statements.push([
      UNPREPARED,
      sql.messageDrop,
      [drop.map((i) => i.id), drop.map((i) => i.leaseToken), slot],
    ]);
  }
  if (dead.length > 0) {
    const error = dead.map((i) => i.death.error);
    statements.push([
      UNPREPARED,
      sql.messageDead,
      [
        dead.map((i) => i.id),
        dead.map((i) => i.leaseToken),
        dead.map((i) => i.ord),
        dead.map((i) => JSON.stringify(i.attempt)),
        dead.map((i) => i.death.tier),
        error.map((e) => storableText(e.name)),
        error.map((e) => storableText(e.message)),
        error.map((e) => (e.stack === undefined ? null : storableText(e.stack))),
        error.map((e) => (e.code === undefined ? null : storableText(e.code))),
        error.map((e) => e.status ?? null),
        dead.map((i) => storableText(i.death.fingerprint)),
        dead.map((i) => i.death.groupId),
        dead.map((i) => storableText(i.death.normalizedMessage)),
        now,
        slot,
      ],
    ]);
  }
  return statements;
}
