import { useMemo, useState } from 'preact/hooks';
import { api, type QueueRecord } from '../api.ts';
import { TimeChart } from '../components/chart.tsx';
import { AsyncView, Badge, Empty, ErrorBox, PageHeader, Time, useAsync } from '../components/common.tsx';
import { GroupTable } from '../components/group-table.tsx';
import { QueueDocsCard } from '../components/queue-docs.tsx';
import { firstLine, formatCount, formatMs } from '../format.ts';
import { roleAllows, useSession } from '../session.ts';

const RANGES = [
  { key: '1h', label: '1 h', bucketMs: 60_000 },
  { key: '24h', label: '24 h', bucketMs: 60_000 },
  { key: '7d', label: '7 d', bucketMs: 15 * 60_000 },
  { key: '30d', label: '30 d', bucketMs: 60 * 60_000 },
] as const;
type RangeKey = (typeof RANGES)[number]['key'];

function describeBackoff(queue: QueueRecord): string {
  const b = queue.backoff as { type: string; baseMs?: number; capMs?: number; delayMs?: number };
  if (b.type === 'exponential')
    return `exponential, ${formatMs(b.baseMs ?? 0)} up to ${formatMs(b.capMs ?? 0)}`;
  if (b.type === 'fixed') return `fixed ${formatMs(b.delayMs ?? 0)}`;
  return b.type;
}

