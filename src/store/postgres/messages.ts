import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { ClaimedMessage, WorkerIdentity } from '../../core/message.ts';
import type {
  ExpiredLease,
  FailItem,
  LeaseRef,
  MessageInsert,
  MessageInsertResult,
  MessageRecord,
  SettleAndClaimResult,
} from '../store.ts';
import { isDeadlock, isUniqueViolation } from './connection.ts';
import { type PgDb, type Queryable, UNPREPARED } from './db.ts';
import {
  failBatches,
  failStatements,
  type LeaseResultRow,
  randomCounterSlot,
  settle,
  sortedById,
} from './lease-batches.ts';
import {
  type ExpiredLeaseRow,
  type MessageRow,
  toClaimedMessage,
  toExpiredLease,
  toMessageRecord,
} from './rows.ts';
import type { PostgresStatements } from './statements.ts';

/** Rounds of "insert, then look up the live holder of each skipped key" before giving up. */
const MAX_INSERT_ROUNDS = 5;

/** Attempts of a keyed insert that PostgreSQL aborted to break a deadlock. */
const MAX_DEADLOCK_RETRIES = 5;

/** A row of the insert statement. */
interface InsertResultRow {
  queue_found: boolean;
  ids: string[];
}

/**
 * The message methods of the PostgreSQL store: sends, claims and the lease outcomes. Each call
 * is one statement where possible (batches as arrays through `unnest`), which PostgreSQL runs
 * as its own transaction; a call that needs several statements runs them in one transaction.
 */
export class PostgresMessages {
  constructor(
    private readonly db: PgDb,
    private readonly sql: PostgresStatements,
  ) {}

  async insertBatch(params: {
    queue: string;
    messages: MessageInsert[];
    now: number;
  }): Promise<MessageInsertResult[]> {
    // Without keys the insert is one statement; with keys, a holder may finish between the
    // insert that skipped a key and the look-up of its id, so the rounds share a transaction.
    const keyed = params.messages.some((m) => m.idempotencyKey !== null && m.idempotencyKey !== undefined);
    try {
      return keyed ? await this.keyedInsert(params) : await this.insertRounds(params);
    } catch (cause) {
      if (isUniqueViolation(cause, 'messages_pkey')) {
        const id = /\(id\)=\((.*)\)/.exec(cause.detail ?? '')?.[1];
        throw new ConflictError(`message id ${id === undefined ? '' : `"${id}" `}is already taken`, {
          cause,
        });
      }
      throw cause;
    }
  }

