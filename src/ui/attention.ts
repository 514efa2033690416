import type { Group } from '../core/group.ts';
import { formatCount, formatSpan, plural } from './format.ts';
import type { QueueSample, QueueStats } from './model.ts';

/** Which queues need attention first, and why (the overview). Pure. */

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** One queue's row: its counts, the last day's samples and its untriaged groups. */
export interface QueueOverview {
  stats: QueueStats;
  samples: QueueSample[];
  inflowHour: number;
  inflowDay: number;
  newGroups: number;
  regressedGroups: number;
  /** Why it needs attention, most urgent first; empty when it does not. */
  reasons: string[];
  score: number;
  /** Alerts firing on this queue now. */
  firing: number;
}

/** Ranks the queues: regressions, then new groups, then fresh inflow, then old or expiring dead letters. */
export function rankQueues(
  stats: QueueStats[],
  groups: Group[],
  samples: Map<string, QueueSample[]>,
  now: number,
  firing: Map<string, number> = new Map(),
): QueueOverview[] {
  return stats
    .map((row) => {
      const own = samples.get(row.queue) ?? [];
      const inflowHour = own.filter((s) => s.at > now - HOUR).reduce((n, s) => n + s.inflow, 0);
      const inflowDay = own.reduce((n, s) => n + s.inflow, 0);
      const mine = groups.filter((g) => g.queues.includes(row.queue) && g.deadCount > 0);
      const newGroups = mine.filter((g) => g.status === 'new').length;
      const regressedGroups = mine.filter((g) => g.status === 'regressed').length;
      const reasons: string[] = [];
      let score = 0;
      const alerts = firing.get(row.queue) ?? 0;
      if (alerts > 0) {
        reasons.push(`${plural(alerts, 'alert')} firing`);
        score += 100_000 * alerts;
      }
      if (regressedGroups > 0) {
        reasons.push(`${plural(regressedGroups, 'regressed group')}`);
        score += 10_000 * regressedGroups;
      }
      if (newGroups > 0) {
        reasons.push(`${plural(newGroups, 'untriaged group')}`);
        score += 1_000 * newGroups;
      }
      if (inflowHour > 0) {
        reasons.push(`${formatCount(inflowHour)} new in the last hour`);
        score += 10 * inflowHour;
      }
      if (row.nextExpiryAt != null && row.nextExpiryAt - now < 2 * DAY && row.dead > 0) {
        reasons.push(`dead letters expire in ${formatSpan(Math.max(0, row.nextExpiryAt - now))}`);
        score += 500;
      }
      if (row.dead > 0) score += 1;
      return {
        stats: row,
        samples: own,
        inflowHour,
        inflowDay,
        newGroups,
        regressedGroups,
        reasons,
        score,
        firing: alerts,
      };
    })
    .sort(
      (a, b) =>
        b.score - a.score || b.stats.dead - a.stats.dead || a.stats.queue.localeCompare(b.stats.queue),
    );
}
