import type Database from 'better-sqlite3';
import type { ApiRole, ApiToken } from '../../core/api-token.ts';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { SqliteAuditLog } from './audit.ts';

interface ApiTokenRow {
  id: string;
  name: string;
  role: string;
  hash: string;
  created_at: number;
  created_by: string;
  last_used_at: number | null;
  revoked_at: number | null;
}

function toApiToken(row: ApiTokenRow): ApiToken {
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

/** The `api_tokens` statements of one connection, prepared once; audited changes append in their transaction. */
export class SqliteApiTokens {
  private readonly db: Database.Database;
  private readonly audit: SqliteAuditLog;
  private readonly insert: Database.Statement<[ApiTokenRow]>;
  private readonly findActiveByName: Database.Statement<[string], ApiTokenRow>;
  private readonly findByHash: Database.Statement<[string], ApiTokenRow>;
  private readonly all: Database.Statement<[], ApiTokenRow>;
  private readonly revoke: Database.Statement<[number, string], ApiTokenRow>;
  private readonly touch: Database.Statement<[number, string, number]>;

  constructor(db: Database.Database, audit: SqliteAuditLog) {
    this.db = db;
    this.audit = audit;
    this.insert = db.prepare(
      `INSERT INTO api_tokens (id, name, role, hash, created_at, created_by, last_used_at, revoked_at)
       VALUES (@id, @name, @role, @hash, @created_at, @created_by, @last_used_at, @revoked_at)`,
    );
    this.findActiveByName = db.prepare('SELECT * FROM api_tokens WHERE name = ? AND revoked_at IS NULL');
    this.findByHash = db.prepare('SELECT * FROM api_tokens WHERE hash = ?');
    this.all = db.prepare('SELECT * FROM api_tokens ORDER BY created_at, id');
    this.revoke = db.prepare(
      'UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL RETURNING *',
    );
    this.touch = db.prepare(
      'UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
    );
  }

  create(token: ApiToken, actor: string): ApiToken {
    return this.db
      .transaction(() => {
        if (this.findActiveByName.get(token.name)) {
          throw new ConflictError(
            `a token named "${token.name}" exists: revoke it first or pick another name`,
          );
        }
        this.insert.run({
          id: token.id,
          name: token.name,
          role: token.role,
          hash: token.hash,
          created_at: token.createdAt,
          created_by: token.createdBy,
          last_used_at: token.lastUsedAt,
          revoked_at: token.revokedAt,
        });
        this.audit.append({
          at: token.createdAt,
          actor,
          action: 'token.create',
          targetType: 'api_token',
          targetId: token.name,
          details: { id: token.id, role: token.role },
        });
        return token;
      })
      .immediate();
  }

  findHash(hash: string): ApiToken | undefined {
    const row = this.findByHash.get(hash);
    return row ? toApiToken(row) : undefined;
  }

  list(): ApiToken[] {
    return this.all.all().map(toApiToken);
  }

  revokeByName(name: string, now: number, actor: string): ApiToken {
    return this.db
      .transaction(() => {
        const row = this.revoke.get(now, name);
        if (!row) throw new NotFoundError(`no active token named "${name}"`);
        this.audit.append({
          at: now,
          actor,
          action: 'token.revoke',
          targetType: 'api_token',
          targetId: name,
          details: { id: row.id, role: row.role },
        });
        return toApiToken(row);
      })
      .immediate();
  }

  touchAt(id: string, now: number): void {
    this.touch.run(now, id, now);
  }
}
