import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { api, type QueueDocs } from '../api.ts';
import { Empty, ErrorBox, Time } from './common.tsx';
import { Markdown } from './content.tsx';

const FIELDS = [
  { key: 'owner', label: 'Owner', hint: 'the team or person responsible' },
  { key: 'contact', label: 'Contact', hint: 'a channel, an e-mail, a pager rotation' },
  { key: 'source', label: 'Source', hint: 'the producer, the upstream system' },
  { key: 'purpose', label: 'Purpose', hint: 'what the queue is for, what success looks like' },
  { key: 'failureMeaning', label: 'A failure means', hint: 'for users or the business' },
] as const;

type Draft = Record<(typeof FIELDS)[number]['key'] | 'runbook', string>;

function draftOf(docs: QueueDocs | null): Draft {
  return {
    owner: docs?.owner ?? '',
    contact: docs?.contact ?? '',
    source: docs?.source ?? '',
    purpose: docs?.purpose ?? '',
    failureMeaning: docs?.failureMeaning ?? '',
    runbook: docs?.runbook ?? '',
  };
}

/**
 * A queue's DLQ documentation: owner, contact, source, purpose, what a failure means and the
 * runbook (Markdown, rendered safely). Operators edit it here, with a preview of the runbook.
 */
export function QueueDocsCard({
  name,
  docs,
  canEdit,
  onSaved,
}: {
  name: string;
  docs: QueueDocs | null;
  canEdit: boolean;
  onSaved: () => void;
}) {
  const [draft, setDraft] = useState<Draft | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const documented = docs && (docs.owner || docs.runbook || docs.contact || docs.purpose);

  if (draft) {
    const save = async (event: Event) => {
      event.preventDefault();
      setBusy(true);
      setError(undefined);
      try {
        await api.setQueueDocs(name, draft);
        setDraft(undefined);
        onSaved();
      } catch (failure) {
        setError(failure);
      } finally {
        setBusy(false);
      }
    };
    return (
      <form class="card" onSubmit={save} aria-labelledby="docs">
        <h2 id="docs">Documentation</h2>
        {FIELDS.map((f) => (
          <div class="field section-card" key={f.key}>
            <label for={`docs-${f.key}`}>
              {f.label} <span class="hint">{f.hint}</span>
            </label>
            <input
              id={`docs-${f.key}`}
              maxLength={1000}
              value={draft[f.key]}
              onInput={(e) => setDraft({ ...draft, [f.key]: (e.target as HTMLInputElement).value })}
            />
          </div>
        ))}
        <div class="field section-card">
          <label for="docs-runbook">
            Runbook <span class="hint">Markdown; HTML in it is shown as text</span>
          </label>
          <textarea
            id="docs-runbook"
            rows={10}
            value={draft.runbook}
            onInput={(e) => setDraft({ ...draft, runbook: (e.target as HTMLTextAreaElement).value })}
          />
        </div>
        {draft.runbook.trim() ? (
          <>
            <h3>Preview</h3>
            <Markdown text={draft.runbook} />
          </>
        ) : null}
        <div class="actions section-card">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save documentation'}
          </button>
          <button type="button" onClick={() => setDraft(undefined)}>
            Cancel
          </button>
        </div>
        {error ? <ErrorBox error={error} title="The documentation was not saved" /> : null}
      </form>
    );
  }

  return (
    <section class="card" aria-labelledby="docs">
      <h2 id="docs">Documentation</h2>
      {documented ? (
        <>
          <dl class="props">
            {FIELDS.map((f) => (
              <Fragment key={f.key}>
                <dt>{f.label}</dt>
                <dd>{docs[f.key] ?? <span class="muted">—</span>}</dd>
              </Fragment>
            ))}
          </dl>
          <h3>Runbook</h3>
          {docs.runbook ? <Markdown text={docs.runbook} /> : <p class="muted">No runbook yet.</p>}
          <p class="muted small-print">
            Updated <Time at={docs.updatedAt} />
            {docs.updatedBy ? ` by ${docs.updatedBy}` : ''}.
          </p>
        </>
      ) : (
        <Empty title="Nobody documented this DLQ yet">
          Give it an owner and a runbook{canEdit ? ' here, or' : ''} with{' '}
          <code>dlq docs set {name} --owner team --runbook-file runbook.md</code>
        </Empty>
      )}
      {canEdit ? (
        <button type="button" class="section-card" onClick={() => setDraft(draftOf(docs))}>
          Edit documentation
        </button>
      ) : null}
    </section>
  );
}
