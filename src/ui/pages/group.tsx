import { useState } from 'preact/hooks';
import { ApiError, api, type Group, type GroupStatus } from '../api.ts';
import { TimeChart } from '../components/chart.tsx';
import { AsyncView, Badge, Empty, ErrorBox, PageHeader, Time, useAsync } from '../components/common.tsx';
import { formatCount } from '../format.ts';
import { histogram } from '../series.ts';
import { roleAllows, useSession } from '../session.ts';

const ACTIONS: { status: Exclude<GroupStatus, 'regressed'>; label: string; hint: string }[] = [
  { status: 'acknowledged', label: 'Acknowledge', hint: 'someone is looking at it' },
  { status: 'resolved', label: 'Resolve', hint: 'fixed; a new dead letter reopens it as regressed' },
  { status: 'ignored', label: 'Ignore', hint: 'known and accepted' },
  { status: 'new', label: 'Reopen', hint: 'back to new' },
];

async function loadGroup(id: string) {
  const group = await api.group(id);
  const [sample, page, merged] = await Promise.all([
    api.deadLetter(group.sampleId).catch(() => null),
    api.deadLetters({ group: id }, { limit: 1000 }),
    api.mergedGroups(id),
  ]);
  return { group, sample, letters: page.items, more: page.nextCursor !== null, merged };
}

/** The group a merged group now belongs to, from the API's 404 for the merged one. */
function mergedInto(error: unknown): string | undefined {
  if (!(error instanceof ApiError) || error.status !== 404) return undefined;
  return /was merged into "([^"]+)"/.exec(error.message)?.[1];
}

