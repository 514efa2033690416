import { useState } from 'preact/hooks';
import { api, type Group, type GroupMergeResult } from '../api.ts';
import { AsyncView, Empty, PageHeader, useAsync } from '../components/common.tsx';
import { STATUSES, useQueueNames } from '../components/filters.tsx';
import { GroupMergeBar } from '../components/group-merge.tsx';
import { type GroupSortKey, GroupTable } from '../components/group-table.tsx';
import { navigate } from '../router.ts';
import { TIERS } from '../selector.ts';
import { roleAllows, useSession } from '../session.ts';

const SORT_KEYS: GroupSortKey[] = ['count', 'lastSeen', 'firstSeen'];

/** Groups, filtered by queue, tier and status, sorted by count, last seen or first seen. */
export function GroupsPage({ query }: { query: URLSearchParams }) {
  const queue = query.get('queue') ?? '';
  const tier = query.get('tier') ?? '';
  const status = query.get('status') ?? '';
  const sortParam = query.get('sort') as GroupSortKey | null;
  const sort: GroupSortKey = sortParam && SORT_KEYS.includes(sortParam) ? sortParam : 'count';
  const queues = useQueueNames();
  const operator = roleAllows(useSession().role, 'operator');
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [merged, setMerged] = useState<GroupMergeResult | undefined>();
  const toggle = (id: string) =>
    setChosen((set) => {
      const next = new Set(set);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const state = useAsync(
    () =>
      api.groups({
        ...(queue ? { queue } : {}),
        ...(tier ? { tier } : {}),
        ...(status ? { status } : {}),
        sort: sort === 'count' ? 'count' : 'last-seen',
        limit: 1000,
      }),
    [queue, tier, status, sort],
  );
  const go = (changes: Record<string, string>) => {
    const next = new URLSearchParams(query);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    const text = next.toString();
    navigate(`/groups${text ? `?${text}` : ''}`, true);
  };
  const sorted = (groups: Group[]) =>
    sort === 'firstSeen' ? [...groups].sort((a, b) => b.firstSeen - a.firstSeen) : groups;
  return (
    <>
      <PageHeader
        title="Groups"
        sub="One bug, one group: dead letters with the same normalised error and stack."
      />
      <fieldset class="filters">
        <legend class="sr-only">Filters</legend>
        <div class="field">
          <label for="g-queue">Queue</label>
          <select
            id="g-queue"
            value={queue}
            onChange={(e) => go({ queue: (e.target as HTMLSelectElement).value })}
          >
            <option value="">any</option>
            {queues.map((q) => (
              <option key={q} value={q}>
                {q}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="g-tier">Tier</label>
          <select
            id="g-tier"
            value={tier}
            onChange={(e) => go({ tier: (e.target as HTMLSelectElement).value })}
          >
            <option value="">any</option>
            {TIERS.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="g-status">Status</label>
          <select
            id="g-status"
            value={status}
            onChange={(e) => go({ status: (e.target as HTMLSelectElement).value })}
          >
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="g-sort">Sort by</label>
          <select
            id="g-sort"
            value={sort}
            onChange={(e) => go({ sort: (e.target as HTMLSelectElement).value })}
          >
            <option value="count">count in DLQ</option>
            <option value="lastSeen">last seen</option>
            <option value="firstSeen">first seen</option>
          </select>
        </div>
      </fieldset>
      {merged ? (
        <p class="notice" role="status">
          Merged {merged.merged.length} group{merged.merged.length === 1 ? '' : 's'} into{' '}
          <a href={`/groups/${encodeURIComponent(merged.target.id)}`}>{merged.target.errorName}</a>:{' '}
          {merged.moved} dead letter{merged.moved === 1 ? '' : 's'} moved.
        </p>
      ) : null}
      <AsyncView state={state} what="the groups">
        {(groups) =>
          groups.length === 0 ? (
            <Empty title="No group matches">
              {queue || tier || status ? 'Clear a filter to see more.' : 'Nothing has died yet.'}
            </Empty>
          ) : (
            <>
              {operator ? (
                <GroupMergeBar
                  chosen={groups.filter((g) => chosen.has(g.id))}
                  onClear={() => setChosen(new Set())}
                  onMerged={(result) => {
                    setMerged(result);
                    setChosen(new Set());
                    state.reload();
                  }}
                />
              ) : null}
              <GroupTable
                groups={sorted(groups)}
                sort={sort}
                onSort={(key) => go({ sort: key })}
                {...(operator ? { choice: { chosen, onToggle: toggle } } : {})}
              />
            </>
          )
        }
      </AsyncView>
    </>
  );
}
