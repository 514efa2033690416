import { useEffect, useState } from 'preact/hooks';
import { AUDIT_ACTIONS } from '../../core/audit.ts';
import { type AuditEntry, api } from '../api.ts';
import { ChoiceField, Empty, ErrorBox, Loading, PageHeader, Time, useAsync } from '../components/common.tsx';
import { navigate } from '../router.ts';

/** The action filter offers every action the audit log records. */
const ACTIONS = AUDIT_ACTIONS;

function targetHref(entry: AuditEntry): string | undefined {
  const id = encodeURIComponent(entry.targetId);
  switch (entry.targetType) {
    case 'queue':
      return `/queues/${id}`;
    case 'group':
      return `/groups/${id}`;
    case 'dead_letter':
      return `/dead-letters/${id}`;
    case 'replay_job':
      return `/replays/${id}`;
    default:
      return undefined;
  }
}

/** The details of an entry in one line of text (reason, count, from → to...). */
function describeDetails(details: AuditEntry['details']): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(details)) {
    if (key === 'ids' && Array.isArray(value)) {
      parts.push(`${value.length} id${value.length === 1 ? '' : 's'}`);
      continue;
    }
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    parts.push(`${key}: ${text.length > 120 ? `${text.slice(0, 119)}…` : text}`);
  }
  return parts.join(' · ');
}

/** Audit entries as a table: when, who, what, on what, details. */
export function AuditTable({ entries }: { entries: AuditEntry[] }) {
  return (
    <div class="table-wrap">
      <table class="data">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => {
            const href = targetHref(entry);
            return (
              <tr key={entry.id}>
                <td>
                  <Time at={entry.at} />
                </td>
                <td>{entry.actor}</td>
                <td class="mono">{entry.action}</td>
                <td>
                  <span class="muted">{entry.targetType} </span>
                  {href ? (
                    <a href={href} class="mono">
                      {entry.targetId.length > 24 ? `${entry.targetId.slice(0, 23)}…` : entry.targetId}
                    </a>
                  ) : (
                    <span class="mono">{entry.targetId}</span>
                  )}
                </td>
                <td class="wrap" title={JSON.stringify(entry.details)}>
                  {describeDetails(entry.details)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The audit log, newest first: every change, who made it and why. */
export function AuditPage({ query }: { query: URLSearchParams }) {
  const action = query.get('action') ?? '';
  const actor = query.get('actor') ?? '';
  const target = query.get('target') ?? '';
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [draft, setDraft] = useState({ actor, target });
  useEffect(() => {
    setCursors([null]);
    setDraft({ actor, target });
  }, [action, actor, target]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const page = useAsync(
    () =>
      api.audit({
        action: action || undefined,
        actor: actor || undefined,
        target: target || undefined,
        limit: 50,
        cursor,
      }),
    [action, actor, target, cursor],
  );
  const go = (next: { action?: string; actor?: string; target?: string }) => {
    const params = new URLSearchParams();
    const merged = { action, actor, target, ...next };
    for (const [k, v] of Object.entries(merged)) if (v) params.set(k, v);
    const text = params.toString();
    navigate(`/audit${text ? `?${text}` : ''}`, true);
  };
  return (
    <>
      <PageHeader title="Audit log" sub="Every change: who, when, what and why. Newest first." />
      <form
        class="filters"
        aria-label="Filters"
        onSubmit={(e) => {
          e.preventDefault();
          go(draft);
        }}
      >
        <ChoiceField
          id="a-action"
          label="Action"
          value={action}
          choices={ACTIONS}
          onChoose={(v) => go({ action: v })}
        />
        <div class="field">
          <label for="a-actor">Actor</label>
          <input
            id="a-actor"
            value={draft.actor}
            onInput={(e) => setDraft((d) => ({ ...d, actor: (e.target as HTMLInputElement).value }))}
          />
        </div>
        <div class="field wide">
          <label for="a-target">Target id</label>
          <input
            id="a-target"
            value={draft.target}
            onInput={(e) => setDraft((d) => ({ ...d, target: (e.target as HTMLInputElement).value }))}
          />
        </div>
        <button type="submit" class="primary">
          Apply
        </button>
      </form>
      {page.error ? <ErrorBox error={page.error} title="Could not read the audit log" /> : null}
      {page.data === undefined && !page.error ? <Loading what="the audit log" /> : null}
      {page.data && page.data.items.length === 0 ? (
        <Empty title="No entry matches">
          Changes made with the dashboard, the CLI or the library show up here.
        </Empty>
      ) : null}
      {page.data && page.data.items.length > 0 ? (
        <>
          <AuditTable entries={page.data.items} />
          <nav class="pager" aria-label="Pages">
            <button type="button" disabled={cursors.length === 1} onClick={() => setCursors([null])}>
              Newest
            </button>
            <span class="muted">Page {cursors.length}</span>
            <button
              type="button"
              disabled={!page.data.nextCursor}
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
