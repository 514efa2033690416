import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ValidationError } from './errors.ts';

/**
 * Roles of the HTTP API's bearer tokens, weakest first; each role may do what the roles
 * before it may.
 * - `viewer`: read everything (queues, dead letters, groups, stats, audit, metrics).
 * - `operator`: also triage: replay, discard, edit a dead letter, change a group's status, send.
 * - `admin`: also configure: create and update queues, retention, tokens, rules.
 */
export const API_ROLES = ['viewer', 'operator', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export function isApiRole(value: string): value is ApiRole {
  return (API_ROLES as readonly string[]).includes(value);
}

/** Whether `role` may do what `required` allows (viewer < operator < admin). */
export function roleAllows(role: ApiRole, required: ApiRole): boolean {
  return API_ROLES.indexOf(role) >= API_ROLES.indexOf(required);
}

/**
 * A bearer token of the HTTP API, as stored: never its secret, only the secret's hash.
 * The token's `name` is the actor the audit log records for what it changes.
 */
export interface ApiToken {
  id: string;
  /** Unique among active tokens: 1-64 letters, digits, `.`, `_`, `-`, `@`. */
  name: string;
  role: ApiRole;
  /** Hex SHA-256 of the secret. */
  hash: string;
  createdAt: number;
  /** Who created it: the CLI's actor, `dlq serve` for the first admin token, or a token's name. */
  createdBy: string;
  /** Last authenticated request, to the minute; null if never used. */
  lastUsedAt: number | null;
  /** When it was revoked; null while active. A revoked token never authenticates again. */
  revokedAt: number | null;
}

/** Prefix of every secret, so that secret scanners and people can recognise one. */
export const TOKEN_SECRET_PREFIX = 'dlq_';

const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Checks a token name; throws ValidationError. */
export function validateTokenName(name: string): string {
  if (!TOKEN_NAME.test(name)) {
    throw new ValidationError(
      `invalid token name "${name}": use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit`,
    );
  }
  return name;
}

/** A new secret: `dlq_` and 32 random bytes in base64url (43 characters). Shown once, never stored. */
export function newTokenSecret(): string {
  return TOKEN_SECRET_PREFIX + randomBytes(32).toString('base64url');
}

/** The stored form of a secret: its SHA-256 in hex. A fast hash is enough for 256 random bits. */
export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether `secret` hashes to `hash`, compared in constant time. */
export function tokenSecretMatches(secret: string, hash: string): boolean {
  const given = Buffer.from(hashTokenSecret(secret), 'hex');
  const stored = Buffer.from(hash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
