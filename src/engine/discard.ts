import type { Clock } from '../core/clock.ts';
import type { DeadLetterFilter, DeadLetterSummary } from '../core/dead-letter.ts';
import { formatTombstone, validateDiscardReason } from '../core/discard.ts';
import { NotFoundError, ValidationError } from '../core/errors.ts';
import { isTier, type Tier } from '../core/tier.ts';
import type { Store } from '../store/store.ts';
import { deadLettersMatching } from './selection.ts';

/** Options of `Deadletter.discard`. */
export interface DiscardOptions {
  /** Why these dead letters can go: required (except for a dry run), kept in the audit log and every tombstone. */
  reason?: string;
  /** Who discards; default the handle's actor. */
  actor?: string;
  /** Only count and describe what would go; change nothing. */
  dryRun?: boolean;
  /** Dead letters per transaction (and per audit entry), 1–5000. Default 500. */
  batchSize?: number;
  /** Called after each batch with the dead letters handled so far (discarded or skipped) and the total matched. */
  onProgress?: (progress: { done: number; total: number }) => void;
}

/** What a discard did, or (dry run) would do. */
export interface DiscardReport {
  dryRun: boolean;
  reason: string | null;
  /** Dead letters the selection matched when the discard started. */
  matched: number;
  /** Dead letters discarded (0 in a dry run). */
  discarded: number;
  /**
   * Matched, but gone before their batch ran: replayed, discarded or archived by someone else
   * meanwhile. They are not discarded twice and get no second tombstone.
   */
  skipped: number;
  /** Matched dead letters per queue, per group and per tier, largest first. */
  byQueue: { queue: string; count: number }[];
  byGroup: { groupId: string; count: number }[];
  byTier: { tier: Tier; count: number }[];
  /** Up to 5 of the matched dead letters, newest first. */
  samples: DeadLetterSummary[];
  /**
   * The group this discard resolved (a dry run: would resolve): the selection was a whole
   * group (`groupId` and nothing else) and its DLQ is empty afterwards. Null otherwise.
   */
  resolvedGroup: string | null;
}

/** What the engine lends to {@link discardDeadLetters}. */
export interface DiscardDeps {
  store: Store;
  clock: Clock;
  actor: string;
}

const SAMPLES = 5;

/**
 * Discards the dead letters a filter selects (see `Deadletter.discard`). Everything is checked
 * before anything changes: the reason, the filter, the group and queue it names, and that
 * every explicit id is in the DLQ. The selection is then walked twice by keyset cursor: once
 * to count and describe it, once to discard it in batches, each batch one transaction with its
 * tombstones and audit entries.
 */
