import type { Tier } from '../core/tier.ts';

/**
 * The API's wire shapes the dashboard uses beside the engine's own types (api.ts re-exports
 * them). Pure types: the logic files that use them are tested in Node.
 */

/** One queue's counts, as `GET /api/stats` answers. */
export interface QueueStats {
  queue: string;
  waiting: number;
  delayed: number;
  leased: number;
  done: number;
  dead: number;
  dropped: number;
  replayed: number;
  discarded: number;
  archived: number;
  oldestDeadAt: number | null;
  retentionDays?: number;
  nextExpiryAt?: number | null;
}

export interface QueueSample {
  at: number;
  depth: number;
  inflow: number;
}

/**
 * The dead letters an operation applies to, as the CLI's selector flags: every given field
 * must match. `ids` (at most 1000) selects exact dead letters.
 */
export interface Selector {
  queue?: string;
  tier?: Tier;
  group?: string;
  since?: string;
  until?: string;
  grep?: string;
  where?: string[];
  ids?: string[];
}

/** An alert rule, as `GET /api/alert-rules` answers (admin only: webhook URLs are secrets). */
export interface AlertRuleView {
  id: string;
  name: string;
  queue: string | null;
  kind: 'depth' | 'growth' | 'oldest' | 'new_group' | 'regressed_group';
  threshold: number;
  windowMs: number | null;
  cooldownMs: number;
  /** A still-firing alert is notified again after this long; null: once. */
  renotifyMs: number | null;
  channels: { type: 'webhook' | 'slack' | 'log'; url?: string }[];
  enabled: boolean;
  createdAt: number;
  createdBy: string;
}

/** One firing of a rule, as `GET /api/alerts` answers, with its notifications (never their URLs). */
export interface AlertView {
  id: string;
  ruleId: string;
  ruleName: string;
  queue: string;
  groupId: string | null;
  state: 'firing' | 'resolved';
  firedAt: number;
  resolvedAt: number | null;
  value: number;
  details: Record<string, unknown>;
  deliveries: {
    id: string;
    event: 'fired' | 'resolved' | 'review';
    channel: 'webhook' | 'slack' | 'log';
    status: 'pending' | 'delivered' | 'failed';
    attempts: number;
    createdAt: number;
    lastError: string | null;
    deliveredAt: number | null;
  }[];
}
