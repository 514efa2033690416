/**
 * The one pipeline workload every system runs: N messages of about 100 bytes; a trivial
 * handler that fails exactly 20 % of them (message index divisible by 5) on every attempt;
 * 5 attempts; zero backoff. Workers run while messages are being sent.
 */

/** Receives per message before it is dead: 1 + 4 retries. */
export const MAX_ATTEMPTS = 5;
/** Messages sent per send call (`sendBatch`, `addBulk`, `insert`). */
export const SEND_CHUNK = 1_000;

export interface WorkloadBody {
  i: number;
  kind: string;
  payload: string;
}

const PAD = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Body of message `i`: JSON of about 100 bytes (99 plus the digits of `i`). */
export function bodyOf(i: number): WorkloadBody {
  const payload = PAD.slice(i % 7, 44 + (i % 7)) + String(i).padStart(7, '0');
  return { i, kind: 'bench.order-created', payload };
}

/** Whether message `i` fails: exactly every fifth message, on every attempt. */
export function fails(i: number): boolean {
  return i % 5 === 0;
}

/** The end state a correct system must reach. */
export function expectedEndState(n: number): { done: number; dead: number; handlerCalls: number } {
  let dead = 0;
  for (let i = 0; i < n; i++) if (fails(i)) dead++;
  const done = n - dead;
  return { done, dead, handlerCalls: done + dead * MAX_ATTEMPTS };
}

/**
 * The handler every system runs, wrapped in each system's own API. It counts its calls and
 * the outcomes that end a message (a success, or a failure on the last attempt), so the
 * harness knows when to start asking the system whether everything is settled.
 */
export class WorkloadHandler {
  calls = 0;
  succeeded = 0;
  failedFinal = 0;

  /** Handles message `i` on its `attempt`-th receive (1-based); throws for a failing message. */
  handle(i: number, attempt: number): void {
    this.calls++;
    if (fails(i)) {
      if (attempt >= MAX_ATTEMPTS) this.failedFinal++;
      throw new Error(`boom: order ${i} rejected by the bench handler`);
    }
    this.succeeded++;
  }

  /** Messages the handler saw reach their end (done or dead). */
  settled(): number {
    return this.succeeded + this.failedFinal;
  }
}
