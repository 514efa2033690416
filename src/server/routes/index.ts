import { alertRoutes } from './alerts.ts';
import { archiveRoutes } from './archives.ts';
import { auditRoutes } from './audit.ts';
import type { RouteModule } from './context.ts';
import { deadLetterRoutes } from './dead-letters.ts';
import { discardRoutes } from './discards.ts';
import { groupRuleRoutes } from './group-rules.ts';
import { groupRoutes } from './groups.ts';
import { healthRoutes } from './health.ts';
import { messageRoutes } from './messages.ts';
import { metricsRoutes } from './metrics.ts';
import { queueRoutes } from './queues.ts';
import { replayRoutes } from './replays.ts';
import { sessionRoutes } from './session.ts';
import { statsRoutes } from './stats.ts';
import { tokenRoutes } from './tokens.ts';
import { triageRoutes } from './triage.ts';

export type { ApiApp, RouteContext, RouteModule } from './context.ts';

/**
 * Every routes file of the API, one per resource. Extension point: a new resource (replay,
 * discard, alerts...) is a new file in this folder exporting a {@link RouteModule}, added here.
 */
export const ROUTE_MODULES: readonly RouteModule[] = [
  healthRoutes,
  queueRoutes,
  statsRoutes,
  messageRoutes,
  deadLetterRoutes,
  groupRoutes,
  groupRuleRoutes,
  auditRoutes,
  tokenRoutes,
  metricsRoutes,
  sessionRoutes,
  replayRoutes,
  discardRoutes,
  triageRoutes,
  alertRoutes,
  archiveRoutes,
];