  /**
   * Batches insert their keys in key order, so two batches sharing keys cannot deadlock on
   * them; a replay inserting one of those keys at the same moment still can. PostgreSQL breaks
   * such a deadlock by aborting one transaction, which is run again: nothing of it was applied.
   */
  private async keyedInsert(params: {
    queue: string;
    messages: MessageInsert[];
    now: number;
  }): Promise<MessageInsertResult[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction((tx) => this.insertRounds(params, tx));
      } catch (error) {
        if (!isDeadlock(error) || attempt >= MAX_DEADLOCK_RETRIES) throw error;
      }
    }
  }

  private async insertRounds(
    params: { queue: string; messages: MessageInsert[]; now: number },
    tx: Queryable = this.db,
  ): Promise<MessageInsertResult[]> {
    const results: MessageInsertResult[] = new Array(params.messages.length);
    let pending = params.messages.map((message, index) => ({ message, index }));
    for (let round = 0; round < MAX_INSERT_ROUNDS; round++) {
      const batch = pending.map((p) => p.message);
      const { rows } = await tx.query<InsertResultRow>('message_insert', this.sql.messageInsert, [
        params.queue,
        batch.map((m) => m.id),
        batch.map((m) => m.bodyJson ?? JSON.stringify(m.body)),
        batch.map((m) => JSON.stringify(m.headers)),
        batch.map((m) => m.idempotencyKey ?? null),
        batch.map((m) => m.visibleAt),
        batch.map((m) => m.replayOf ?? null),
        batch.map((m) => m.replayCount ?? 0),
        params.now,
      ]);
      if (!rows[0]?.queue_found) throw new NotFoundError(`queue "${params.queue}" does not exist`);
      const inserted = new Set(rows[0].ids);
      const skipped = pending.filter((p) => !inserted.has(p.message.id));
      for (const p of pending) {
        if (inserted.has(p.message.id)) results[p.index] = { id: p.message.id, deduplicated: false };
      }
      if (skipped.length === 0) return results;
      // Only keyed messages are skipped (ON CONFLICT names the key index; an id clash raises).
      const keys = skipped.map((p) => p.message.idempotencyKey as string);
      const live = await tx.query<{ idempotency_key: string; id: string }>(
        'message_find_live_by_keys',
        this.sql.messageFindLiveByKeys,
        [params.queue, keys],
      );
      const holders = new Map(live.rows.map((row) => [row.idempotency_key, row.id]));
      pending = [];
      for (const p of skipped) {
        const holder = holders.get(p.message.idempotencyKey as string);
        if (holder === undefined) pending.push(p);
        else results[p.index] = { id: holder, deduplicated: true };
      }
      if (pending.length === 0) return results;
      // The holder finished meanwhile: the key is free again, so the next round inserts.
    }
    throw new Error(`could not settle idempotency keys of queue "${params.queue}": too much contention`);
  }

  async claim(
    params: {
      queue: string;
      limit: number;
      now: number;
      leaseMs: number;
      worker: WorkerIdentity;
    },
    on: Queryable = this.db,
  ): Promise<ClaimedMessage[]> {
    if (params.limit <= 0) return [];
    const { rows } = await on.query<MessageRow>('message_claim', this.sql.messageClaim, [
      params.queue,
      params.now,
      params.now + params.leaseMs,
      params.limit,
      params.worker.workerId,
      params.worker.workerVersion,
      params.worker.host,
    ]);
    // RETURNING gives rows in no particular order; hand them out in claim order.
    rows.sort((a, b) => a.visible_at - b.visible_at || a.seq - b.seq);
    return rows.map(toClaimedMessage);
  }

  async complete(
    params: { items: LeaseRef[]; now: number },
    on: Queryable = this.db,
  ): Promise<{ completed: number; lost: string[] }> {
    if (params.items.length === 0) return { completed: 0, lost: [] };
    const items = sortedById(params.items);
    const { rows } = await on.query<LeaseResultRow>(UNPREPARED, this.sql.messageComplete, [
      items.map((i) => i.id),
      items.map((i) => i.leaseToken),
      params.now,
      randomCounterSlot(),
    ]);
    const lost = settle(params.items, rows);
    return { completed: params.items.length - lost.length, lost };
  }

  /** `on` a transaction runs the statements in it; on the pool, in one of their own if several. */
  async fail(
    params: { items: FailItem[]; now: number },
    on?: Queryable,
  ): Promise<{ applied: number; lost: string[] }> {
    if (params.items.length === 0) return { applied: 0, lost: [] };
    const statements = failStatements(this.sql, failBatches(params.items), params.now);
    const run = async (tx: Queryable) => {
      const all: LeaseResultRow[] = [];
      for (const [name, text, values] of statements) {
        all.push(...(await tx.query<LeaseResultRow>(name, text, values)).rows);
      }
      return all;
    };
    const rows = on
      ? await run(on)
      : statements.length === 1
        ? await run(this.db)
        : await this.db.transaction(run);
    const lost = settle(params.items, rows);
    return { applied: params.items.length - lost.length, lost };
  }

  /**
   * Acks, failures and the next claim in one transaction: one commit, so one wait for the WAL
   * flush instead of three (with `synchronous_commit` on, what bounds a worker's throughput).
   */
  async settleAndClaim(params: {
    complete: LeaseRef[];
    fail: FailItem[];
    now: number;
    claim: { queue: string; limit: number; leaseMs: number; worker: WorkerIdentity };
  }): Promise<SettleAndClaimResult> {
    return this.db.transaction(async (tx) => ({
      completed: await this.complete({ items: params.complete, now: params.now }, tx),
      failed: await this.fail({ items: params.fail, now: params.now }, tx),
      claimed: await this.claim({ ...params.claim, now: params.now }, tx),
    }));
  }

  async extendLease(params: LeaseRef & { leaseExpiresAt: number }): Promise<boolean> {
    const result = await this.db.query('message_extend_lease', this.sql.messageExtendLease, [
      params.id,
      params.leaseToken,
      params.leaseExpiresAt,
    ]);
    return result.rowCount === 1;
  }

  async release(params: {
    items: (LeaseRef & { uncountReceive: boolean })[];
    now: number;
  }): Promise<{ released: number }> {
    if (params.items.length === 0) return { released: 0 };
    const items = sortedById(params.items);
    const { rows } = await this.db.query<{ released: number }>(UNPREPARED, this.sql.messageRelease, [
      items.map((i) => i.id),
      items.map((i) => i.leaseToken),
      items.map((i) => (i.uncountReceive ? 1 : 0)),
      params.now,
    ]);
    return { released: rows[0]?.released ?? 0 };
  }

  async listExpiredLeases(params: { now: number; limit: number }): Promise<ExpiredLease[]> {
    const { rows } = await this.db.query<ExpiredLeaseRow>(
      'message_expired_leases',
      this.sql.messageExpiredLeases,
      [params.now, params.limit],
    );
    return rows.map(toExpiredLease);
  }

  async get(params: { id: string }): Promise<MessageRecord | undefined> {
    const { rows } = await this.db.query<MessageRow>('message_get', this.sql.messageGet, [params.id]);
    return rows[0] ? toMessageRecord(rows[0]) : undefined;
  }

  async hasPending(params: { queue: string }): Promise<boolean> {
    const { rows } = await this.db.query<{ pending: boolean }>(
      'message_has_pending',
      this.sql.messageHasPending,
      [params.queue],
    );
    return rows[0]?.pending === true;
  }
}
