import { describe } from 'vitest';
import { describeAlerts } from './alerts.ts';
import { describeApiTokens } from './api-tokens.ts';
import { describeAuditLog } from './audit-log.ts';
import { describeAuditedChanges } from './audited-changes.ts';
import { describeConcurrency } from './concurrency.ts';
import { describeDeadLetterEdit } from './dead-letter-edit.ts';
import { describeDeadLetterSelectors } from './dead-letter-selectors.ts';
import { describeDeadLetters } from './dead-letters.ts';
import { describeDiscard } from './discard.ts';
import { describeDoneRetention } from './done-retention.ts';
import { describeFailures, describeStats } from './failures.ts';
import { describeFidelity } from './fidelity.ts';
import { type StoreFactory, useStore } from './fixtures.ts';
import { describeGroupMerge } from './group-merge.ts';
import { describeGroups } from './groups.ts';
import { describeJsonLists } from './json-lists.ts';
import { describeLeadership } from './leadership.ts';
import { describeLeases, describeMessageClaim, describeMessageInsert } from './messages.ts';
import { describeQueueDocs } from './queue-docs.ts';
import { describeQueueSamples } from './queue-samples.ts';
import { describeQueues } from './queues.ts';
import { describeReplay } from './replay.ts';
import { describeRetention } from './retention.ts';
import { describeSettleAndClaim } from './settle-and-claim.ts';
import { describeTriageCounts } from './triage-counts.ts';

export type { StoreFactory, StoreUnderTest } from './fixtures.ts';

/**
 * Registers the store conformance suite: the behaviour every `Store` must have, checked the
 * same way for every database. `factory` is called before each test and must return a store
 * on a fresh, empty, migrated database, and a `cleanup` that removes it (the suite closes the
 * store first). Tests pass explicit times and never sleep.
 *
 * @example
 * describeStoreConformance('sqlite', async () => {
 *   const file = tempFile();
 *   return { store: await openStore(`sqlite:${file}`, { migrate: true }), cleanup: () => removeFile(file) };
 * });
 */
export function describeStoreConformance(name: string, factory: StoreFactory): void {
  describe(`store conformance: ${name}`, () => {
    const ctx = useStore(factory);
    describeQueues(ctx);
    describeMessageInsert(ctx);
    describeMessageClaim(ctx);
    describeLeases(ctx);
    describeSettleAndClaim(ctx);
    describeFailures(ctx);
    describeStats(ctx);
    describeDeadLetters(ctx);
    describeDeadLetterSelectors(ctx);
    describeGroups(ctx);
    describeGroupMerge(ctx);
    describeLeadership(ctx);
    describeAuditLog(ctx);
    describeApiTokens(ctx);
    describeQueueSamples(ctx);
    describeAlerts(ctx);
    describeReplay(ctx);
    describeRetention(ctx);
    describeDoneRetention(ctx);
    describeDiscard(ctx);
    describeDeadLetterEdit(ctx);
    describeQueueDocs(ctx);
    describeAuditedChanges(ctx);
    describeTriageCounts(ctx);
    describeConcurrency(ctx);
    describeFidelity(ctx);
    describeJsonLists(ctx);
  });
}
