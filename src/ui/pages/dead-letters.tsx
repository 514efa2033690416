import { useEffect, useState } from 'preact/hooks';
import { api, type DeadLetterBrief, type Selector } from '../api.ts';
import { Badge, Empty, ErrorBox, Loading, PageHeader, Time, useAsync } from '../components/common.tsx';
import { SelectorForm } from '../components/filters.tsx';
import { firstLine } from '../format.ts';
import { describeSelector, selectorFromQuery, selectorQuery } from '../selector.ts';
import { roleAllows, useSession } from '../session.ts';

const PAGE_SIZE = 50;
/** The most dead letters that can be chosen one by one (the API's `ids` limit). */
const MAX_CHOSEN = 1000;

/**
 * Dead letters, newest first, with the CLI's filters and keyset (cursor) paging, which stays
 * as fast on page 10,000 as on page 1. Choose some, or everything the filter matches, and
 * replay or discard them.
 */
export function DeadLettersPage({ query }: { query: URLSearchParams }) {
  const session = useSession();
  const selector = selectorFromQuery(query);
  const key = selectorQuery(selector);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [allMatching, setAllMatching] = useState(false);
  useEffect(() => {
    setCursors([null]);
    setChosen(new Set());
    setAllMatching(false);
  }, [key]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const page = useAsync(() => api.deadLetters(selector, { limit: PAGE_SIZE, cursor }), [key, cursor]);
  const operator = roleAllows(session.role, 'operator');
  const items = page.data?.items ?? [];

  const toggle = (id: string) =>
    setChosen((set) => {
      const next = new Set(set);
      if (next.has(id)) next.delete(id);
      else if (next.size < MAX_CHOSEN) next.add(id);
      return next;
    });
  const pageChosen = items.length > 0 && items.every((d) => chosen.has(d.id));
  const togglePage = () =>
    setChosen((set) => {
      const next = new Set(set);
      for (const d of items) {
        if (pageChosen) next.delete(d.id);
        else if (next.size < MAX_CHOSEN) next.add(d.id);
      }
      return next;
    });
  const target: Selector | undefined = allMatching
    ? selector
    : chosen.size > 0
      ? { ids: [...chosen] }
      : undefined;
  const hasFilter = key !== '';

  return (
    <>
      <PageHeader title="Dead letters" sub="Newest first. The filters are those of dlq list." />
      <SelectorForm selector={selector} basePath="/dead-letters" />
      {operator && (target || items.length > 0) ? (
        <section class="selection-bar" aria-label="Selection">
          <span>
            {allMatching
              ? `Everything matching: ${describeSelector(selector)}`
              : chosen.size > 0
                ? `${chosen.size} chosen`
                : 'Choose dead letters to replay or discard them.'}
          </span>
          {hasFilter && !allMatching ? (
            <button type="button" class="small" onClick={() => setAllMatching(true)}>
              Select all matching the filter
            </button>
          ) : null}
          {target ? (
            <>
              <button
                type="button"
                class="small"
                onClick={() => {
                  setChosen(new Set());
                  setAllMatching(false);
                }}
              >
                Clear selection
              </button>
              <a class="button small primary" href={`/replay${selectorQuery(target)}`}>
                Replay…
              </a>
              <a class="button small danger" href={`/discard${selectorQuery(target)}`}>
                Discard…
              </a>
            </>
          ) : null}
        </section>
      ) : null}
      {page.error ? <ErrorBox error={page.error} title="Could not list dead letters" /> : null}
      {page.data === undefined && !page.error ? <Loading what="dead letters" /> : null}
      {page.data && items.length === 0 ? (
        <Empty title={hasFilter ? 'No dead letter matches these filters' : 'The DLQ is empty'}>
          {hasFilter ? 'Widen the time range or clear a filter.' : 'Nothing has died. Good.'}
        </Empty>
      ) : null}
      {items.length > 0 ? (
        <>
          <div class="table-wrap">
            <table class="data">
              <thead>
                <tr>
                  {operator ? (
                    <th scope="col">
                      <input
                        type="checkbox"
                        aria-label="Choose every dead letter on this page"
                        checked={pageChosen || allMatching}
                        disabled={allMatching}
                        onChange={togglePage}
                      />
                    </th>
                  ) : null}
                  <th scope="col">Died</th>
                  <th scope="col">Queue</th>
                  <th scope="col">Tier</th>
                  <th scope="col">Error</th>
                  <th scope="col" class="num">
                    Attempts
                  </th>
                  <th scope="col" class="num">
                    Replays
                  </th>
                  <th scope="col">Group</th>
                </tr>
              </thead>
              <tbody>
                {items.map((d) => (
                  <Row
                    key={d.id}
                    letter={d}
                    operator={operator}
                    chosen={allMatching || chosen.has(d.id)}
                    disabled={allMatching}
                    onToggle={() => toggle(d.id)}
                  />
                ))}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label="Pages">
            <button type="button" disabled={cursors.length === 1} onClick={() => setCursors([null])}>
              Newest
            </button>
            <button
              type="button"
              disabled={cursors.length === 1}
              onClick={() => setCursors((c) => c.slice(0, -1))}
            >
              ← Newer
            </button>
            <span class="muted">Page {cursors.length}</span>
            <button
              type="button"
              disabled={!page.data?.nextCursor}
              onClick={() => {
                const next = page.data?.nextCursor;
                if (next) setCursors((c) => [...c, next]);
              }}
            >
              Older →
            </button>
          </nav>
        </>
      ) : null}
    </>
  );
}

function Row({
  letter: d,
  operator,
  chosen,
  disabled,
  onToggle,
}: {
  letter: DeadLetterBrief;
  operator: boolean;
  chosen: boolean;
  disabled: boolean;
  onToggle: () => void;
}) {
  const href = `/dead-letters/${encodeURIComponent(d.id)}`;
  return (
    <tr>
      {operator ? (
        <td>
          <input
            type="checkbox"
            aria-label={`Choose dead letter ${d.id}`}
            checked={chosen}
            disabled={disabled}
            onChange={onToggle}
          />
        </td>
      ) : null}
      <td>
        <a href={href}>
          <Time at={d.diedAt} />
        </a>
      </td>
      <td>{d.queue}</td>
      <td>
        <Badge kind="tier" value={d.tier} />
      </td>
      <td class="wrap">
        <a href={href}>
          <strong>{d.error.name}</strong>
        </a>
        : <span class="error-text">{firstLine(d.error.message)}</span>
      </td>
      <td class="num">{d.attemptCount}</td>
      <td class="num">{d.replayCount}</td>
      <td>
        <a href={`/groups/${encodeURIComponent(d.groupId)}`} class="mono" title={d.groupId}>
          {d.groupId.slice(0, 10)}
        </a>
      </td>
    </tr>
  );
}
