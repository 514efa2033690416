import {
  type ApiRole,
  type ApiToken,
  hashTokenSecret,
  isApiRole,
  newTokenSecret,
  validateTokenName,
} from '../core/api-token.ts';
import { ValidationError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Store } from '../store/store.ts';

/** A token as it may be shown: everything but the hash. */
export type ApiTokenInfo = Omit<ApiToken, 'hash'>;

/** A newly created token and its secret: the only time the secret exists outside its holder. */
export interface CreatedApiToken {
  token: ApiTokenInfo;
  secret: string;
}

/** Drops the hash. */
export function tokenInfo(token: ApiToken): ApiTokenInfo {
  const { hash: _hash, ...info } = token;
  return info;
}

/**
 * Creates a bearer token of the HTTP API with a new random secret; only its hash is stored.
 * Audited as `token.create` by `actor`. Throws ValidationError for a bad name or role and
 * ConflictError when an active token has the name.
 */
export async function createApiToken(
  store: Store,
  params: { name: string; role: string; actor: string; now: number },
): Promise<CreatedApiToken> {
  validateTokenName(params.name);
  if (!isApiRole(params.role)) {
    throw new ValidationError(`unknown role "${params.role}": use viewer, operator or admin`);
  }
  const secret = newTokenSecret();
  const token = await store.tokenCreate({
    token: {
      id: newId(),
      name: params.name,
      role: params.role as ApiRole,
      hash: hashTokenSecret(secret),
      createdAt: params.now,
      createdBy: params.actor,
      lastUsedAt: null,
      revokedAt: null,
    },
    actor: params.actor,
  });
  return { token: tokenInfo(token), secret };
}

/** Every token, active and revoked, oldest first, without hashes. */
export async function listApiTokens(store: Store): Promise<ApiTokenInfo[]> {
  return (await store.tokenList()).map(tokenInfo);
}

/** Revokes the active token named `name` (audited); NotFoundError if there is none. */
export async function revokeApiToken(
  store: Store,
  params: { name: string; actor: string; now: number },
): Promise<ApiTokenInfo> {
  return tokenInfo(await store.tokenRevoke(params));
}

/** Whether any active admin token exists (`dlq serve` creates one when none does). */
export async function hasActiveAdminToken(store: Store): Promise<boolean> {
  return (await store.tokenList()).some((token) => token.role === 'admin' && token.revokedAt === null);
}
