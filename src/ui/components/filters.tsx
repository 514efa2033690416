import { useEffect, useState } from 'preact/hooks';
import { api, type QueueRecord, type Selector } from '../api.ts';
import { navigate } from '../router.ts';
import { describeSelector, selectorQuery, TIERS } from '../selector.ts';
import { ChoiceField } from './common.tsx';

export const STATUSES = ['new', 'acknowledged', 'resolved', 'ignored', 'regressed'] as const;

let queueCache: Promise<QueueRecord[]> | undefined;

/** The queue names, asked once per page load. */
export function useQueueNames(): string[] {
  const [names, setNames] = useState<string[]>([]);
  useEffect(() => {
    queueCache ??= api.queues().catch(() => {
      queueCache = undefined;
      return [];
    });
    void queueCache.then((queues) => setNames(queues.map((q) => q.name)));
  }, []);
  return names;
}

/**
 * The dead-letter filters of the CLI (`dlq list`): queue, tier, group, time, error text and
 * body fields. Applying them changes the URL, so a filtered list can be shared or reloaded.
 */
export function SelectorForm({ selector, basePath }: { selector: Selector; basePath: string }) {
  const queues = useQueueNames();
  const [draft, setDraft] = useState<Selector>(selector);
  useEffect(() => setDraft(selector), [JSON.stringify(selector)]);
  const set = (key: keyof Selector, value: string) =>
    setDraft((d) => ({ ...d, [key]: value === '' ? undefined : value }));
  const submit = (event: Event) => {
    event.preventDefault();
    const { ids: _ids, ...rest } = draft;
    navigate(`${basePath}${selectorQuery(rest)}`);
  };
  // On a phone the filters start folded under one line that says what is filtered.
  const [wide] = useState(() => !window.matchMedia?.('(max-width: 900px)').matches);
  return (
    <details class="filter-box" open={wide}>
      <summary>Filters: {describeSelector(selector)}</summary>
      <form class="filters" onSubmit={submit} aria-label="Filters">
        <ChoiceField
          id="f-queue"
          label="Queue"
          value={draft.queue ?? ''}
          choices={queues}
          onChoose={(v) => set('queue', v)}
        />
        <ChoiceField
          id="f-tier"
          label="Tier"
          value={draft.tier ?? ''}
          choices={TIERS}
          onChoose={(v) => set('tier', v)}
        />
        <div class="field">
          <label for="f-group">Group id</label>
          <input
            id="f-group"
            value={draft.group ?? ''}
            onInput={(e) => set('group', (e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="f-since">Since</label>
          <input
            id="f-since"
            placeholder="2h, 7d or 2026-01-01"
            value={draft.since ?? ''}
            onInput={(e) => set('since', (e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="f-until">Until</label>
          <input
            id="f-until"
            placeholder="30m or an ISO time"
            value={draft.until ?? ''}
            onInput={(e) => set('until', (e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="field wide">
          <label for="f-grep">Error contains</label>
          <input
            id="f-grep"
            value={draft.grep ?? ''}
            onInput={(e) => set('grep', (e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="field wide">
          <label for="f-where">
            Body field <span class="hint">body.customer.country=DE</span>
          </label>
          <input
            id="f-where"
            value={(draft.where ?? []).join(' ')}
            onInput={(e) => {
              const text = (e.target as HTMLInputElement).value;
              setDraft((d) => ({ ...d, where: text.trim() ? text.trim().split(/\s+/) : undefined }));
            }}
          />
        </div>
        <button type="submit" class="primary">
          Apply
        </button>
        <button type="button" onClick={() => navigate(basePath)}>
          Clear
        </button>
      </form>
    </details>
  );
}
