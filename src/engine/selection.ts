import type { DeadLetterFilter, DeadLetterSummary } from '../core/dead-letter.ts';
import type { Store } from '../store/store.ts';

/**
 * Walks every dead letter matching `filter`, newest first, a page at a time, by keyset cursor.
 * Rows removed while walking (replayed, discarded) do not shift the pages: the cursor is a
 * position in (diedAt, id) order, not an offset.
 */
export async function* deadLettersMatching(
  store: Store,
  filter: DeadLetterFilter,
  pageSize = 500,
): AsyncGenerator<DeadLetterSummary[]> {
  let cursor: { diedAt: number; id: string } | undefined;
  for (;;) {
    const page = await store.deadLetterList({ ...filter, limit: pageSize, ...(cursor ? { cursor } : {}) });
    if (page.length === 0) return;
    yield page;
    const last = page[page.length - 1] as DeadLetterSummary;
    cursor = { diedAt: last.diedAt, id: last.id };
    if (page.length < pageSize) return;
  }
}
