import { AUDIT_ACTIONS, type AuditEntry, type AuditFilter } from '../core/audit.ts';
import { ValidationError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';

/** Parameters of `Deadletter.listAudit`: filters plus paging. */
export interface AuditListParams extends AuditFilter {
  /** Page size, 1–1000. Default 50. */
  limit?: number;
  /** The `nextCursor` of a previous page. */
  cursor?: string;
}

/** A page of audit entries, newest first; pass `nextCursor` back to continue. */
export interface AuditPage {
  items: AuditEntry[];
  nextCursor: string | null;
}

/** Lists the audit log (see `Deadletter.listAudit`). Throws ValidationError on a bad filter or cursor. */
export async function listAuditEntries(store: Store, params: AuditListParams): Promise<AuditPage> {
  const limit = params.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new ValidationError(`invalid limit ${limit}: use 1 to 1000`);
  }
  if (params.action !== undefined && !(AUDIT_ACTIONS as readonly string[]).includes(params.action)) {
    throw new ValidationError(`unknown audit action "${params.action}": use ${AUDIT_ACTIONS.join(', ')}`);
  }
  let beforeId: number | undefined;
  if (params.cursor !== undefined) {
    beforeId = Number(params.cursor);
    if (!Number.isSafeInteger(beforeId) || beforeId < 1) {
      throw new ValidationError(`invalid cursor "${params.cursor}": pass the nextCursor of a previous page`);
    }
  }
  const { cursor: _cursor, limit: _limit, ...filter } = params;
  const rows = await store.auditList({
    ...filter,
    limit: limit + 1,
    ...(beforeId !== undefined && { beforeId }),
  });
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? String(last.id) : null };
}
