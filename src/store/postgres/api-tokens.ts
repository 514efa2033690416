import type { ApiRole, ApiToken } from '../../core/api-token.ts';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { QueueSample } from '../store.ts';
import { quoteIdent } from './connection.ts';
import type { Queryable } from './db.ts';

/** A row of `api_tokens` (bigints come back as numbers: see connection.ts). */
export interface ApiTokenRow {
  id: string;
  name: string;
  role: string;
  hash: string;
  created_at: number;
  created_by: string;
  last_used_at: number | null;
  revoked_at: number | null;
}

export function toApiToken(row: ApiTokenRow): ApiToken {
  return {
    id: row.id,
    name: row.name,
    role: row.role as ApiRole,
    hash: row.hash,
    createdAt: row.created_at,
    createdBy: row.created_by,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

/** A row of `queue_samples`. */
export interface QueueSampleRow {
  queue: string;
  at: number;
  depth: number;
  inflow: number;
  dead_total: number;
}

export function toQueueSample(row: QueueSampleRow): QueueSample {
  return { queue: row.queue, at: row.at, depth: row.depth, inflow: row.inflow, deadTotal: row.dead_total };
}

const AUDIT_COLUMNS = 'at, actor, action, target_type, target_id, details';

/** Named, never `*`: see QUEUE_COLUMNS in statements.ts (prepared statements and added columns). */
const TOKEN_COLUMNS = 'id, name, role, hash, created_at, created_by, last_used_at, revoked_at';
const SAMPLE_COLUMNS = 'queue, at, depth, inflow, dead_total';

/**
 * The statements of the server's tables, schema-qualified. Audited changes are one statement
 * each: the change and its audit entry are CTEs of the same statement, so they commit together.
 */
export function apiTokenStatements(schema: string) {
  const s = quoteIdent(schema);
  return {
    /**
     * $1..$8 the token's columns, $9 the actor. Inserts nothing (and returns no row) when an
     * active token holds the name: the partial unique index `api_tokens_active_name` decides.
     */
    tokenInsert:
      `WITH t AS (INSERT INTO ${s}.api_tokens (id, name, role, hash, created_at, created_by, last_used_at, revoked_at) ` +
      'VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ' +
      `ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING RETURNING ${TOKEN_COLUMNS}), ` +
      `a AS (INSERT INTO ${s}.audit_log (${AUDIT_COLUMNS}) ` +
      "SELECT t.created_at, $9, 'token.create', 'api_token', t.name, " +
      "json_build_object('id', t.id, 'role', t.role) FROM t) " +
      `SELECT ${TOKEN_COLUMNS} FROM t`,
    tokenFindByHash: `SELECT ${TOKEN_COLUMNS} FROM ${s}.api_tokens WHERE hash = $1`,
    tokenList: `SELECT ${TOKEN_COLUMNS} FROM ${s}.api_tokens ORDER BY created_at, id`,
    /** $1 now, $2 name, $3 actor. */
    tokenRevoke:
      `WITH t AS (UPDATE ${s}.api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL RETURNING ${TOKEN_COLUMNS}), ` +
      `a AS (INSERT INTO ${s}.audit_log (${AUDIT_COLUMNS}) ` +
      "SELECT $1, $3, 'token.revoke', 'api_token', t.name, json_build_object('id', t.id, 'role', t.role) FROM t) " +
      `SELECT ${TOKEN_COLUMNS} FROM t`,
    /** $1 now, $2 id. */
    tokenTouch:
      `UPDATE ${s}.api_tokens SET last_used_at = $1 WHERE id = $2 ` +
      'AND (last_used_at IS NULL OR last_used_at < $1)',
    /** Parallel arrays $1..$5: queue, at, depth, inflow, dead_total. */
    queueSampleInsert:
      `INSERT INTO ${s}.queue_samples (queue, at, depth, inflow, dead_total) ` +
      'SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) ' +
      'ON CONFLICT (queue, at) DO NOTHING',
    /** $1 queue, $2 since, $3 until. */
    queueSampleList: `SELECT ${SAMPLE_COLUMNS} FROM ${s}.queue_samples WHERE queue = $1 AND at >= $2 AND at < $3 ORDER BY at`,
    queueSampleDeleteBefore: `DELETE FROM ${s}.queue_samples WHERE at < $1`,
  };
}

export type ApiTokenStatements = ReturnType<typeof apiTokenStatements>;

/**
 * The server's tables on PostgreSQL: API tokens and queue samples. Audited token changes are
 * one statement each (the change and its audit entry are CTEs of it).
 */
export class PostgresServerTables {
  private readonly sql: ApiTokenStatements;

  constructor(
    private readonly db: Queryable,
    schema: string,
  ) {
    this.sql = apiTokenStatements(schema);
  }

  async tokenCreate(params: { token: ApiToken; actor: string }): Promise<ApiToken> {
    const t = params.token;
    const { rows } = await this.db.query<ApiTokenRow>('token_insert', this.sql.tokenInsert, [
      t.id,
      t.name,
      t.role,
      t.hash,
      t.createdAt,
      t.createdBy,
      t.lastUsedAt,
      t.revokedAt,
      params.actor,
    ]);
    const row = rows[0];
    if (!row)
      throw new ConflictError(`a token named "${t.name}" exists: revoke it first or pick another name`);
    return toApiToken(row);
  }

  async tokenFindByHash(params: { hash: string }): Promise<ApiToken | undefined> {
    const { rows } = await this.db.query<ApiTokenRow>('token_find_by_hash', this.sql.tokenFindByHash, [
      params.hash,
    ]);
    return rows[0] ? toApiToken(rows[0]) : undefined;
  }

  async tokenList(): Promise<ApiToken[]> {
    const { rows } = await this.db.query<ApiTokenRow>('token_list', this.sql.tokenList);
    return rows.map(toApiToken);
  }

  async tokenRevoke(params: { name: string; now: number; actor: string }): Promise<ApiToken> {
    const { rows } = await this.db.query<ApiTokenRow>('token_revoke', this.sql.tokenRevoke, [
      params.now,
      params.name,
      params.actor,
    ]);
    if (!rows[0]) throw new NotFoundError(`no active token named "${params.name}"`);
    return toApiToken(rows[0]);
  }

  async tokenTouch(params: { id: string; now: number }): Promise<void> {
    await this.db.query('token_touch', this.sql.tokenTouch, [params.now, params.id]);
  }

  async queueSampleInsert(params: { samples: QueueSample[] }): Promise<void> {
    if (params.samples.length === 0) return;
    const samples = [...params.samples].sort((a, b) =>
      a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : a.at - b.at,
    );
    await this.db.query('queue_sample_insert', this.sql.queueSampleInsert, [
      samples.map((s) => s.queue),
      samples.map((s) => s.at),
      samples.map((s) => s.depth),
      samples.map((s) => s.inflow),
      samples.map((s) => s.deadTotal),
    ]);
  }

  async queueSampleList(params: { queue: string; since?: number; until?: number }): Promise<QueueSample[]> {
    const { rows } = await this.db.query<QueueSampleRow>('queue_sample_list', this.sql.queueSampleList, [
      params.queue,
      params.since ?? Number.MIN_SAFE_INTEGER,
      params.until ?? Number.MAX_SAFE_INTEGER,
    ]);
    return rows.map(toQueueSample);
  }

  async queueSampleDeleteBefore(params: { before: number }): Promise<{ deleted: number }> {
    const result = await this.db.query('queue_sample_delete_before', this.sql.queueSampleDeleteBefore, [
      params.before,
    ]);
    return { deleted: result.rowCount ?? 0 };
  }
}
