import { useState } from 'preact/hooks';
import { api, type DiscardReport } from '../api.ts';
import { AsyncView, ErrorBox, PageHeader, useAsync } from '../components/common.tsx';
import { Breakdown, Samples } from '../components/plan.tsx';
import { formatCount, plural } from '../format.ts';
import { describeSelector, selectorFromQuery, selectorQuery } from '../selector.ts';
import { roleAllows, useSession } from '../session.ts';

/**
 * Discard: the selection's dry run, a required reason, and a confirmation by typing the
 * count. Each discarded dead letter leaves a tombstone; the audit log records who and why.
 */
export function DiscardPage({ query }: { query: URLSearchParams }) {
  const session = useSession();
  const selector = selectorFromQuery(query);
  const key = selectorQuery(selector);
  const allowed = roleAllows(session.role, 'operator');
  const dry = useAsync(
    () => (allowed ? api.discard(selector, { dryRun: true }) : Promise.reject(new Error('no permission'))),
    [key, allowed],
  );
  const [reason, setReason] = useState('');
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<DiscardReport | undefined>();

  if (!allowed) {
    return (
      <ErrorBox
        title="Discarding needs an operator token"
        error={new Error(`The token "${session.name}" has the role ${session.role}.`)}
      />
    );
  }
  const discard = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setDone(await api.discard(selector, { reason: reason.trim(), dryRun: false }));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageHeader
        title="Discard dead letters"
        sub={<a href={`/dead-letters${key}`}>← The selection in the list</a>}
      />
      {done ? (
        <div class="notice ok" role="status">
          <strong>Discarded {plural(done.discarded, 'dead letter')}</strong>
          <span>
            Reason: {done.reason}.{' '}
            {done.skipped > 0 ? `${formatCount(done.skipped)} had already left the DLQ. ` : ''}
            {done.resolvedGroup ? 'The group is now resolved. ' : ''}
            Their tombstones and the <a href="/audit?action=discard">audit log</a> say who and why.
          </span>
        </div>
      ) : (
        <AsyncView state={dry} what="the dry run">
          {(report) => {
            const confirmed = typed.trim() === String(report.matched);
            return (
              <>
                <div class={`notice ${report.matched === 0 ? 'warn' : 'warn'}`}>
                  <strong>
                    {report.matched === 0
                      ? 'Nothing to discard: no dead letter matches.'
                      : `${plural(report.matched, 'dead letter')} would be discarded: ${describeSelector(selector)}.`}
                  </strong>
                  <span>
                    Discarding deletes their bodies for good; a tombstone (id, queue, group, reason) stays.
                  </span>
                </div>
                <Breakdown byTier={report.byTier} byGroup={report.byGroup} byQueue={report.byQueue} />
                <Samples samples={report.samples} />
                {report.matched > 0 ? (
                  <section class="card section-card">
                    <h2>Confirm</h2>
                    <div class="field">
                      <label for="d-reason">
                        Reason <span class="hint">required; kept in the audit log and every tombstone</span>
                      </label>
                      <textarea
                        id="d-reason"
                        rows={3}
                        value={reason}
                        maxLength={1000}
                        onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)}
                      />
                    </div>
                    <div class="field section-card">
                      <label for="d-count">
                        Type the number of dead letters to discard ({formatCount(report.matched)} → type{' '}
                        <code>{report.matched}</code>)
                      </label>
                      <input
                        id="d-count"
                        inputMode="numeric"
                        autoComplete="off"
                        value={typed}
                        onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
                      />
                    </div>
                    <div class="actions section-card">
                      <button
                        type="button"
                        class="danger"
                        disabled={busy || !confirmed || reason.trim().length === 0}
                        onClick={discard}
                      >
                        {busy ? 'Discarding…' : `Discard ${formatCount(report.matched)}`}
                      </button>
                    </div>
                  </section>
                ) : null}
              </>
            );
          }}
        </AsyncView>
      )}
      {error ? <ErrorBox error={error} title="Nothing was discarded" /> : null}
    </>
  );
}
