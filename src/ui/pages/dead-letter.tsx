import { useState } from 'preact/hooks';
import type { Json } from '../../core/message.ts';
import { ApiError, api, type DeadLetter, type DeadLetterLineage } from '../api.ts';
import { AsyncView, Badge, ErrorBox, PageHeader, Time, useAsync } from '../components/common.tsx';
import { JsonBlock, JsonDiff } from '../components/content.tsx';
import { firstLine, formatAbsolute, formatMs } from '../format.ts';
import { roleAllows, useSession } from '../session.ts';
import { AuditTable } from './audit.tsx';

async function loadLetter(id: string) {
  const [letter, lineage, audit] = await Promise.all([
    // A dead letter that left the DLQ (replayed, discarded) is found through its lineage.
    api.deadLetter(id).catch((error: unknown) => {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }),
    api.lineage(id).catch(() => null),
    api.audit({ target: id, limit: 50 }).catch(() => null),
  ]);
  if (!letter && !lineage)
    throw new ApiError(404, 'not_found', `no dead letter "${id}" here or in its history`);
  return { letter, lineage, audit: audit?.items ?? [] };
}

const GONE: Record<string, string> = {
  replayed: 'It was replayed: it left the DLQ as a new message (see where it went below).',
  discarded: 'It was discarded: only its tombstone is left (who, when and why are in the audit log).',
  waiting: 'This is a live message (a replay), waiting in its queue.',
  leased: 'This is a live message (a replay), being handled now.',
  done: 'This is a message (a replay) that succeeded.',
};

/** What is left of a record that is not in the DLQ: its state and lineage. */
function Gone({ id, lineage }: { id: string; lineage: DeadLetterLineage }) {
  return (
    <>
      <PageHeader
        title={
          <>
            Dead letter <Badge kind="job" value={lineage.self.state} />
          </>
        }
        sub={
          <a href={`/dead-letters?queue=${encodeURIComponent(lineage.self.queue)}`}>
            ← Dead letters of {lineage.self.queue}
          </a>
        }
      />
      <div class="notice" role="status">
        <strong class="mono">{id}</strong>
        <span>{GONE[lineage.self.state] ?? `It is ${lineage.self.state}.`}</span>
      </div>
      <Lineage lineage={lineage} />
    </>
  );
}