/** One queue: its DLQ over time, groups, newest dead letters, settings, retention and documentation. */
export function QueuePage({ name }: { name: string }) {
  const session = useSession();
  const [range, setRange] = useState<RangeKey>('24h');
  const queue = useAsync(
    () => Promise.all([api.queue(name), api.stats(), api.queueDocs(name).catch(() => null)]),
    [name],
  );
  const samples = useAsync(() => api.samples(name, range), [name, range], 60_000);
  const groups = useAsync(() => api.groups({ queue: name, limit: 20 }), [name]);
  const letters = useAsync(() => api.deadLetters({ queue: name }, { limit: 10 }), [name]);
  const bucketMs = RANGES.find((r) => r.key === range)?.bucketMs ?? 60_000;

  const chart = useMemo(() => {
    const rows = samples.data ?? [];
    // Long ranges: one point per bucket (last depth, summed inflow) keeps the chart readable.
    const times: number[] = [];
    const depth: number[] = [];
    const inflow: number[] = [];
    for (const s of rows) {
      const at = Math.floor(s.at / bucketMs) * bucketMs;
      if (times[times.length - 1] === at) {
        depth[depth.length - 1] = s.depth;
        inflow[inflow.length - 1] = (inflow[inflow.length - 1] ?? 0) + s.inflow;
      } else {
        times.push(at);
        depth.push(s.depth);
        inflow.push(s.inflow);
      }
    }
    return { times, depth, inflow };
  }, [samples.data, bucketMs]);

  const operator = roleAllows(session.role, 'operator');
  const q = encodeURIComponent(name);
  return (
    <>
      <PageHeader title={<>Queue {name}</>} sub={<a href="/">← Overview</a>}>
        <a class="button" href={`/dead-letters?queue=${q}`}>
          Dead letters
        </a>
        <a class="button" href={`/groups?queue=${q}`}>
          Groups
        </a>
        {operator ? (
          <>
            <a class="button primary" href={`/replay?queue=${q}`}>
              Replay…
            </a>
            <a class="button danger" href={`/discard?queue=${q}`}>
              Discard…
            </a>
          </>
        ) : null}
      </PageHeader>

      <AsyncView state={queue} what="the queue">
        {([record, stats, docs]) => {
          const row = stats.find((s) => s.queue === name);
          return (
            <>
              <section class="tiles" aria-label="Counts">
                <Tile label="Dead" value={formatCount(row?.dead)} />
                <Tile label="Waiting" value={formatCount(row ? row.waiting + row.delayed : null)} />
                <Tile label="Leased" value={formatCount(row?.leased)} />
                <Tile label="Done" value={formatCount(row?.done)} />
                <Tile label="Replayed" value={formatCount(row?.replayed)} />
                <Tile label="Discarded" value={formatCount(row?.discarded)} />
              </section>

              <section aria-labelledby="over-time">
                <div class="page-header">
                  <h2 id="over-time">DLQ over time</h2>
                  <fieldset class="segmented">
                    <legend class="sr-only">Time range</legend>
                    {RANGES.map((r) => (
                      <button
                        type="button"
                        key={r.key}
                        aria-pressed={r.key === range}
                        onClick={() => setRange(r.key)}
                      >
                        {r.label}
                      </button>
                    ))}
                  </fieldset>
                </div>
                <AsyncView state={samples} what="the samples">
                  {() =>
                    chart.times.length < 2 ? (
                      <Empty title="No samples in this range yet">
                        The server samples every DLQ once a minute; the chart fills in as it runs.
                      </Empty>
                    ) : (
                      <div class="grid-2">
                        <div class="card">
                          <h3>Depth</h3>
                          <TimeChart
                            title={`${name}: dead letters in the DLQ over ${range}`}
                            times={chart.times}
                            series={[{ label: 'dead letters', values: chart.depth, color: '--spark-depth' }]}
                          />
                        </div>
                        <div class="card">
                          <h3>Inflow</h3>
                          <TimeChart
                            title={`${name}: dead letters arriving over ${range}`}
                            times={chart.times}
                            series={[
                              { label: 'arrived', values: chart.inflow, color: '--spark-inflow', bars: true },
                            ]}
                          />
                        </div>
                      </div>
                    )
                  }
                </AsyncView>
              </section>

              <div class="grid-2 section-card">
                <section class="card" aria-labelledby="settings">
                  <h2 id="settings">Settings and retention</h2>
                  <dl class="props">
                    <dt>Max receives</dt>
                    <dd>{record.maxReceives}</dd>
                    <dt>Visibility timeout</dt>
                    <dd>{formatMs(record.visibilityTimeoutMs)}</dd>
                    <dt>Backoff</dt>
                    <dd>{describeBackoff(record)}</dd>
                    <dt>DLQ</dt>
                    <dd>
                      {record.deadLetter ? (
                        'on'
                      ) : (
                        <strong class="error-text">off: failures are dropped</strong>
                      )}
                    </dd>
                    <dt>Replay limit</dt>
                    <dd>{record.replayLimit ?? '—'} replays per message</dd>
                    <dt>Retention</dt>
                    <dd>
                      {record.retentionDays === 0 ? 'forever' : `${record.retentionDays} days`}
                      {record.retentionDays > 0 && record.retentionDays < 7 ? (
                        <span class="badge severity-warning"> under 7 days</span>
                      ) : null}
                    </dd>
                    <dt>Done messages kept</dt>
                    <dd>
                      {record.doneRetentionMs === undefined
                        ? '—'
                        : record.doneRetentionMs === 0
                          ? 'not kept'
                          : formatMs(record.doneRetentionMs)}
                      <span class="muted"> then deleted (still counted as done)</span>
                    </dd>
                    <dt>Oldest dead letter</dt>
                    <dd>
                      <Time at={row?.oldestDeadAt} />
                    </dd>
                    <dt>Next expiry</dt>
                    <dd>
                      {row?.nextExpiryAt ? (
                        <span title="the retention sweeper archives dead letters past their retention">
                          the oldest are archived <Time at={row.nextExpiryAt} />
                        </span>
                      ) : (
                        <span class="muted">nothing expires</span>
                      )}
                    </dd>
                  </dl>
                </section>
                <QueueDocsCard name={name} docs={docs} canEdit={operator} onSaved={queue.reload} />
              </div>
            </>
          );
        }}
      </AsyncView>

      <section aria-labelledby="queue-groups">
        <h2 id="queue-groups">Groups</h2>
        <AsyncView state={groups} what="the groups">
          {(list) =>
            list.length === 0 ? (
              <Empty title="No groups">Nothing has died in this queue yet.</Empty>
            ) : (
              <GroupTable groups={list} />
            )
          }
        </AsyncView>
      </section>

      <section aria-labelledby="queue-letters">
        <h2 id="queue-letters">Newest dead letters</h2>
        <AsyncView state={letters} what="the dead letters">
          {(page) =>
            page.items.length === 0 ? (
              <Empty title="The DLQ is empty" />
            ) : (
              <div class="table-wrap">
                <table class="data">
                  <thead>
                    <tr>
                      <th scope="col">Died</th>
                      <th scope="col">Tier</th>
                      <th scope="col">Error</th>
                      <th scope="col" class="num">
                        Attempts
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.items.map((d) => (
                      <tr key={d.id}>
                        <td>
                          <a href={`/dead-letters/${encodeURIComponent(d.id)}`}>
                            <Time at={d.diedAt} />
                          </a>
                        </td>
                        <td>
                          <Badge kind="tier" value={d.tier} />
                        </td>
                        <td class="wrap">
                          <strong>{d.error.name}</strong>: {firstLine(d.error.message, 200)}
                        </td>
                        <td class="num">{d.attemptCount}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </AsyncView>
        {letters.error ? <ErrorBox error={letters.error} /> : null}
      </section>
    </>
  );
}

function Tile({ label, value }: { label: string; value: string }) {
  return (
    <div class="tile">
      <span class="tile-label">{label}</span>
      <span class="tile-value">{value}</span>
    </div>
  );
}
