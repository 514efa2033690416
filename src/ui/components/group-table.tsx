import type { Group } from '../api.ts';
import { formatCount } from '../format.ts';
import { Badge, Time } from './common.tsx';

export type GroupSortKey = 'count' | 'lastSeen' | 'firstSeen';

/** Which groups are chosen (for a merge), when the table offers a choice. */
export interface GroupChoice {
  chosen: ReadonlySet<string>;
  onToggle: (id: string) => void;
}

/**
 * Groups as a table: status, tier, the normalised error, counts, queues, first and last seen;
 * with `choice`, a checkbox per group.
 */
export function GroupTable({
  groups,
  sort,
  onSort,
  choice,
}: {
  groups: Group[];
  sort?: GroupSortKey;
  onSort?: (key: GroupSortKey) => void;
  choice?: GroupChoice;
}) {
  const header = (key: GroupSortKey, label: string, cls = '') => (
    <th scope="col" class={cls} aria-sort={sort === key ? 'descending' : undefined}>
      {onSort ? (
        <button
          type="button"
          class="sort"
          onClick={() => onSort(key)}
          title={`Sort by ${label.toLowerCase()}`}
        >
          {label}
          {sort === key ? ' ▼' : ''}
        </button>
      ) : (
        label
      )}
    </th>
  );
  return (
    <div class="table-wrap">
      <table class="data">
        <thead>
          <tr>
            {choice ? (
              <th scope="col">
                <span class="sr-only">Chosen</span>
              </th>
            ) : null}
            <th scope="col">Status</th>
            <th scope="col">Tier</th>
            <th scope="col">Error</th>
            {header('count', 'In DLQ', 'num')}
            <th scope="col" class="num">
              All time
            </th>
            <th scope="col">Queues</th>
            {header('firstSeen', 'First seen')}
            {header('lastSeen', 'Last seen')}
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => (
            <tr key={g.id}>
              {choice ? (
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Choose group ${g.id}`}
                    checked={choice.chosen.has(g.id)}
                    onChange={() => choice.onToggle(g.id)}
                  />
                </td>
              ) : null}
              <td>
                <Badge kind="status" value={g.status} />
              </td>
              <td>
                <Badge kind="tier" value={g.tier} />
              </td>
              <td class="wrap">
                <a href={`/groups/${encodeURIComponent(g.id)}`}>
                  <strong>{g.errorName}</strong>
                </a>{' '}
                <span class="error-text">{g.normalizedMessage.slice(0, 240)}</span>
              </td>
              <td class="num strong">{formatCount(g.deadCount)}</td>
              <td class="num">{formatCount(g.count)}</td>
              <td>{g.queues.join(', ')}</td>
              <td>
                <Time at={g.firstSeen} />
              </td>
              <td>
                <Time at={g.lastSeen} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
