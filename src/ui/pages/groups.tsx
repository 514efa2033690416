import { useState } from 'preact/hooks';
import { api, type Group, type GroupMergeResult } from '../api.ts';
import { AsyncView, ChoiceField, Empty, PageHeader, useAsync } from '../components/common.tsx';
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
        <ChoiceField
          id="g-queue"
          label="Queue"
          value={queue}
          choices={queues}
          onChoose={(v) => go({ queue: v })}
        />
        <ChoiceField
          id="g-tier"
          label="Tier"
          value={tier}
          choices={TIERS}
          onChoose={(v) => go({ tier: v })}
        />
        <ChoiceField
          id="g-status"
          label="Status"
          value={status}
          choices={STATUSES}
          onChoose={(v) => go({ status: v })}
        />
        <ChoiceField
          id="g-sort"
          label="Sort by"
          value={sort}
          any={null}
          choices={[
            ['count', 'count in DLQ'],
            ['lastSeen', 'last seen'],
            ['firstSeen', 'first seen'],
          ]}
          onChoose={(v) => go({ sort: v })}
        />
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
