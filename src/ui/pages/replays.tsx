import { useState } from 'preact/hooks';
import { api, type ReplayJob } from '../api.ts';
import { AsyncView, Badge, Empty, ErrorBox, PageHeader, Time, useAsync } from '../components/common.tsx';
import { formatCount } from '../format.ts';
import { roleAllows, useSession } from '../session.ts';

const FINAL = ['completed', 'cancelled', 'canary_failed', 'failed'];

function describeFilter(selector: ReplayJob['selector']): string {
  const parts: string[] = [];
  if (selector.ids) parts.push(`${selector.ids.length} chosen`);
  if (selector.queue) parts.push(`queue ${selector.queue}`);
  if (selector.tier) parts.push(`tier ${selector.tier}`);
  if (selector.groupId) parts.push(`group ${selector.groupId.slice(0, 10)}`);
  if (selector.grep) parts.push(`"${selector.grep}"`);
  for (const w of selector.where ?? []) parts.push(`body.${w.path.join('.')}=${JSON.stringify(w.value)}`);
  return parts.join(' · ') || 'everything';
}

function Progress({ job }: { job: ReplayJob }) {
  const handled = job.replayed + job.skipped;
  const total = Math.max(job.planned, handled, 1);
  return (
    <progress max={total} value={handled} aria-label={`${handled} of ${job.planned} handled`}>
      {handled}/{total}
    </progress>
  );
}

