import type Database from 'better-sqlite3';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { GroupMergeResult, MergedGroup } from '../../core/group.ts';
import type { GroupRule } from '../../core/group-rule.ts';
import { commitUnlessDryRun, dryRunResult } from '../dry-run.ts';
import {
  type AliasRow,
  aliasOf,
  type GroupRuleRow,
  groupRuleAudit,
  mergedCounts,
  mergeSources,
  missingGroupError,
  toGroupRule,
  toMergedGroup,
} from '../group-merge-rows.ts';
import { type GroupRow, toGroup } from '../group-row.ts';
import type { SqliteAuditLog } from './audit.ts';

/**
 * Group merge, aliases and stored fingerprint rules on SQLite. A merge is one immediate
 * transaction (SQLite has one writer, so no death can land in a source while it runs).
 */
export class SqliteGroupMerge {
  private readonly db: Database.Database;
  private readonly audit: SqliteAuditLog;
  private readonly sql;

  constructor(db: Database.Database, audit: SqliteAuditLog) {
    this.db = db;
    this.audit = audit;
    this.sql = {
      groupGet: db.prepare<[string], GroupRow>('SELECT * FROM groups WHERE id = ?'),
      groupQueues: db.prepare<[string], { queue: string }>(
        'SELECT queue FROM group_queues WHERE group_id = ? ORDER BY queue',
      ),
      aliasGet: db.prepare<[string], AliasRow>('SELECT * FROM group_aliases WHERE source_id = ?'),
      aliasesOf: db.prepare<[string], AliasRow>(
        'SELECT * FROM group_aliases WHERE target_id = ? ORDER BY merged_at DESC, source_id',
      ),
      // The DLQ's rows (on the partial group index); replayed ones keep the group they had.
      moveDeadLetters: db.prepare<[string, string]>(
        'UPDATE dead_letters SET group_id = ? WHERE group_id = ? AND replayed = 0',
      ),
      // `WHERE true` lets SQLite parse an upsert after INSERT ... SELECT.
      moveQueues: db.prepare<{ target: string; source: string }>(
        'INSERT INTO group_queues (group_id, queue, count) SELECT @target, queue, count FROM group_queues ' +
          'WHERE group_id = @source AND true ON CONFLICT (group_id, queue) DO UPDATE SET count = count + excluded.count',
      ),
      deleteQueues: db.prepare<[string]>('DELETE FROM group_queues WHERE group_id = ?'),
      deleteGroup: db.prepare<[string]>('DELETE FROM groups WHERE id = ?'),
      updateTarget: db.prepare<{
        id: string;
        count: number;
        deadCount: number;
        firstSeen: number;
        lastSeen: number;
        sampleId: string;
      }>(
        'UPDATE groups SET count = @count, dead_count = @deadCount, first_seen = @firstSeen, ' +
          'last_seen = @lastSeen, sample_id = @sampleId WHERE id = @id',
      ),
      repoint: db.prepare<[string, string]>('UPDATE group_aliases SET target_id = ? WHERE target_id = ?'),
      aliasInsert: db.prepare<AliasRow>(
        'INSERT INTO group_aliases (source_id, target_id, fingerprint, error_name, normalized_message, tier, ' +
          'count, first_seen, last_seen, merged_at, merged_by) VALUES (@source_id, @target_id, @fingerprint, ' +
          '@error_name, @normalized_message, @tier, @count, @first_seen, @last_seen, @merged_at, @merged_by)',
      ),
      ruleInsert: db.prepare<GroupRuleRow>(
        'INSERT INTO group_rules (id, name, queue, match, fingerprint, created_at, created_by) ' +
          'VALUES (@id, @name, @queue, @match, @fingerprint, @created_at, @created_by)',
      ),
      ruleConflict: db.prepare<[string, string], { id: string }>(
        'SELECT id FROM group_rules WHERE id = ? OR name = ?',
      ),
      ruleList: db.prepare<[], GroupRuleRow>('SELECT * FROM group_rules ORDER BY created_at, id'),
      ruleDelete: db.prepare<[string], GroupRuleRow>('DELETE FROM group_rules WHERE id = ? RETURNING *'),
    };
  }

  merge(params: {
    target: string;
    sources: string[];
    actor: string;
    now: number;
    dryRun?: boolean;
  }): GroupMergeResult {
    const sources = mergeSources(params.target, params.sources);
    try {
      return this.db
        .transaction(() => {
          const target = this.sql.groupGet.get(params.target);
          if (!target) throw missingGroupError(params.target, this.sql.aliasGet.get(params.target), 'target');
          const rows = sources.map((id) => {
            const row = this.sql.groupGet.get(id);
            if (!row) throw missingGroupError(id, this.sql.aliasGet.get(id), 'source');
            return row;
          });
          let moved = 0;
          let repointed = 0;
          const merged: MergedGroup[] = [];
          for (const row of rows) {
            moved += this.sql.moveDeadLetters.run(target.id, row.id).changes;
            this.sql.moveQueues.run({ target: target.id, source: row.id });
            this.sql.deleteQueues.run(row.id);
            repointed += this.sql.repoint.run(target.id, row.id).changes;
            const alias = aliasOf(row, target.id, params.now, params.actor);
            this.sql.aliasInsert.run(alias);
            this.sql.deleteGroup.run(row.id);
            merged.push(toMergedGroup(alias));
          }
          this.sql.updateTarget.run({ id: target.id, ...mergedCounts(target, rows) });
          this.audit.append({
            at: params.now,
            actor: params.actor,
            action: 'group.merge',
            targetType: 'group',
            targetId: target.id,
            details: { sources, moved, repointed },
          });
          const after = this.sql.groupGet.get(target.id) as GroupRow;
          const result: GroupMergeResult = {
            target: toGroup(
              after,
              this.sql.groupQueues.all(target.id).map((q) => q.queue),
            ),
            merged,
            moved,
            repointed,
            dryRun: params.dryRun === true,
          };
          return commitUnlessDryRun(result, params.dryRun);
        })
        .immediate();
    } catch (error) {
      return dryRunResult(error);
    }
  }

  listMerged(target: string): MergedGroup[] {
    return this.sql.aliasesOf.all(target).map(toMergedGroup);
  }

  aliasGet(id: string): MergedGroup | undefined {
    const row = this.sql.aliasGet.get(id);
    return row ? toMergedGroup(row) : undefined;
  }

  ruleCreate(rule: GroupRule, actor: string): GroupRule {
    return this.db
      .transaction(() => {
        if (this.sql.ruleConflict.get(rule.id, rule.name)) {
          throw new ConflictError(`a group rule named "${rule.name}" exists already`);
        }
        this.sql.ruleInsert.run({
          id: rule.id,
          name: rule.name,
          queue: rule.queue,
          match: JSON.stringify(rule.match),
          fingerprint: rule.fingerprint,
          created_at: rule.createdAt,
          created_by: rule.createdBy,
        });
        this.audit.append(groupRuleAudit('group_rule.create', rule, rule.createdAt, actor));
        return rule;
      })
      .immediate();
  }

  ruleList(): GroupRule[] {
    return this.sql.ruleList.all().map(toGroupRule);
  }

  ruleRemove(params: { id: string; actor: string; now: number }): GroupRule {
    return this.db
      .transaction(() => {
        const row = this.sql.ruleDelete.get(params.id);
        if (!row) throw new NotFoundError(`unknown group rule "${params.id}"`);
        const rule = toGroupRule(row);
        this.audit.append(groupRuleAudit('group_rule.remove', rule, params.now, params.actor));
        return rule;
      })
      .immediate();
  }
}
