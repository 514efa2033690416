import { ValidationError } from './errors.ts';
import { compileFailureMatch, type SerialisedFailureMatch } from './failure-match.ts';
import type { FingerprintRule } from './fingerprint.ts';

/**
 * A fingerprint rule kept in the store (data, not code): failures of `queue` (null: every
 * queue) that match `match` get `fingerprint`, hence one group whose id derives from it. The
 * engine tries the rules given in code first (`rules`/`queues` options), then these, oldest
 * first; the first match wins.
 */
export interface GroupRule {
  id: string;
  /** Unique among stored rules; the CLI and the API accept it in place of the id. */
  name: string;
  queue: string | null;
  /** A serialised {@link FailureMatch} (regexes as `{ regex, flags }`). */
  match: SerialisedFailureMatch;
  fingerprint: string;
  createdAt: number;
  createdBy: string;
}

/** What `dlq group rule add` and `POST /api/group-rules` take. */
export interface GroupRuleInput {
  name: string;
  queue?: string | null;
  match: unknown;
  fingerprint: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

/**
 * Checks a rule's input and returns its parts, with the match validated (a regex that does
 * not compile is a {@link ValidationError}).
 */
export function validateGroupRuleInput(input: GroupRuleInput): {
  name: string;
  queue: string | null;
  match: SerialisedFailureMatch;
  fingerprint: string;
} {
  if (typeof input.name !== 'string' || !NAME.test(input.name)) {
    throw new ValidationError(
      `invalid rule name "${String(input.name)}": use 1-100 letters, digits, '.', '_', ':' or '-'`,
    );
  }
  const fingerprint = typeof input.fingerprint === 'string' ? input.fingerprint.trim() : '';
  if (fingerprint.length === 0 || fingerprint.length > 500) {
    throw new ValidationError('invalid fingerprint: use 1-500 characters');
  }
  const queue = input.queue ?? null;
  if (queue !== null && (typeof queue !== 'string' || queue.length === 0)) {
    throw new ValidationError('invalid queue: give a queue name or none for every queue');
  }
  // Compiling checks both the shape and that every regex compiles.
  compileFailureMatch(input.match);
  return { name: input.name, queue, match: input.match as SerialisedFailureMatch, fingerprint };
}

/** A stored rule as the fingerprinting code takes it (its match compiled). */
export function toFingerprintRule(rule: GroupRule): FingerprintRule {
  return { name: rule.name, match: compileFailureMatch(rule.match), fingerprint: rule.fingerprint };
}