/** Replay jobs, newest first. */
export function ReplaysPage() {
  const state = useAsync(() => api.replayJobs(100), [], 3_000);
  return (
    <>
      <PageHeader
        title="Replays"
        sub="Durable replay jobs: they survive restarts and can be paused, resumed and cancelled."
      />
      <AsyncView state={state} what="the replay jobs">
        {(jobs) =>
          jobs.length === 0 ? (
            <Empty title="No replay yet">
              Choose dead letters (a <a href="/groups">group</a> or a{' '}
              <a href="/dead-letters">filtered list</a>) and replay them.
            </Empty>
          ) : (
            <div class="table-wrap">
              <table class="data">
                <thead>
                  <tr>
                    <th scope="col">Job</th>
                    <th scope="col">Status</th>
                    <th scope="col">Selection</th>
                    <th scope="col" class="num">
                      Replayed
                    </th>
                    <th scope="col" class="num">
                      Skipped
                    </th>
                    <th scope="col" class="num">
                      Planned
                    </th>
                    <th scope="col">Progress</th>
                    <th scope="col">By</th>
                    <th scope="col">Started</th>
                  </tr>
                </thead>
                <tbody>
                  {jobs.map((job) => (
                    <tr key={job.id}>
                      <td>
                        <a class="mono" href={`/replays/${encodeURIComponent(job.id)}`}>
                          {job.id.slice(-12)}
                        </a>
                      </td>
                      <td>
                        <Badge kind="job" value={job.status} />
                      </td>
                      <td class="wrap">{describeFilter(job.selector)}</td>
                      <td class="num">{formatCount(job.replayed)}</td>
                      <td class="num">{formatCount(job.skipped)}</td>
                      <td class="num">{formatCount(job.planned)}</td>
                      <td>
                        <Progress job={job} />
                      </td>
                      <td>{job.createdBy}</td>
                      <td>
                        <Time at={job.createdAt} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </AsyncView>
    </>
  );
}

/** One replay job, live: progress, canary, pause, resume, cancel, skips. */
export function ReplayJobPage({ id }: { id: string }) {
  const session = useSession();
  const [final, setFinal] = useState(false);
  const state = useAsync(
    async () => {
      const job = await api.replayJob(id);
      setFinal(FINAL.includes(job.status));
      const skips = job.skipped > 0 ? await api.replaySkips(id).catch(() => []) : [];
      return { job, skips };
    },
    [id],
    final ? undefined : 1_000,
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const act = async (action: 'pause' | 'resume' | 'cancel') => {
    setBusy(true);
    setError(undefined);
    try {
      await api.replayAction(id, action);
      setFinal(false);
      state.reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const operator = roleAllows(session.role, 'operator');
  return (
    <AsyncView state={state} what="the replay job">
      {({ job, skips }) => {
        const isFinal = FINAL.includes(job.status);
        const canary = job.canary;
        return (
          <>
            <PageHeader
              title={
                <>
                  Replay <span class="mono">{job.id.slice(-12)}</span> <Badge kind="job" value={job.status} />
                </>
              }
              sub={<a href="/replays">← Replays</a>}
            >
              {operator && !isFinal ? (
                <>
                  {job.status === 'paused' ? (
                    <button type="button" class="primary" disabled={busy} onClick={() => act('resume')}>
                      Resume
                    </button>
                  ) : (
                    <button type="button" disabled={busy} onClick={() => act('pause')}>
                      Pause
                    </button>
                  )}
                  <button type="button" class="danger" disabled={busy} onClick={() => act('cancel')}>
                    Cancel
                  </button>
                </>
              ) : null}
            </PageHeader>
            {error ? <ErrorBox error={error} title="The server refused" /> : null}
            <section class="card" aria-live="polite">
              <Progress job={job} />
              <p>
                <strong>{formatCount(job.replayed)}</strong> replayed, {formatCount(job.skipped)} skipped of{' '}
                {formatCount(job.planned)} planned.
                {job.message ? <span class="muted"> {job.message}</span> : null}
              </p>
              <dl class="props">
                <dt>Selection</dt>
                <dd>{describeFilter(job.selector)}</dd>
                <dt>Destination</dt>
                <dd>{job.destination ?? 'each dead letter\u2019s source queue'}</dd>
                <dt>Rate</dt>
                <dd>{job.ratePerSecond ? `${job.ratePerSecond} per second` : 'as fast as the store goes'}</dd>
                <dt>Batch size</dt>
                <dd>{job.batchSize}</dd>
                <dt>Started</dt>
                <dd>
                  <Time at={job.createdAt} /> by {job.createdBy}
                </dd>
                <dt>Finished</dt>
                <dd>{job.finishedAt ? <Time at={job.finishedAt} /> : <span class="muted">not yet</span>}</dd>
                <dt>Runner</dt>
                <dd class="mono">{job.holder ?? '—'}</dd>
              </dl>
            </section>
            {job.canarySize > 0 ? (
              <section class="card section-card" aria-labelledby="canary">
                <h2 id="canary">Canary</h2>
                <p>
                  The first {job.canarySize} replayed messages are watched; the job stops when more than{' '}
                  {Math.round(job.canaryMaxFailureRate * 100)}% of them die again.
                </p>
                {canary?.outcome ? (
                  <div
                    class={`notice ${canary.outcome.verdict === 'passed' ? 'ok' : 'error'}`}
                    role="status"
                    data-verdict={canary.outcome.verdict}
                  >
                    <strong>Canary {canary.outcome.verdict.replace('_', ' ')}</strong>
                    <span>
                      {canary.outcome.done} done, {canary.outcome.died.length} died again,{' '}
                      {canary.outcome.pending} pending ({Math.round(canary.outcome.failureRate * 100)}%
                      failed).
                    </span>
                    {canary.outcome.died.length > 0 ? (
                      <span>
                        Died again:{' '}
                        {canary.outcome.died.slice(0, 10).map((d) => (
                          <a key={d} class="mono" href={`/dead-letters/${encodeURIComponent(d)}`}>
                            {d}{' '}
                          </a>
                        ))}
                      </span>
                    ) : null}
                  </div>
                ) : canary?.waitingSince ? (
                  <p class="muted">
                    Waiting for the outcome of {canary.messages.length} canary messages since{' '}
                    <Time at={canary.waitingSince} />.
                  </p>
                ) : (
                  <p class="muted">Replaying the canary ({canary?.messages.length ?? 0} so far).</p>
                )}
              </section>
            ) : null}
            {skips.length > 0 ? (
              <section class="section-card" aria-labelledby="skips">
                <h2 id="skips">Skipped</h2>
                <div class="table-wrap">
                  <table class="data">
                    <thead>
                      <tr>
                        <th scope="col">Dead letter</th>
                        <th scope="col">Why</th>
                        <th scope="col">Detail</th>
                      </tr>
                    </thead>
                    <tbody>
                      {skips.slice(0, 200).map((s) => (
                        <tr key={s.id}>
                          <td>
                            <a class="mono" href={`/dead-letters/${encodeURIComponent(s.id)}`}>
                              {s.id}
                            </a>
                          </td>
                          <td>{s.reason.replace('_', ' ')}</td>
                          <td class="mono">{s.detail ?? ''}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </section>
            ) : null}
          </>
        );
      }}
    </AsyncView>
  );
}
