import type { DeadLetterSummary, Tier } from '../api.ts';
import { firstLine, formatCount } from '../format.ts';
import { Badge, Time } from './common.tsx';

/** Counts per tier, group and queue of a selection (replay and discard dry runs). */
export function Breakdown({
  byTier,
  byGroup,
  byQueue,
}: {
  byTier: { tier: Tier; count: number }[];
  byGroup: { groupId: string; count: number }[];
  byQueue: { queue: string; count: number; replayLimit?: number }[];
}) {
  return (
    <div class="grid-2">
      <div class="card">
        <h3>By tier</h3>
        <ul class="plain">
          {byTier.map((t) => (
            <li key={t.tier}>
              <Badge kind="tier" value={t.tier} /> <span class="num">{formatCount(t.count)}</span>
            </li>
          ))}
        </ul>
        <h3>By queue</h3>
        <ul class="plain">
          {byQueue.map((q) => (
            <li key={q.queue}>
              {q.queue}: {formatCount(q.count)}
              {q.replayLimit !== undefined ? (
                <span class="muted"> (replay limit {q.replayLimit})</span>
              ) : null}
            </li>
          ))}
        </ul>
      </div>
      <div class="card">
        <h3>By group</h3>
        <ul class="plain">
          {byGroup.slice(0, 12).map((g) => (
            <li key={g.groupId}>
              <a class="mono" href={`/groups/${encodeURIComponent(g.groupId)}`}>
                {g.groupId}
              </a>
              : {formatCount(g.count)}
            </li>
          ))}
          {byGroup.length > 12 ? <li class="muted">and {byGroup.length - 12} more groups</li> : null}
        </ul>
      </div>
    </div>
  );
}

/** A few dead letters of a selection, for a look before acting. */
export function Samples({ samples }: { samples: DeadLetterSummary[] }) {
  if (samples.length === 0) return null;
  return (
    <>
      <h3>Samples (newest first)</h3>
      <div class="table-wrap">
        <table class="data">
          <thead>
            <tr>
              <th scope="col">Died</th>
              <th scope="col">Queue</th>
              <th scope="col">Tier</th>
              <th scope="col">Error</th>
              <th scope="col" class="num">
                Replays
              </th>
            </tr>
          </thead>
          <tbody>
            {samples.map((d) => (
              <tr key={d.id}>
                <td>
                  <a href={`/dead-letters/${encodeURIComponent(d.id)}`}>
                    <Time at={d.diedAt} />
                  </a>
                </td>
                <td>{d.queue}</td>
                <td>
                  <Badge kind="tier" value={d.tier} />
                </td>
                <td class="wrap">
                  <strong>{d.error.name}</strong>: {firstLine(d.error.message)}
                </td>
                <td class="num">{d.replayCount}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
