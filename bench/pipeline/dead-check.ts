import type { Deadletter } from '../../src/index.ts';
import { fails, MAX_ATTEMPTS, type WorkloadBody } from './workload.ts';

/**
 * Checks Deadletter's dead set after a pipeline run, through the public API, whatever the
 * store: every dead letter listed is a failing message, carries its 5 attempts (each with the
 * error and its stack), the final error, a tier and a group, and all of them share one group
 * (one throw site, numbers normalised away). Returns the problems found, empty when all is well.
 */
export async function checkDeadLetters(
  dl: Deadletter,
  queue: string,
  expectedDead: number,
): Promise<string[]> {
  const problems: string[] = [];
  let seen = 0;
  let notFailing = 0;
  let withoutContext = 0;
  let cursor: string | undefined;
  const groups = new Set<string>();
  do {
    const page = await dl.listDeadLetters({ queue, limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const summary of page.items) {
      seen++;
      groups.add(summary.groupId);
      const letter = await dl.getDeadLetter(summary.id);
      const body = letter.body as unknown as WorkloadBody;
      if (!fails(body.i)) notFailing++;
      const attemptsOk =
        letter.attempts.length === MAX_ATTEMPTS &&
        letter.attempts.every(
          (a, k) => a.number === k + 1 && a.error.message.startsWith('boom') && a.error.stack,
        );
      if (!attemptsOk || !letter.error.message.startsWith('boom') || !letter.tier || !letter.groupId) {
        withoutContext++;
      }
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  if (seen !== expectedDead) problems.push(`${seen} dead letters listed, expected ${expectedDead}`);
  if (notFailing > 0) problems.push(`${notFailing} dead letters are messages that should have succeeded`);
  if (withoutContext > 0) {
    problems.push(`${withoutContext} dead letters lack their 5 attempts, error, stack, tier or group`);
  }
  if (groups.size !== 1) problems.push(`dead letters fell into ${groups.size} groups, expected 1`);
  return problems;
}
