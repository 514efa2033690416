import type { AlertRule, AlertState } from '../core/alert.ts';
import {
  type AlertHistoryEntry,
  type AlertRuleChanges,
  type AlertRuleInput,
  createAlertRule,
  listAlertHistory,
  removeAlertRule,
  updateAlertRule,
} from '../engine/alerts.ts';
import type { ApiTokenInfo, CreatedApiToken } from '../engine/api-tokens.ts';
import { createApiToken, listApiTokens, revokeApiToken } from '../engine/api-tokens.ts';
import type { Deadletter } from '../engine/deadletter.ts';
import type { AdminApi } from './api-client.ts';

/**
 * The admin calls of {@link AdminApi} on the store itself (no server), as `actor`: the same
 * engine functions the API's routes call, so a command behaves the same both ways.
 */
export class LocalAdmin implements AdminApi {
  private readonly dl: Deadletter;
  private readonly actor: string;

  constructor(dl: Deadletter, actor: string) {
    this.dl = dl;
    this.actor = actor;
  }

  listAlertRules(): Promise<AlertRule[]> {
    return this.dl.store.alertRuleList();
  }

  addAlertRule(input: AlertRuleInput): Promise<AlertRule> {
    return createAlertRule(this.dl.store, { input, actor: this.actor, now: this.dl.clock.now() });
  }

  updateAlertRule(ref: string, changes: AlertRuleChanges): Promise<AlertRule> {
    return updateAlertRule(this.dl.store, { ref, changes, actor: this.actor, now: this.dl.clock.now() });
  }

  removeAlertRule(ref: string): Promise<AlertRule> {
    return removeAlertRule(this.dl.store, { ref, actor: this.actor, now: this.dl.clock.now() });
  }

  listAlertHistory(params: { state?: AlertState; limit?: number }): Promise<AlertHistoryEntry[]> {
    return listAlertHistory(this.dl.store, params);
  }

  listTokens(): Promise<ApiTokenInfo[]> {
    return listApiTokens(this.dl.store);
  }

  createToken(params: { name: string; role: string }): Promise<CreatedApiToken> {
    return createApiToken(this.dl.store, { ...params, actor: this.actor, now: this.dl.clock.now() });
  }

  revokeToken(name: string): Promise<ApiTokenInfo> {
    return revokeApiToken(this.dl.store, { name, actor: this.actor, now: this.dl.clock.now() });
  }
}