export async function discardDeadLetters(
  deps: DiscardDeps,
  filter: DeadLetterFilter,
  options: DiscardOptions,
): Promise<DiscardReport> {
  const dryRun = options.dryRun === true;
  const reason = dryRun && options.reason === undefined ? null : validateDiscardReason(options.reason);
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5000) {
    throw new ValidationError(`invalid batch size ${batchSize}: use 1 to 5000`);
  }
  await checkSelection(deps.store, filter);

  const report: DiscardReport = {
    dryRun,
    reason,
    matched: 0,
    discarded: 0,
    skipped: 0,
    byQueue: [],
    byGroup: [],
    byTier: [],
    samples: [],
    resolvedGroup: null,
  };
  const queues = new Map<string, number>();
  const groups = new Map<string, number>();
  const tiers = new Map<Tier, number>();
  for await (const page of deadLettersMatching(deps.store, filter, batchSize)) {
    for (const letter of page) {
      report.matched += 1;
      queues.set(letter.queue, (queues.get(letter.queue) ?? 0) + 1);
      groups.set(letter.groupId, (groups.get(letter.groupId) ?? 0) + 1);
      tiers.set(letter.tier, (tiers.get(letter.tier) ?? 0) + 1);
      if (report.samples.length < SAMPLES) report.samples.push(letter);
    }
  }
  report.byQueue = sortedCounts(queues).map(([queue, count]) => ({ queue, count }));
  report.byGroup = sortedCounts(groups).map(([groupId, count]) => ({ groupId, count }));
  report.byTier = sortedCounts(tiers).map(([tier, count]) => ({ tier, count }));
  const wholeGroup = selectsWholeGroup(filter);

  if (dryRun) {
    if (wholeGroup && report.matched > 0) report.resolvedGroup = wholeGroup;
    return report;
  }
  if (report.matched === 0) {
    throw new NotFoundError('no dead letter matches the selection: nothing was discarded');
  }

  let done = 0;
  for await (const page of deadLettersMatching(deps.store, filter, batchSize)) {
    const result = await deps.store.deadLetterDiscard({
      ids: page.map((letter) => letter.id),
      reason: reason as string,
      actor: deps.actor,
      now: deps.clock.now(),
    });
    report.discarded += result.discarded.length;
    done += page.length;
    options.onProgress?.({ done: Math.min(done, report.matched), total: report.matched });
  }
  // Rows that arrived after the first walk were discarded too; rows gone meanwhile were skipped.
  report.skipped = Math.max(0, report.matched - report.discarded);

  if (wholeGroup) {
    const group = await deps.store.groupGet({ id: wholeGroup });
    if (group && group.deadCount === 0) {
      if (group.status !== 'resolved') {
        await deps.store.groupStatusSet({
          id: wholeGroup,
          status: 'resolved',
          now: deps.clock.now(),
          actor: deps.actor,
        });
      }
      report.resolvedGroup = wholeGroup;
    }
  }
  return report;
}

/**
 * Checks a selection before anything changes: something is selected, the tier is known, the
 * group and queue exist, and every explicit id is a dead letter in the DLQ (a discarded one
 * says by whom, when and why). Throws ValidationError or NotFoundError.
 */
export async function checkSelection(store: Store, filter: DeadLetterFilter): Promise<void> {
  if (!Object.values(filter).some((value) => value !== undefined)) {
    throw new ValidationError(
      'select the dead letters first: give ids, a group, a queue, a tier, a time range, --grep or --where',
    );
  }
  if (filter.tier !== undefined && !isTier(filter.tier))
    throw new ValidationError(`unknown tier "${filter.tier}"`);
  if (filter.groupId !== undefined && !(await store.groupGet({ id: filter.groupId }))) {
    throw new NotFoundError(`unknown group "${filter.groupId}"`);
  }
  if (filter.queue !== undefined && !(await store.queueGet({ name: filter.queue }))) {
    throw new NotFoundError(`unknown queue "${filter.queue}"`);
  }
  if (filter.ids !== undefined) {
    if (filter.ids.length === 0 || filter.ids.length > 1000) {
      throw new ValidationError('give 1 to 1000 dead-letter ids');
    }
    const found = new Set(
      (await store.deadLetterList({ ids: filter.ids, limit: filter.ids.length })).map((letter) => letter.id),
    );
    const missing = filter.ids.filter((id) => !found.has(id));
    if (missing.length > 0) {
      const reasons: string[] = [];
      for (const id of missing.slice(0, 10)) {
        const tombstone = await store.tombstoneGet({ id });
        reasons.push(tombstone ? `${id} (${formatTombstone(tombstone)})` : id);
      }
      const more = missing.length > 10 ? ` and ${missing.length - 10} more` : '';
      throw new NotFoundError(
        `${missing.length === 1 ? 'a dead letter is' : `${missing.length} dead letters are`} not in the DLQ: ` +
          `${reasons.join(', ')}${more}; nothing was changed`,
      );
    }
  }
}

/** The group a filter selects whole (`groupId` and no other filter), or null. */
function selectsWholeGroup(filter: DeadLetterFilter): string | null {
  const others = Object.entries(filter).filter(([key, value]) => key !== 'groupId' && value !== undefined);
  return filter.groupId !== undefined && others.length === 0 ? filter.groupId : null;
}

function sortedCounts<K>(counts: Map<K, number>): [K, number][] {
  return [...counts].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
}
