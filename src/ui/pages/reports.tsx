import { useState } from 'preact/hooks';
import { api, type ReviewReport } from '../api.ts';
import { AsyncView, Badge, Empty, PageHeader, Time, useAsync } from '../components/common.tsx';
import { formatCount } from '../format.ts';

/** `dlq doctor` in the browser: the deployment checked against the common DLQ failure patterns. */
export function DoctorPage() {
  const state = useAsync(() => api.doctor(), []);
  return (
    <>
      <PageHeader
        title="Doctor"
        sub="Checks every queue against the ways DLQs go wrong: no DLQ, short retention, no owner or runbook, untouched groups, a DLQ used as a dump."
      >
        <button type="button" onClick={state.reload}>
          Check again
        </button>
      </PageHeader>
      <AsyncView state={state} what="the doctor's findings">
        {(report) => (
          <>
            <p>
              Checked {report.queues} queue{report.queues === 1 ? '' : 's'} <Time at={report.checkedAt} />:{' '}
              <strong>{report.problems}</strong> problem{report.problems === 1 ? '' : 's'},{' '}
              <strong>{report.warnings}</strong> warning{report.warnings === 1 ? '' : 's'}.
            </p>
            {report.findings.length === 0 ? (
              <Empty title="Nothing to fix">
                Every queue has a DLQ, an owner, a runbook and sane retention.
              </Empty>
            ) : (
              <div class="table-wrap">
                <table class="data">
                  <thead>
                    <tr>
                      <th scope="col">Severity</th>
                      <th scope="col">Queue</th>
                      <th scope="col">Finding</th>
                      <th scope="col">Fix</th>
                    </tr>
                  </thead>
                  <tbody>
                    {report.findings.map((f) => (
                      <tr key={`${f.queue}:${f.code}`}>
                        <td>
                          <Badge kind="severity" value={f.severity} />
                        </td>
                        <td>
                          <a href={`/queues/${encodeURIComponent(f.queue)}`}>{f.queue}</a>
                        </td>
                        <td class="wrap">
                          {f.message} <span class="muted mono">({f.code})</span>
                        </td>
                        <td class="wrap">
                          <code>{f.fix}</code>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            {report.notes.length > 0 ? (
              <ul class="muted small-print">
                {report.notes.map((n) => (
                  <li key={n}>{n}</li>
                ))}
              </ul>
            ) : null}
          </>
        )}
      </AsyncView>
    </>
  );
}

const WINDOWS = ['1d', '7d', '30d'] as const;

/** `dlq review` in the browser: what happened to each DLQ over a window. */
export function ReviewPage() {
  const [window, setWindow] = useState<(typeof WINDOWS)[number]>('7d');
  const state = useAsync(() => api.review(window), [window]);
  return (
    <>
      <PageHeader
        title="Review"
        sub="Per DLQ: depth, inflow, new and top groups, what was replayed or discarded, what nobody triaged."
      >
        <fieldset class="segmented">
          <legend class="sr-only">Window</legend>
          {WINDOWS.map((w) => (
            <button type="button" key={w} aria-pressed={w === window} onClick={() => setWindow(w)}>
              last {w}
            </button>
          ))}
        </fieldset>
      </PageHeader>
      <AsyncView state={state} what="the review">
        {(report) => <Review report={report} />}
      </AsyncView>
    </>
  );
}

function Review({ report }: { report: ReviewReport }) {
  const t = report.totals;
  return (
    <>
      <section class="tiles" aria-label="Totals">
        {(
          [
            ['In the DLQs', t.depth],
            ['Arrived', t.inflow],
            ['New groups', t.newGroups],
            ['Replayed', t.replayed],
            ['Discarded', t.discarded],
            ['Archived', t.archived],
            ['Untriaged groups', t.untriagedGroups],
          ] as const
        ).map(([label, value]) => (
          <div class="tile" key={label}>
            <span class="tile-label">{label}</span>
            <span class="tile-value">{formatCount(value)}</span>
          </div>
        ))}
      </section>
      {report.queues.map((q) => (
        <section class="card section-card" key={q.queue} aria-label={`Queue ${q.queue}`}>
          <h2>
            <a href={`/queues/${encodeURIComponent(q.queue)}`}>{q.queue}</a>
          </h2>
          <p>
            {formatCount(q.depth)} in the DLQ (oldest <Time at={q.oldestDeadAt} />
            ), {formatCount(q.inflow)} arrived, {formatCount(q.newGroups.count)} new group
            {q.newGroups.count === 1 ? '' : 's'}, {formatCount(q.replayed.count)} replayed,{' '}
            {formatCount(q.discarded.count)} discarded, {formatCount(q.archived)} archived.
          </p>
          {q.untriaged.count > 0 ? (
            <p>
              <strong>
                {q.untriaged.count} untriaged group{q.untriaged.count === 1 ? '' : 's'}
              </strong>{' '}
              holding {formatCount(q.untriaged.deadLetters)} dead letters.
            </p>
          ) : null}
          {q.topGroups.length > 0 ? (
            <>
              <h3>Top groups</h3>
              <ul class="plain">
                {q.topGroups.map((g) => (
                  <li key={g.id}>
                    <Badge kind="status" value={g.status} /> <Badge kind="tier" value={g.tier} />{' '}
                    <a href={`/groups/${encodeURIComponent(g.id)}`}>{g.errorName}</a>{' '}
                    <span class="error-text">{g.normalizedMessage.slice(0, 160)}</span>{' '}
                    <strong>{formatCount(g.deadCount)}</strong>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {q.discarded.by.length > 0 ? (
            <>
              <h3>Discarded</h3>
              <ul class="plain">
                {q.discarded.by.map((d) => (
                  <li key={`${d.actor}:${d.reason}`}>
                    {formatCount(d.count)} by {d.actor}: {d.reason}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {q.replayed.by.length > 0 ? (
            <>
              <h3>Replayed</h3>
              <ul class="plain">
                {q.replayed.by.map((d) => (
                  <li key={d.actor}>
                    {formatCount(d.count)} by {d.actor}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </section>
      ))}
    </>
  );
}
