import type { Deadletter } from '../../src/index.ts';
import { checkDeadLetters } from './dead-check.ts';
import type { SystemCounts } from './harness.ts';
import { MAX_ATTEMPTS, type WorkloadBody } from './workload.ts';

/** The queue of the Deadletter pipeline runs, whatever the store. */
export const QUEUE = 'bench';

/**
 * What the Deadletter systems share, SQLite or PostgreSQL: the bench queue, and sending,
 * counting and checking through the handle's public API. Each store's system adds its workers.
 */
export abstract class DeadletterQueueSystem {
  protected dl: Deadletter | undefined;

  /**
   * Keeps the opened handle (closed by the system's cleanUp) and creates the bench queue: 5
   * receives, backoff fixed:0, done retention 0 (a message that succeeds is deleted when acked,
   * as BullMQ's `removeOnComplete: true` does; its `done` count stays).
   */
  protected async useHandle(dl: Deadletter): Promise<void> {
    this.dl = dl;
    await dl.createQueue(QUEUE, {
      maxReceives: MAX_ATTEMPTS,
      backoff: 'fixed:0',
      visibilityTimeout: '30s',
      doneRetention: 0,
    });
  }

  async send(bodies: WorkloadBody[]): Promise<void> {
    await this.handle().sendBatch(
      QUEUE,
      bodies.map((body) => ({ body: { ...body } })),
    );
  }

  async counts(): Promise<SystemCounts> {
    const stats = (await this.handle().stats()).find((s) => s.queue === QUEUE);
    if (!stats) throw new Error(`no stats for queue ${QUEUE}`);
    return { pending: stats.waiting + stats.delayed + stats.leased, done: stats.done, dead: stats.dead };
  }

  async checkDead(expectedDead: number): Promise<string[]> {
    return checkDeadLetters(this.handle(), QUEUE, expectedDead);
  }

  protected handle(): Deadletter {
    if (!this.dl) throw new Error('not started');
    return this.dl;
  }
}
