import { api, type QueueSample } from '../api.ts';
import { type QueueOverview, rankQueues } from '../attention.ts';
import { AsyncView, Badge, Empty, PageHeader, Time, useAsync } from '../components/common.tsx';
import { Sparkline } from '../components/sparkline.tsx';
import { formatCount, plural } from '../format.ts';
import { bucketize } from '../series.ts';

async function loadOverview() {
  const now = Date.now();
  const [stats, groups, alerts] = await Promise.all([
    api.stats(),
    api.groups({ limit: 1000, sort: 'last-seen' }),
    // A server without the alerts API shows no alerts rather than no overview.
    api.alerts({ state: 'firing', limit: 1000 }).catch(() => []),
  ]);
  const firing = new Map<string, number>();
  for (const alert of alerts) firing.set(alert.queue, (firing.get(alert.queue) ?? 0) + 1);
  const samples = new Map<string, QueueSample[]>();
  await Promise.all(
    stats.map(async (row) => {
      samples.set(row.queue, await api.samples(row.queue, '24h').catch(() => []));
    }),
  );
  return { now, rows: rankQueues(stats, groups, samples, now, firing) };
}

/** Every queue at a glance, the ones that need attention first. */
export function OverviewPage() {
  const state = useAsync(loadOverview, [], 30_000);
  return (
    <>
      <PageHeader
        title="Overview"
        sub="Every queue's DLQ: what is dead, what keeps arriving, and what nobody has looked at yet."
      />
      <AsyncView state={state} what="the overview">
        {({ now, rows }) => {
          if (rows.length === 0) {
            return (
              <Empty title="No queues yet">
                Create one with <code>dlq queue create &lt;name&gt;</code> or the library's{' '}
                <code>dl.ensureQueue()</code>; its DLQ shows up here.
              </Empty>
            );
          }
          const attention = rows.filter((r) => r.reasons.length > 0);
          const totals = rows.reduce(
            (t, r) => ({
              dead: t.dead + r.stats.dead,
              inflow: t.inflow + r.inflowHour,
              untriaged: t.untriaged + r.newGroups + r.regressedGroups,
              firing: t.firing + r.firing,
            }),
            { dead: 0, inflow: 0, untriaged: 0, firing: 0 },
          );
          return (
            <>
              <section class="tiles" aria-label="Totals">
                <div class="tile">
                  <span class="tile-label">Dead letters</span>
                  <span class="tile-value">{formatCount(totals.dead)}</span>
                </div>
                <div class="tile">
                  <span class="tile-label">Arrived in the last hour</span>
                  <span class="tile-value">{formatCount(totals.inflow)}</span>
                </div>
                <div class="tile">
                  <span class="tile-label">Untriaged groups</span>
                  <span class="tile-value">{formatCount(totals.untriaged)}</span>
                </div>
                <div class="tile">
                  <span class="tile-label">Firing alerts</span>
                  <span class="tile-value">
                    {totals.firing > 0 ? (
                      <a href="/alerts?state=firing">{formatCount(totals.firing)}</a>
                    ) : (
                      '0'
                    )}
                  </span>
                </div>
                <div class="tile">
                  <span class="tile-label">Queues</span>
                  <span class="tile-value">{formatCount(rows.length)}</span>
                </div>
              </section>

              <section aria-labelledby="attention">
                <h2 id="attention">Needs attention</h2>
                {attention.length === 0 ? (
                  <p class="ok-line">
                    Nothing needs attention: no new or regressed groups, nothing arriving.
                  </p>
                ) : (
                  <ol class="attention">
                    {attention.slice(0, 5).map((row) => (
                      <li key={row.stats.queue}>
                        <a href={`/queues/${encodeURIComponent(row.stats.queue)}`}>{row.stats.queue}</a>
                        <span>{row.reasons.join(' · ')}</span>
                        {row.newGroups + row.regressedGroups > 0 ? (
                          <a
                            class="small-link"
                            href={`/groups?queue=${encodeURIComponent(row.stats.queue)}&status=new`}
                          >
                            triage groups
                          </a>
                        ) : null}
                      </li>
                    ))}
                  </ol>
                )}
              </section>

              <section aria-labelledby="queues">
                <h2 id="queues">Queues</h2>
                <div class="table-wrap">
                  <table class="data">
                    <thead>
                      <tr>
                        <th scope="col">Queue</th>
                        <th scope="col" class="num">
                          Waiting
                        </th>
                        <th scope="col" class="num">
                          Dead
                        </th>
                        <th scope="col">Depth 24 h</th>
                        <th scope="col" class="num">
                          Inflow 1 h
                        </th>
                        <th scope="col">Inflow 24 h</th>
                        <th scope="col">Oldest</th>
                        <th scope="col">Untriaged</th>
                        <th scope="col">Alerts</th>
                      </tr>
                    </thead>
                    <tbody>
                      {rows.map((row) => (
                        <QueueRow key={row.stats.queue} row={row} now={now} />
                      ))}
                    </tbody>
                  </table>
                </div>
                <p class="muted small-print">
                  Depth and inflow come from the server's per-minute samples (kept 30 days).
                </p>
              </section>
            </>
          );
        }}
      </AsyncView>
    </>
  );
}

function QueueRow({ row, now }: { row: QueueOverview; now: number }) {
  const { stats } = row;
  const since = now - 86_400_000;
  const depth = bucketize(
    row.samples.map((s) => ({ at: s.at, value: s.depth })),
    since,
    now,
    48,
    'last',
  );
  const inflow = bucketize(
    row.samples.map((s) => ({ at: s.at, value: s.inflow })),
    since,
    now,
    48,
    'sum',
  );
  const hasSamples = row.samples.length > 1;
  return (
    <tr>
      <th scope="row">
        <a href={`/queues/${encodeURIComponent(stats.queue)}`}>{stats.queue}</a>
      </th>
      <td class="num">{formatCount(stats.waiting + stats.delayed)}</td>
      <td class="num strong">
        <a href={`/dead-letters?queue=${encodeURIComponent(stats.queue)}`}>{formatCount(stats.dead)}</a>
      </td>
      <td>
        <Sparkline
          values={hasSamples ? depth : []}
          label={`${stats.queue}: DLQ depth over the last 24 hours`}
        />
      </td>
      <td class="num">{formatCount(row.inflowHour)}</td>
      <td>
        <Sparkline
          values={hasSamples ? inflow : []}
          kind="inflow"
          label={`${stats.queue}: dead letters arriving over the last 24 hours, ${row.inflowDay} in all`}
        />
      </td>
      <td>
        {stats.oldestDeadAt === null ? (
          <span class="muted">—</span>
        ) : (
          <Time at={stats.oldestDeadAt} now={now} />
        )}
      </td>
      <td>
        {row.regressedGroups > 0 ? <Badge kind="status" value="regressed" /> : null}{' '}
        {row.newGroups > 0 ? (
          <a href={`/groups?queue=${encodeURIComponent(stats.queue)}&status=new`}>
            {plural(row.newGroups, 'new group')}
          </a>
        ) : row.regressedGroups === 0 ? (
          <span class="muted">none</span>
        ) : null}
      </td>
      <td>
        {row.firing > 0 ? (
          <a href="/alerts?state=firing">
            <Badge kind="alert" value="firing" /> {row.firing}
          </a>
        ) : (
          <span class="muted">none</span>
        )}
      </td>
    </tr>
  );
}
