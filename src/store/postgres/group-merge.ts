import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { Group, GroupMergeResult, MergedGroup } from '../../core/group.ts';
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
import { appendAudit } from './audit.ts';
import { quoteIdent } from './connection.ts';
import type { PgDb } from './db.ts';
import { GROUP_COLUMNS, queuesOf } from './statements.ts';

const ALIAS_COLUMNS =
  'source_id, target_id, fingerprint, error_name, normalized_message, tier, count, first_seen, last_seen, ' +
  'merged_at, merged_by';
const RULE_COLUMNS = 'id, name, queue, match, fingerprint, created_at, created_by';

/**
 * Group merge, aliases and stored fingerprint rules on PostgreSQL. A death resolves its group's
 * alias inside its own statement (statements.ts, `messageDead`); a merge first takes an EXCLUSIVE
 * lock on `dead_letters`, which waits for the transactions writing (or locking rows of) dead
 * letters at that moment and holds new ones back until the merge commits. Those then take their
 * snapshot after the commit and see the alias: no death can land in a group that is being merged
 * away. EXCLUSIVE rather than SHARE ROW EXCLUSIVE because a replay batch locks its rows FOR UPDATE
 * before it writes: the merge must wait for it, not deadlock with it. Plain reads are never
 * blocked.
 */
export class PostgresGroupMerge {
  private readonly s: string;

  constructor(
    private readonly db: PgDb,
    private readonly schema: string,
  ) {
    this.s = quoteIdent(schema);
  }

