import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import {
  type ApiRole,
  type ApiToken,
  hashTokenSecret,
  roleAllows,
  tokenSecretMatches,
} from '../core/api-token.ts';
import type { Clock } from '../core/clock.ts';
import type { Store } from '../store/store.ts';
import { ApiError } from './errors.ts';

/** Who made a request: the token's name (the audit log's actor) and its role. */
export interface Principal {
  tokenId: string;
  name: string;
  role: ApiRole;
}

/** What a route requires: a role, or `public` (health, the OpenAPI document). */
export type RouteAccess = ApiRole | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The least role that may call the route; routes that do not say are admin-only. */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The authenticated caller; undefined on public routes. */
    principal: Principal | undefined;
  }
}

/** Options of {@link Authenticator}. */
export interface AuthOptions {
  store: Store;
  clock: Clock;
  log: FastifyBaseLogger;
  /** Failed authentications one client address may make per minute before it gets 429. Default 20. */
  failuresPerMinute?: number;
}

const WINDOW_MS = 60_000;
/** A token's last use is written at most this often (it is a write; SQLite has one writer). */
const TOUCH_EVERY_MS = 60_000;
/** Most client addresses whose failures are remembered; beyond it the oldest windows are dropped. */
const MAX_TRACKED_ADDRESSES = 10_000;
/**
 * How long a verified token is trusted without a lookup. A token revoked through this server
 * is refused at once (the route clears the cache); one revoked elsewhere (`dlq token revoke`
 * on the store, another server) within this time.
 */
export const VERIFIED_TOKEN_TTL_MS = 5_000;
/** Most verified tokens remembered at once; beyond it the oldest are dropped. */
const MAX_VERIFIED_TOKENS = 1_000;

/**
 * Bearer-token authentication and role checks. A request's `Authorization: Bearer <secret>`
 * is hashed (SHA-256) and looked up by hash; the stored hash is compared in constant time and a
 * revoked token is refused. A verified token is trusted for {@link VERIFIED_TOKEN_TTL_MS}
 * without a lookup. Roles are ordered viewer < operator < admin.
 *
 * Failed authentications (missing, malformed, unknown or revoked tokens) are counted per
 * client address in one-minute windows; past the limit the address gets 429 with
 * `Retry-After` until its window ends, before any lookup is made.
 */
export class Authenticator {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly log: FastifyBaseLogger;
  private readonly limit: number;
  private readonly failures = new Map<string, { windowStart: number; count: number }>();
  private readonly touched = new Map<string, number>();
  /** Verified secrets (the header's value, never stored) and what they authenticate, until `until`. */
  private readonly verified = new Map<string, { token: ApiToken; until: number }>();

  constructor(options: AuthOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.log = options.log;
    this.limit = options.failuresPerMinute ?? 20;
  }

  /** Checks `request` against the route's access; sets `request.principal` or throws ApiError (401, 403, 429). */
  async check(request: FastifyRequest, access: RouteAccess): Promise<void> {
    if (access === 'public') return;
    const address = request.ip;
    this.refuseIfLimited(address);
    const principal = await this.authenticate(request.headers.authorization);
    if (!principal) {
      this.recordFailure(address);
      throw new ApiError(
        401,
        'unauthorized',
        'a valid bearer token is required (Authorization: Bearer <token>)',
        {
          'WWW-Authenticate': 'Bearer realm="deadletter"',
        },
      );
    }
    request.principal = principal;
    if (!roleAllows(principal.role, access)) {
      throw new ApiError(
        403,
        'forbidden',
        `token "${principal.name}" has role ${principal.role}; this needs ${access}`,
      );
    }
  }

  /** The principal of an `Authorization` header value, or undefined if it does not authenticate. */
  async authenticate(header: string | undefined): Promise<Principal | undefined> {
    const match = /^Bearer +([A-Za-z0-9._~+/=-]{1,200})\s*$/i.exec(header ?? '');
    const secret = match?.[1];
    if (!secret) return undefined;
    const token = await this.verify(secret);
    if (!token) return undefined;
    this.touch(token);
    return { tokenId: token.id, name: token.name, role: token.role };
  }

  /** Forgets every verified token: called when a token is revoked, so that it is refused at once. */
  forgetVerified(): void {
    this.verified.clear();
  }

  /** The active token of `secret`, from the last {@link VERIFIED_TOKEN_TTL_MS} or looked up by hash. */
  private async verify(secret: string): Promise<ApiToken | undefined> {
    const now = this.clock.now();
    const known = this.verified.get(secret);
    if (known && known.until > now) return known.token;
    this.verified.delete(secret);
    const token = await this.store.tokenFindByHash({ hash: hashTokenSecret(secret) });
    if (!token || token.revokedAt !== null || !tokenSecretMatches(secret, token.hash)) return undefined;
    if (this.verified.size >= MAX_VERIFIED_TOKENS) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
    this.verified.set(secret, { token, until: now + VERIFIED_TOKEN_TTL_MS });
    return token;
  }

  private refuseIfLimited(address: string): void {
    const entry = this.failures.get(address);
    const now = this.clock.now();
    if (!entry || now - entry.windowStart >= WINDOW_MS || entry.count < this.limit) return;
    const retryAfter = Math.max(1, Math.ceil((entry.windowStart + WINDOW_MS - now) / 1000));
    throw new ApiError(429, 'too_many_requests', `too many failed authentications; retry in ${retryAfter}s`, {
      'Retry-After': String(retryAfter),
    });
  }

  private recordFailure(address: string): void {
    const now = this.clock.now();
    const entry = this.failures.get(address);
    if (entry && now - entry.windowStart < WINDOW_MS) {
      entry.count++;
      return;
    }
    this.failures.delete(address);
    if (this.failures.size >= MAX_TRACKED_ADDRESSES) {
      for (const [key, value] of this.failures) {
        if (now - value.windowStart >= WINDOW_MS || this.failures.size >= MAX_TRACKED_ADDRESSES) {
          this.failures.delete(key);
        } else break;
      }
    }
    this.failures.set(address, { windowStart: now, count: 1 });
  }

  /** Records the token's use, at most once a minute per token, without delaying the request. */
  private touch(token: ApiToken): void {
    const now = this.clock.now();
    const last = this.touched.get(token.id) ?? token.lastUsedAt ?? Number.NEGATIVE_INFINITY;
    if (now - last < TOUCH_EVERY_MS) return;
    this.touched.set(token.id, now);
    this.store
      .tokenTouch({ id: token.id, now })
      .catch((error: unknown) => this.log.warn({ err: error }, 'cannot record a token use'));
  }
}
