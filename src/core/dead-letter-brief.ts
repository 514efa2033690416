import type { DeadLetterSummary } from './dead-letter.ts';
import { issuesLine } from './fingerprint.ts';
import type { Tier } from './tier.ts';

/** Longest error message a brief carries, in characters; a longer one is cut to fit and ends with "…". */
export const BRIEF_MESSAGE_MAX = 200;

/**
 * A dead letter as a list shows it (the API's `GET /api/dead-letters`, the dashboard's
 * tables): who it is, where and when it died, and a bounded error line. No stack, fingerprint
 * or body: those are on the dead letter itself (`GET /api/dead-letters/:id`), or in the
 * summary (`?fields=full`).
 */
export interface DeadLetterBrief {
  id: string;
  queue: string;
  tier: Tier;
  groupId: string;
  /** The final error's name, and its message cut to {@link BRIEF_MESSAGE_MAX} characters. */
  error: { name: string; message: string };
  diedAt: number;
  attemptCount: number;
  replayCount: number;
}

/**
 * A brief as the store returns it: the {@link DeadLetterBrief} as JSON text, built by the
 * database, beside its paging key. A list page is the API's hottest read; building the JSON in
 * SQL (SQLite's `json_object`, PostgreSQL's `json_build_object`) spares one JavaScript object
 * per row and column and the serialisation after it. A store cuts every message to the brief's
 * length; the engine then rewrites the few that are lists of validation issues ({@link briefMessage}).
 */
export interface DeadLetterBriefJson {
  id: string;
  diedAt: number;
  json: string;
}

/**
 * An error message as a brief carries it: whole, or cut to {@link BRIEF_MESSAGE_MAX} characters
 * ending in "…". A message that is a JSON list of validation issues (Zod's) is given as its
 * issues on one line first (`template: Invalid option: …`): cut, its JSON would say nothing.
 */
export function briefMessage(message: string): string {
  return cutMessage(issuesLine(message) ?? message);
}

/** A message whole, or cut to {@link BRIEF_MESSAGE_MAX} characters ending in "…". */
export function cutMessage(message: string): string {
  const chars = Array.from(message); // code points, as SQL's length() and substr() count them
  return chars.length > BRIEF_MESSAGE_MAX ? `${chars.slice(0, BRIEF_MESSAGE_MAX - 1).join('')}…` : message;
}

/**
 * Whether a brief built by a store (JSON text) may hold a message that is a list of validation
 * issues: its message starts with "[". The stores build briefs in SQL, which cuts such a message
 * like any other; the engine gives these few the issues line ({@link briefMessage}).
 */
export function mayHoldIssueList(json: string): boolean {
  return ISSUE_LIST_MESSAGE.test(json);
}

/** `"message":"[` as SQLite's json_object writes it, or `"message" : "[` as PostgreSQL's does. */
const ISSUE_LIST_MESSAGE = /"message"\s*:\s*"\[/;

/** The brief of a summary: what the stores' JSON must decode to (the conformance suite checks it). */
export function toDeadLetterBrief(summary: DeadLetterSummary): DeadLetterBrief {
  return {
    id: summary.id,
    queue: summary.queue,
    tier: summary.tier,
    groupId: summary.groupId,
    error: { name: summary.error.name, message: briefMessage(summary.error.message) },
    diedAt: summary.diedAt,
    attemptCount: summary.attemptCount,
    replayCount: summary.replayCount,
  };
}
