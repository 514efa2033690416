import type { AuditAction, AuditEntry, AuditEntryInput, AuditFilter } from '../../core/audit.ts';
import type { Json } from '../../core/message.ts';
import { quoteIdent } from './connection.ts';
import type { Queryable } from './db.ts';
import type { ListQuery } from './list-queries.ts';

/** A row of `audit_log` (`details` parsed by the driver). */
export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  details: { [key: string]: Json };
}

/** An `audit_log` row as an {@link AuditEntry}. */
export function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action as AuditAction,
    targetType: row.target_type,
    targetId: row.target_id,
    details: row.details,
  };
}

/**
 * Appends entries in one statement, in their order (the identity gives later entries larger
 * ids). $1..$6 are parallel arrays.
 */
export function auditInsertSql(schema: string): string {
  return (
    `INSERT INTO ${quoteIdent(schema)}.audit_log (at, actor, action, target_type, target_id, details) ` +
    'SELECT at, actor, action, target_type, target_id, details::json FROM unnest($1::bigint[], $2::text[], ' +
    '$3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS e(at, actor, action, target_type, ' +
    'target_id, details, ord) ORDER BY ord'
  );
}

/** The parameters of {@link auditInsertSql} for `entries`. */
export function auditInsertParams(entries: AuditEntryInput[]): unknown[] {
  return [
    entries.map((e) => e.at),
    entries.map((e) => e.actor),
    entries.map((e) => e.action),
    entries.map((e) => e.targetType),
    entries.map((e) => e.targetId),
    entries.map((e) => JSON.stringify(e.details)),
  ];
}

/**
 * The audit list, newest first. Each equality filter has an index ending in `id`, read
 * backwards, so the walk is in order and stops at the limit; time bounds are checked per row.
 */
export function auditListQuery(
  schema: string,
  params: AuditFilter & { limit: number; beforeId?: number | undefined },
): ListQuery {
  const where: string[] = [];
  const values: (string | number)[] = [];
  let key = 'audit';
  const add = (part: string, term: (placeholder: string) => string, value: string | number) => {
    values.push(value);
    where.push(term(`$${values.length}`));
    key += `:${part}`;
  };
  if (params.action !== undefined) add('action', (p) => `action = ${p}`, params.action);
  if (params.actor !== undefined) add('actor', (p) => `actor = ${p}`, params.actor);
  if (params.targetId !== undefined) add('target', (p) => `target_id = ${p}`, params.targetId);
  if (params.since !== undefined) add('since', (p) => `at >= ${p}`, params.since);
  if (params.until !== undefined) add('until', (p) => `at < ${p}`, params.until);
  if (params.beforeId !== undefined) add('before', (p) => `id < ${p}`, params.beforeId);
  values.push(params.limit);
  const sql =
    `SELECT id, at, actor, action, target_type, target_id, details FROM ${quoteIdent(schema)}.audit_log${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ` +
    `ORDER BY id DESC LIMIT $${values.length}`;
  return { key, sql, params: values };
}

/** Appends entries inside the caller's transaction (the change they record commits with them). */
export async function appendAudit(tx: Queryable, schema: string, entries: AuditEntryInput[]): Promise<void> {
  if (entries.length === 0) return;
  await tx.query('audit_insert', auditInsertSql(schema), auditInsertParams(entries));
}
