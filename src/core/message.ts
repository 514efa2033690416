import type { FailureInfo } from './failure.ts';

/** JSON values: what a message body may hold. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * The live states of a message in its queue. A message that dies leaves the queue for the
 * dead-letter store (see `docs/state-machine.md`). `waiting` with `visibleAt` in the future is
 * shown as *delayed* (a send delay or a retry backoff).
 */
export type MessageState = 'waiting' | 'leased' | 'done';

/** Who ran an attempt. */
export interface WorkerIdentity {
  workerId: string;
  workerVersion: string;
  host: string;
}

/** One failed receive of a message, as kept in its context. */
export interface Attempt extends WorkerIdentity {
  /** 1-based receive number. */
  number: number;
  startedAt: number;
  durationMs: number;
  error: FailureInfo;
}

/** A message to send. */
export interface NewMessage {
  body: Json;
  headers?: Record<string, string>;
  /** Travels with the message (and with its replays); a live message with the same key in the same queue is not enqueued twice. */
  idempotencyKey?: string;
  /** Milliseconds before the message becomes visible. */
  delayMs?: number;
}

/** A message as a worker receives it. */
export interface ClaimedMessage {
  id: string;
  queue: string;
  body: Json;
  headers: Record<string, string>;
  idempotencyKey: string | null;
  enqueuedAt: number;
  /** 1-based: how many times this message has been received, this time included. */
  receives: number;
  leaseToken: string;
  leaseExpiresAt: number;
  /**
   * Failed attempts so far (this receive not included). The SQLite store reads them on the
   * first look (most handlers never look): read them while the handler runs, as once the
   * message is settled they may be gone.
   */
  attempts: Attempt[];
  /** The dead letter this message replays, if it is a replay. */
  replayOf: string | null;
  replayCount: number;
}