  async merge(params: {
    target: string;
    sources: string[];
    actor: string;
    now: number;
    dryRun?: boolean;
  }): Promise<GroupMergeResult> {
    const sources = mergeSources(params.target, params.sources);
    const s = this.s;
    try {
      return await this.db.transaction(async (tx) => {
        await tx.query(undefined, `LOCK TABLE ${s}.dead_letters IN EXCLUSIVE MODE`);
        const ids = [params.target, ...sources];
        const { rows } = await tx.query<GroupRow>(
          'group_merge_lock',
          `SELECT * FROM ${s}.groups WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
          [ids],
        );
        const byId = new Map(rows.map((row) => [row.id, row]));
        for (const [index, id] of ids.entries()) {
          if (byId.has(id)) continue;
          const alias = (
            await tx.query<AliasRow>(
              'group_alias_get',
              `SELECT ${ALIAS_COLUMNS} FROM ${s}.group_aliases WHERE source_id = $1`,
              [id],
            )
          ).rows[0];
          throw missingGroupError(id, alias, index === 0 ? 'target' : 'source');
        }
        const target = byId.get(params.target) as GroupRow;
        const sourceRows = sources.map((id) => byId.get(id) as GroupRow);
        const moved =
          (
            await tx.query(
              'group_merge_move',
              // The DLQ's rows (on the partial group index); replayed ones keep their group.
              `UPDATE ${s}.dead_letters SET group_id = $1 WHERE group_id = ANY($2::text[]) AND NOT replayed`,
              [target.id, sources],
            )
          ).rowCount ?? 0;
        await tx.query(
          'group_merge_queues',
          `INSERT INTO ${s}.group_queues AS gq (group_id, queue, count) SELECT $1, queue, sum(count) ` +
            `FROM ${s}.group_queues WHERE group_id = ANY($2::text[]) GROUP BY queue ORDER BY queue ` +
            'ON CONFLICT (group_id, queue) DO UPDATE SET count = gq.count + excluded.count',
          [target.id, sources],
        );
        await tx.query(
          'group_merge_queues_delete',
          `DELETE FROM ${s}.group_queues WHERE group_id = ANY($1::text[])`,
          [sources],
        );
        const repointed =
          (
            await tx.query(
              'group_merge_repoint',
              `UPDATE ${s}.group_aliases SET target_id = $1 WHERE target_id = ANY($2::text[])`,
              [target.id, sources],
            )
          ).rowCount ?? 0;
        const aliases = sourceRows.map((row) => aliasOf(row, target.id, params.now, params.actor));
        await tx.query(
          'group_merge_alias_insert',
          `INSERT INTO ${s}.group_aliases (${ALIAS_COLUMNS}) SELECT * FROM unnest($1::text[], $2::text[], ` +
            '$3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], ' +
            '$10::bigint[], $11::text[])',
          [
            aliases.map((a) => a.source_id),
            aliases.map((a) => a.target_id),
            aliases.map((a) => a.fingerprint),
            aliases.map((a) => a.error_name),
            aliases.map((a) => a.normalized_message),
            aliases.map((a) => a.tier),
            aliases.map((a) => a.count),
            aliases.map((a) => a.first_seen),
            aliases.map((a) => a.last_seen),
            aliases.map((a) => a.merged_at),
            aliases.map((a) => a.merged_by),
          ],
        );
        await tx.query('group_merge_delete', `DELETE FROM ${s}.groups WHERE id = ANY($1::text[])`, [sources]);
        const counts = mergedCounts(target, sourceRows);
        const updated = await tx.query<GroupRow & { queues: string[] }>(
          'group_merge_target',
          `UPDATE ${s}.groups g SET count = $2, dead_count = $3, first_seen = $4, last_seen = $5, sample_id = $6 ` +
            `WHERE g.id = $1 RETURNING ${GROUP_COLUMNS}, ${queuesOf(s, 'g')} AS queues`,
          [target.id, counts.count, counts.deadCount, counts.firstSeen, counts.lastSeen, counts.sampleId],
        );
        await appendAudit(tx, this.schema, [
          {
            at: params.now,
            actor: params.actor,
            action: 'group.merge',
            targetType: 'group',
            targetId: target.id,
            details: { sources, moved, repointed },
          },
        ]);
        const row = updated.rows[0] as GroupRow & { queues: string[] };
        const group: Group = toGroup(row, row.queues);
        const result: GroupMergeResult = {
          target: group,
          merged: aliases.map(toMergedGroup),
          moved,
          repointed,
          dryRun: params.dryRun === true,
        };
        return commitUnlessDryRun(result, params.dryRun);
      });
    } catch (error) {
      return dryRunResult(error);
    }
  }

  async listMerged(target: string): Promise<MergedGroup[]> {
    const { rows } = await this.db.query<AliasRow>(
      'group_aliases_of',
      `SELECT ${ALIAS_COLUMNS} FROM ${this.s}.group_aliases WHERE target_id = $1 ORDER BY merged_at DESC, source_id`,
      [target],
    );
    return rows.map(toMergedGroup);
  }

  async aliasGet(id: string): Promise<MergedGroup | undefined> {
    const { rows } = await this.db.query<AliasRow>(
      'group_alias_get',
      `SELECT ${ALIAS_COLUMNS} FROM ${this.s}.group_aliases WHERE source_id = $1`,
      [id],
    );
    return rows[0] ? toMergedGroup(rows[0]) : undefined;
  }

  async ruleCreate(rule: GroupRule, actor: string): Promise<GroupRule> {
    return this.db.transaction(async (tx) => {
      const inserted = await tx.query(
        'group_rule_insert',
        `INSERT INTO ${this.s}.group_rules (${RULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [
          rule.id,
          rule.name,
          rule.queue,
          JSON.stringify(rule.match),
          rule.fingerprint,
          rule.createdAt,
          rule.createdBy,
        ],
      );
      if (inserted.rowCount !== 1) {
        throw new ConflictError(`a group rule named "${rule.name}" exists already`);
      }
      await appendAudit(tx, this.schema, [groupRuleAudit('group_rule.create', rule, rule.createdAt, actor)]);
      return rule;
    });
  }

  async ruleList(): Promise<GroupRule[]> {
    const { rows } = await this.db.query<GroupRuleRow>(
      'group_rule_list',
      `SELECT ${RULE_COLUMNS} FROM ${this.s}.group_rules ORDER BY created_at, id`,
    );
    return rows.map(toGroupRule);
  }

  async ruleRemove(params: { id: string; actor: string; now: number }): Promise<GroupRule> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<GroupRuleRow>(
        'group_rule_delete',
        `DELETE FROM ${this.s}.group_rules WHERE id = $1 RETURNING ${RULE_COLUMNS}`,
        [params.id],
      );
      if (!rows[0]) throw new NotFoundError(`unknown group rule "${params.id}"`);
      const rule = toGroupRule(rows[0]);
      await appendAudit(tx, this.schema, [
        groupRuleAudit('group_rule.remove', rule, params.now, params.actor),
      ]);
      return rule;
    });
  }
}
