import type { FingerprintRule } from '../core/fingerprint.ts';
import { type GroupRule, toFingerprintRule } from '../core/group-rule.ts';
import type { Store } from '../store/store.ts';

/**
 * The stored fingerprint rules (`dlq group rule add`) as this process applies them: loaded
 * once before the first worker runs, then reloaded every `refreshMs` in the background (one
 * small query, never one per failure), so a rule added from another process applies here
 * within that interval. A change made through this handle reloads at once.
 */
export class StoredGroupRules {
  private all: { queue: string | null; rule: FingerprintRule }[] = [];
  private readonly byQueue = new Map<string, readonly FingerprintRule[]>();
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  private loaded = false;

  constructor(
    private readonly store: Store,
    private readonly refreshMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** The stored rules that apply to `queue`, oldest first (empty until the first load). */
  forQueue(queue: string): readonly FingerprintRule[] {
    let rules = this.byQueue.get(queue);
    if (rules === undefined) {
      rules = this.all.filter((r) => r.queue === null || r.queue === queue).map((r) => r.rule);
      this.byQueue.set(queue, rules);
    }
    return rules;
  }

  /** Reads the rules from the store now (a load already running is shared). */
  reload(): Promise<void> {
    this.loading ??= this.store
      .groupRuleList()
      .then((rules) => this.use(rules))
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  /** Loads the rules if they never were, and starts the background refresh. */
  async start(): Promise<void> {
    if (!this.loaded) await this.reload();
    if (this.timer === undefined && this.refreshMs > 0) {
      this.timer = setInterval(() => {
        this.reload().catch(this.onError);
      }, this.refreshMs);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.loading?.catch(() => undefined);
  }

  private use(rules: GroupRule[]): void {
    const compiled: { queue: string | null; rule: FingerprintRule }[] = [];
    for (const rule of rules) {
      try {
        compiled.push({ queue: rule.queue, rule: toFingerprintRule(rule) });
      } catch (error) {
        // Rules are checked when they are added; one that no longer compiles is skipped, not fatal.
        this.onError(error);
      }
    }
    this.all = compiled;
    this.byQueue.clear();
    this.loaded = true;
  }
}
