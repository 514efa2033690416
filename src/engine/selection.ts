import type { DeadLetterCursor, DeadLetterFilter, DeadLetterSummary } from '../core/dead-letter.ts';
import type { Store } from '../store/store.ts';

/**
 * Walks every dead letter matching `filter`, newest first, a page at a time, by keyset cursor.
 * Rows removed while walking (replayed, discarded) do not shift the pages: the cursor is a
 * position in (diedAt, id) order, not an offset. `pageSize` may be a function, asked before
 * each page (a replay's canary and rate limit vary it); `after` starts after that position
 * (a resumed replay job's).
 */
export function deadLettersMatching(
  store: Store,
  filter: DeadLetterFilter,
  pageSize: number | (() => number) = 500,
  after?: DeadLetterCursor,
): AsyncGenerator<DeadLetterSummary[]> {
  return pages((params) => store.deadLetterList(params), filter, pageSize, after);
}

/**
 * {@link deadLettersMatching} with the positions only (`{diedAt, id}`), for a walk that needs
 * nothing else (a replay job's batches): the store reads its list index, not the rows.
 */
export function deadLetterKeysMatching(
  store: Store,
  filter: DeadLetterFilter,
  pageSize: number | (() => number) = 500,
  after?: DeadLetterCursor,
): AsyncGenerator<DeadLetterCursor[]> {
  return pages((params) => store.deadLetterListKeys(params), filter, pageSize, after);
}

async function* pages<T extends DeadLetterCursor>(
  list: (params: DeadLetterFilter & { limit: number; cursor?: DeadLetterCursor }) => Promise<T[]>,
  filter: DeadLetterFilter,
  pageSize: number | (() => number),
  after: DeadLetterCursor | undefined,
): AsyncGenerator<T[]> {
  let cursor: DeadLetterCursor | undefined = after;
  for (;;) {
    const limit = typeof pageSize === 'number' ? pageSize : pageSize();
    const page = await list({ ...filter, limit, ...(cursor ? { cursor } : {}) });
    if (page.length === 0) return;
    yield page;
    const last = page[page.length - 1] as T;
    cursor = { diedAt: last.diedAt, id: last.id };
    if (page.length < limit) return;
  }
}