/** One dead letter with its whole context: body, headers, attempts, lineage, audit; edit before replay. */
export function DeadLetterPage({ id }: { id: string }) {
  const session = useSession();
  const state = useAsync(() => loadLetter(id), [id]);
  const operator = roleAllows(session.role, 'operator');
  return (
    <AsyncView state={state} what="the dead letter">
      {({ letter, lineage, audit }) =>
        !letter ? (
          <>
            {lineage ? <Gone id={id} lineage={lineage} /> : null}
            {audit.length > 0 ? <AuditTable entries={audit} /> : null}
          </>
        ) : (
          <>
            <PageHeader
              title={
                <>
                  Dead letter <Badge kind="tier" value={letter.tier} />
                </>
              }
              sub={
                <a href={`/dead-letters?queue=${encodeURIComponent(letter.queue)}`}>
                  ← Dead letters of {letter.queue}
                </a>
              }
            >
              {operator ? (
                <>
                  <a class="button primary" href={`/replay?ids=${encodeURIComponent(letter.id)}`}>
                    Replay…
                  </a>
                  <a class="button danger" href={`/discard?ids=${encodeURIComponent(letter.id)}`}>
                    Discard…
                  </a>
                </>
              ) : null}
            </PageHeader>

            <section class="card">
              <pre class="wrap error-text">{`${letter.error.name}: ${letter.error.message}`}</pre>
              <dl class="props">
                <dt>Id</dt>
                <dd class="mono">{letter.id}</dd>
                <dt>Queue</dt>
                <dd>
                  <a href={`/queues/${encodeURIComponent(letter.queue)}`}>{letter.queue}</a>
                </dd>
                <dt>Group</dt>
                <dd>
                  <a href={`/groups/${encodeURIComponent(letter.groupId)}`} class="mono">
                    {letter.groupId}
                  </a>
                </dd>
                <dt>Tier</dt>
                <dd>
                  <Badge kind="tier" value={letter.tier} />
                </dd>
                <dt>Enqueued</dt>
                <dd>
                  <Time at={letter.enqueuedAt} />
                </dd>
                <dt>Died</dt>
                <dd>
                  <Time at={letter.diedAt} /> after {letter.attempts.length} attempt
                  {letter.attempts.length === 1 ? '' : 's'}
                </dd>
                <dt>Idempotency key</dt>
                <dd class="mono">{letter.idempotencyKey ?? '—'}</dd>
                <dt>Replayed</dt>
                <dd>
                  {letter.replayCount} time{letter.replayCount === 1 ? '' : 's'} before
                </dd>
                {letter.error.code ? (
                  <>
                    <dt>Error code</dt>
                    <dd class="mono">{letter.error.code}</dd>
                  </>
                ) : null}
                {letter.error.status ? (
                  <>
                    <dt>HTTP status</dt>
                    <dd>{letter.error.status}</dd>
                  </>
                ) : null}
              </dl>
            </section>

            <Lineage lineage={lineage} />

            <section class="section-card" aria-labelledby="body">
              <h2 id="body">Body</h2>
              <BodySection letter={letter} operator={operator} onSaved={state.reload} />
            </section>

            <section aria-labelledby="headers">
              <h2 id="headers">Headers</h2>
              {Object.keys(letter.headers).length === 0 ? (
                <p class="muted">No headers.</p>
              ) : (
                <div class="table-wrap">
                  <table class="data">
                    <tbody>
                      {Object.entries(letter.headers).map(([name, value]) => (
                        <tr key={name}>
                          <th scope="row" class="mono">
                            {name}
                          </th>
                          <td class="wrap mono">{value}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </section>

            <section aria-labelledby="attempts">
              <h2 id="attempts">Attempts</h2>
              {letter.attempts.map((attempt, index) => (
                <details class="attempt" key={attempt.number} open={index === letter.attempts.length - 1}>
                  <summary>
                    <strong>#{attempt.number}</strong> <Time at={attempt.startedAt} /> ·{' '}
                    {formatMs(attempt.durationMs)} ·{' '}
                    <span class="error-text">
                      {attempt.error.name}: {firstLine(attempt.error.message, 200)}
                    </span>
                  </summary>
                  <dl class="props section-card">
                    <dt>Started</dt>
                    <dd>{formatAbsolute(attempt.startedAt)}</dd>
                    <dt>Worker</dt>
                    <dd class="mono">
                      {attempt.workerId} (version {attempt.workerVersion || '—'}) on {attempt.host}
                    </dd>
                  </dl>
                  <pre class="wrap error-text">{`${attempt.error.name}: ${attempt.error.message}`}</pre>
                  {attempt.error.stack ? <pre>{attempt.error.stack}</pre> : null}
                </details>
              ))}
            </section>

            <section aria-labelledby="audit">
              <h2 id="audit">Audit</h2>
              {audit.length === 0 ? (
                <p class="muted">No change was made to this dead letter.</p>
              ) : (
                <AuditTable entries={audit} />
              )}
            </section>
          </>
        )
      }
    </AsyncView>
  );
}

function LineageLinkView({ link, label }: { link: DeadLetterLineage['previous']; label: string }) {
  if (!link) return <span class="muted">none</span>;
  // Every record of a lineage has a page: a dead letter, or what is left of one (and live replays).
  return (
    <span>
      <a
        href={`/dead-letters/${encodeURIComponent(link.id)}`}
        class="mono"
        aria-label={`${label} ${link.id}`}
      >
        {link.id}
      </a>{' '}
      <Badge kind="job" value={link.state} /> in {link.queue}, <Time at={link.at} />
    </span>
  );
}

function Lineage({ lineage }: { lineage: DeadLetterLineage | null }) {
  if (!lineage) return null;
  return (
    <section class="card section-card" aria-labelledby="lineage">
      <h2 id="lineage">Lineage</h2>
      <dl class="props">
        <dt>Replay of</dt>
        <dd>
          <LineageLinkView link={lineage.previous} label="previous dead letter" />
        </dd>
        <dt>Replayed to</dt>
        <dd>
          <LineageLinkView link={lineage.next} label="next" />
        </dd>
      </dl>
    </section>
  );
}

function BodySection({
  letter,
  operator,
  onSaved,
}: {
  letter: DeadLetter;
  operator: boolean;
  onSaved: () => void;
}) {
  const original = (letter.originalBody ?? letter.body) as Json;
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState('');
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>();
  let parsed: { ok: true; value: Json } | { ok: false; message: string } | undefined;
  if (editing) {
    try {
      parsed = { ok: true, value: JSON.parse(text) as Json };
    } catch (failure) {
      parsed = { ok: false, message: (failure as Error).message };
    }
  }
  const save = async () => {
    if (!parsed?.ok) return;
    setSaving(true);
    setError(undefined);
    try {
      await api.editDeadLetter(letter.id, parsed.value);
      setEditing(false);
      onSaved();
    } catch (failure) {
      setError(failure);
    } finally {
      setSaving(false);
    }
  };
  if (!editing) {
    return (
      <>
        <JsonBlock value={letter.body} label={letter.originalBody != null ? 'Body (edited)' : 'Body'} />
        {letter.originalBody != null ? (
          <>
            <h3>Changes against the original body</h3>
            <JsonDiff before={original} after={letter.body as Json} />
            <p class="muted small-print">
              Edited {letter.edits?.length ?? 1} time(s)
              {letter.edits?.length ? (
                <>
                  , last by {letter.edits[letter.edits.length - 1]?.actor}{' '}
                  <Time at={letter.edits[letter.edits.length - 1]?.at} />
                </>
              ) : null}
              .
            </p>
          </>
        ) : null}
        {operator ? (
          <button
            type="button"
            onClick={() => {
              setText(JSON.stringify(letter.body, null, 2));
              setEditing(true);
            }}
          >
            Edit body before replay…
          </button>
        ) : null}
      </>
    );
  }
  return (
    <div class="card">
      <label for="body-editor">New body (JSON)</label>
      <textarea
        id="body-editor"
        rows={Math.min(30, Math.max(8, text.split('\n').length + 1))}
        value={text}
        spellcheck={false}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
      />
      {parsed && !parsed.ok ? (
        <p class="error-text" role="status">
          Not JSON: {parsed.message}
        </p>
      ) : null}
      {parsed?.ok ? (
        <>
          <h3>Diff against the original</h3>
          <JsonDiff before={original} after={parsed.value} />
        </>
      ) : null}
      <div class="actions section-card">
        <button type="button" class="primary" disabled={!parsed?.ok || saving} onClick={save}>
          {saving ? 'Saving…' : 'Save the new body'}
        </button>
        <button type="button" onClick={() => setEditing(false)}>
          Cancel
        </button>
      </div>
      {error ? <ErrorBox error={error} title="The body was not saved" /> : null}
    </div>
  );
}
