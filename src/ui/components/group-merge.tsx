import { useState } from 'preact/hooks';
import { ApiError, api, type Group, type GroupMergeResult } from '../api.ts';
import { formatCount } from '../format.ts';
import { ErrorBox } from './common.tsx';

function label(group: Group): string {
  const text = `${group.errorName}: ${group.normalizedMessage}`;
  return `${text.length > 80 ? `${text.slice(0, 79)}…` : text} (${formatCount(group.deadCount)} in DLQ)`;
}

/**
 * The selection bar of the Groups page: with two or more groups chosen, pick the one to keep and
 * merge the others into it, after a dry run that says what would move.
 */
export function GroupMergeBar({
  chosen,
  onClear,
  onMerged,
}: {
  chosen: Group[];
  onClear: () => void;
  onMerged: (result: GroupMergeResult) => void;
}) {
  const biggest = [...chosen].sort((a, b) => b.count - a.count)[0];
  const [targetId, setTargetId] = useState<string | undefined>();
  const [plan, setPlan] = useState<GroupMergeResult | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const target = chosen.find((g) => g.id === targetId) ?? biggest;
  const sources = chosen.filter((g) => g.id !== target?.id).map((g) => g.id);

  const run = async (dryRun: boolean) => {
    if (!target) return;
    setBusy(true);
    setError(undefined);
    try {
      const result = await api.mergeGroups(target.id, sources, dryRun);
      if (dryRun) setPlan(result);
      else {
        setPlan(undefined);
        onMerged(result);
      }
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="selection-bar" aria-label="Selection">
      <span>
        {chosen.length === 0
          ? 'Choose groups to merge them (one bug split in several groups).'
          : `${chosen.length} group${chosen.length === 1 ? '' : 's'} chosen`}
      </span>
      {chosen.length > 0 ? (
        <button type="button" class="small" onClick={onClear}>
          Clear selection
        </button>
      ) : null}
      {chosen.length >= 2 && target ? (
        <>
          <label for="merge-target">Merge into</label>
          <select
            id="merge-target"
            value={target.id}
            onChange={(e) => {
              setTargetId((e.target as HTMLSelectElement).value);
              setPlan(undefined);
            }}
          >
            {chosen.map((g) => (
              <option key={g.id} value={g.id}>
                {label(g)}
              </option>
            ))}
          </select>
          {plan ? null : (
            <button type="button" class="small primary" disabled={busy} onClick={() => run(true)}>
              Merge…
            </button>
          )}
        </>
      ) : null}
      {plan && target ? (
        <div class="merge-plan" role="alert">
          <p>
            Merge {plan.merged.length} group{plan.merged.length === 1 ? '' : 's'} into{' '}
            <strong>{target.errorName}</strong>: {formatCount(plan.moved)} dead letter
            {plan.moved === 1 ? '' : 's'} move, the group will count {formatCount(plan.target.count)} in all.
            Later failures of the merged groups land in it too. A merge cannot be undone.
          </p>
          <button type="button" class="small primary" disabled={busy} onClick={() => run(false)}>
            Confirm merge
          </button>{' '}
          <button type="button" class="small" disabled={busy} onClick={() => setPlan(undefined)}>
            Cancel
          </button>
        </div>
      ) : null}
      {error ? (
        <ErrorBox error={error} title={error instanceof ApiError ? 'The server refused' : undefined} />
      ) : null}
    </section>
  );
}