/** One group: the normalised error, a sample stack, its arrivals over time and triage. */
export function GroupPage({ id }: { id: string }) {
  const session = useSession();
  const state = useAsync(() => loadGroup(id), [id]);
  const [status, setStatus] = useState<Group | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const operator = roleAllows(session.role, 'operator');

  const change = async (next: Exclude<GroupStatus, 'regressed'>) => {
    setBusy(true);
    setError(undefined);
    try {
      setStatus(await api.setGroupStatus(id, next));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const target = state.data === undefined ? mergedInto(state.error) : undefined;
  if (target !== undefined) {
    return (
      <>
        <PageHeader title="Merged group" sub={<a href="/groups">← Groups</a>} />
        <p class="notice" role="status">
          Group {id} was merged into another group: its dead letters and later failures are there.{' '}
          <a href={`/groups/${encodeURIComponent(target)}`}>Open the group it was merged into</a>
        </p>
      </>
    );
  }
  return (
    <AsyncView state={state} what="the group">
      {({ group: loaded, sample, letters, more, merged }) => {
        const group = status ?? loaded;
        const now = Date.now();
        // From a little before the first death (at least the last hour) to now.
        const since = Math.min(group.firstSeen - (now - group.firstSeen) * 0.05, now - 3_600_000);
        const hist = histogram(
          letters.map((l) => l.diedAt),
          since,
          now,
          48,
        );
        const stack =
          sample?.error.stack ?? sample?.attempts[sample.attempts.length - 1]?.error.stack ?? null;
        const g = encodeURIComponent(group.id);
        return (
          <>
            <PageHeader
              title={
                <>
                  {group.errorName} <Badge kind="status" value={group.status} />{' '}
                  <Badge kind="tier" value={group.tier} />
                </>
              }
              sub={<a href="/groups">← Groups</a>}
            >
              <a class="button" href={`/dead-letters?group=${g}`}>
                Dead letters
              </a>
              {operator ? (
                <>
                  <a class="button primary" href={`/replay?group=${g}`}>
                    Replay group…
                  </a>
                  <a class="button danger" href={`/discard?group=${g}`}>
                    Discard group…
                  </a>
                </>
              ) : null}
            </PageHeader>

            <section class="card">
              <h2>Normalised error</h2>
              <pre class="wrap">{`${group.errorName}: ${group.normalizedMessage}`}</pre>
              <dl class="props">
                <dt>In the DLQ</dt>
                <dd class="strong">{formatCount(group.deadCount)}</dd>
                <dt>All time</dt>
                <dd>{formatCount(group.count)}</dd>
                <dt>Queues</dt>
                <dd>
                  {group.queues.map((q, i) => (
                    <span key={q}>
                      {i > 0 ? ', ' : ''}
                      <a href={`/queues/${encodeURIComponent(q)}`}>{q}</a>
                    </span>
                  ))}
                </dd>
                <dt>First seen</dt>
                <dd>
                  <Time at={group.firstSeen} />
                </dd>
                <dt>Last seen</dt>
                <dd>
                  <Time at={group.lastSeen} />
                </dd>
                <dt>Status changed</dt>
                <dd>
                  <Time at={group.statusChangedAt} />
                </dd>
                <dt>Fingerprint</dt>
                <dd class="mono">{group.fingerprint}</dd>
              </dl>
              {operator ? (
                <fieldset class="actions section-card">
                  <legend class="sr-only">Triage</legend>
                  {ACTIONS.filter((a) => a.status !== group.status).map((a) => (
                    <button
                      type="button"
                      key={a.status}
                      disabled={busy}
                      title={a.hint}
                      onClick={() => change(a.status)}
                    >
                      {a.label}
                    </button>
                  ))}
                </fieldset>
              ) : null}
              {error ? (
                <ErrorBox
                  error={error}
                  title={error instanceof ApiError ? 'The server refused' : undefined}
                />
              ) : null}
            </section>

            <section class="card section-card">
              <h2>Arrivals</h2>
              {letters.length === 0 ? (
                <Empty title="No dead letters of this group are in the DLQ">
                  They were replayed, discarded or archived.
                </Empty>
              ) : (
                <>
                  <TimeChart
                    title="Dead letters of this group by time of death"
                    times={hist.times}
                    series={[{ label: 'died', values: hist.counts, color: '--spark-inflow', bars: true }]}
                  />
                  <p class="muted small-print">
                    Of the dead letters still in the DLQ{more ? ' (the newest 1,000)' : ''}.
                  </p>
                </>
              )}
            </section>

            {merged.length > 0 ? (
              <section class="card section-card">
                <h2>Merged into this group</h2>
                <div class="table-wrap">
                  <table class="data">
                    <thead>
                      <tr>
                        <th scope="col">Error</th>
                        <th scope="col" class="num">
                          Count when merged
                        </th>
                        <th scope="col">Merged</th>
                        <th scope="col">By</th>
                      </tr>
                    </thead>
                    <tbody>
                      {merged.map((m) => (
                        <tr key={m.id}>
                          <td class="wrap">
                            <strong>{m.errorName}</strong>{' '}
                            <span class="error-text">{m.normalizedMessage.slice(0, 240)}</span>
                            <div class="muted mono small-print">{m.id}</div>
                          </td>
                          <td class="num">{formatCount(m.count)}</td>
                          <td>
                            <Time at={m.mergedAt} />
                          </td>
                          <td>{m.mergedBy}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <p class="muted small-print">
                  Their dead letters moved here; later failures of theirs land here too.
                </p>
              </section>
            ) : null}

            <section class="card section-card">
              <h2>Sample</h2>
              {sample ? (
                <>
                  <p>
                    <a href={`/dead-letters/${encodeURIComponent(sample.id)}`}>{sample.id}</a> in{' '}
                    {sample.queue}, died <Time at={sample.diedAt} />
                  </p>
                  <pre class="wrap error-text">{`${sample.error.name}: ${sample.error.message}`}</pre>
                  {stack ? <pre>{stack}</pre> : <p class="muted">No stack trace.</p>}
                </>
              ) : (
                <p class="muted">The sample dead letter left the DLQ.</p>
              )}
            </section>
          </>
        );
      }}
    </AsyncView>
  );
}
