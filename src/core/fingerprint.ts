import { createHash } from 'node:crypto';
import { BoundedMemo } from './bounded-memo.ts';
import type { FailureInfo } from './failure.ts';
import { type FailureMatch, matchesFailure } from './failure-match.ts';

/**
 * A user's grouping rule: every failure that matches `match` goes to one group, whatever its
 * message and stack say.
 */
export interface FingerprintRule {
  name: string;
  match: FailureMatch | ((f: FailureInfo) => boolean);
  /** the group key used instead of the computed fingerprint, e.g. 'stripe-card-errors' */
  fingerprint: string;
}

/** The grouping key of a failure. */
export interface Fingerprint {
  /**
   * Human-readable key, `name|code|status|normalised message|frame;frame;frame` (a `|` or `\`
   * inside a part is escaped with `\`), or the `fingerprint` of the rule that matched.
   */
  fingerprint: string;
  /** First 16 hex characters of the SHA-256 of `fingerprint`: the group's stable id. */
  groupId: string;
  /** The message with its variable parts replaced by placeholders (see {@link normalizeMessage}). */
  normalizedMessage: string;
}

// ---------------------------------------------------------------------------------------------
// Message normalisation
//
// Every pattern below is linear: each starts behind a negative lookbehind that lets a match
// begin only at the start of a run of its characters, and repeated groups are either bounded
// or separated by a mandatory delimiter, so no input can make them backtrack quadratically.
//
// Placeholders (`<n>`, `<id>`, ...) are made of letters between `<` and `>`, and every pattern
// treats `<` and `>` like letters at its edges: a placeholder never becomes part of, nor the
// boundary of, a new match. That is what makes normalisation idempotent.
// ---------------------------------------------------------------------------------------------

const URL_PATTERN = /(?<![A-Za-z0-9+.<>-])[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s"'`<>]*/g;
const URL_TRAILING_PUNCTUATION = /[.,;:!?)\]}([{=]+$/;
const EMAIL_PATTERN =
  /(?<![A-Za-z0-9._%+<>-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
const UUID_PATTERN =
  /(?<![A-Za-z0-9<>])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![A-Za-z0-9<>])/g;
const ISO_TIMESTAMP_PATTERN =
  /(?<![A-Za-z0-9<>])\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?(?![A-Za-z0-9<>])/g;
/** `Tue, 11 Jun 2024 14:00:00 GMT` (HTTP dates) and `Tue Jun 11 2024 14:00:00 GMT+0000 (…)` (Date#toString). */
const TEXT_TIMESTAMP_PATTERN =
  /(?<![A-Za-z0-9<>])(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]{0,6},? (?:\d{1,2} [A-Z][a-z]{2}|[A-Z][a-z]{2} \d{1,2}) \d{4}(?: \d{2}:\d{2}:\d{2})?(?: GMT(?:[+-]\d{4})?)?(?: \([A-Za-z ]{1,60}\))?/g;
const IPV4_PATTERN = /(?<![A-Za-z0-9.<>])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![A-Za-z0-9<>]|\.\d)/g;
const IPV6_CANDIDATE_PATTERN =
  /(?<![A-Za-z0-9:.<>])[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![A-Za-z0-9:.<>])/g;
/**
 * Node's system-call errors: `connect ECONNREFUSED 10.0.0.1:5432`, `getaddrinfo EAI_AGAIN
 * api.example.com`. The address after the error code is the variable part (the host, IP or port
 * differs per deployment and per attempt); the call and the code say what failed.
 */
const SYSCALL_ADDRESS_PATTERN =
  /(?<![A-Za-z0-9<>])([a-z][A-Za-z]{1,29}) (E[A-Z0-9_]{1,29}) ([A-Za-z0-9._%[\]:-]{0,299}[A-Za-z0-9\]])(?![A-Za-z0-9._%[\]:<>-])/g;
/** Stripe-like ids with a type prefix: `cus_NffrFeUfNV2Hib` keeps `cus_`. */
const PREFIXED_ID_PATTERN = /(?<![A-Za-z0-9_<>])([a-z]{1,12}_)([A-Za-z0-9]{8,})(?![A-Za-z0-9_<>])/g;
/**
 * `0x1F`, hex ids of 7+ characters holding a digit (`8f14e45f`), and letters-only hex ids (see
 * {@link isLettersOnlyHexId}): `<n>`, like numbers.
 */
const HEX_PATTERN = /(?<![A-Za-z0-9<>])(?:0x[0-9a-fA-F]+|[0-9a-fA-F]{7,})(?![A-Za-z0-9<>])/g;
/** Random tokens (nanoid, ULID, session ids): 16+ characters mixing letters and digits. */
const RANDOM_ID_PATTERN = /(?<![A-Za-z0-9_<>-])[A-Za-z0-9][A-Za-z0-9_-]{14,}[A-Za-z0-9](?![A-Za-z0-9_<>-])/g;
const NUMBER_PATTERN = /(?<![A-Za-z0-9<>])-?\d+(?:[.,]\d+)*/g;

const LOWER_HEX_LETTERS = /^[a-f]+$/;
const UPPER_HEX_LETTERS = /^[A-F]+$/;

/**
 * A hex id that happens to hold no digit (`fabdcfcd`, `deadbeefcafe`, `FEEDFACE`): 8 or more
 * of the letters a-f in one case, at least 4 different ones. English has no common word that
 * long made of a-f only (`defaced` and `effaced` have 7 letters), and the distinct-letter
 * floor keeps runs such as `aaaaaaaa` or `abababab` (padding, test data) as they are. Mixed
 * case (`BadCafe`, `FaceBeef`) reads as a name, not an id, and is kept.
 */
export function isLettersOnlyHexId(token: string): boolean {
  return (
    token.length >= 8 &&
    (LOWER_HEX_LETTERS.test(token) || UPPER_HEX_LETTERS.test(token)) &&
    new Set(token.toLowerCase()).size >= 4
  );
}

const HAS_DIGIT = /\d/;
const ALL_DIGITS = /^\d+$/;
const HAS_LETTER = /[A-Za-z]/;
/** `ERR_HTTP2_STREAM_ERROR`: a code, not an id. */
const CONSTANT_CASE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;

/** Replaces the variable tokens of text outside quotes. */
function normalizeTokens(text: string): string {
  return (
    text
      .replace(SYSCALL_ADDRESS_PATTERN, (whole, call: string, code: string, address: string) =>
        /[.:]/.test(address) || address === 'localhost' ? `${call} ${code} <addr>` : whole,
      )
      .replace(URL_PATTERN, (url) => {
        const trailing = URL_TRAILING_PUNCTUATION.exec(url)?.[0] ?? '';
        return `<url>${trailing}`;
      })
      .replace(EMAIL_PATTERN, '<email>')
      .replace(UUID_PATTERN, '<uuid>')
      .replace(ISO_TIMESTAMP_PATTERN, '<ts>')
      .replace(TEXT_TIMESTAMP_PATTERN, '<ts>')
      .replace(IPV4_PATTERN, '<ip>')
      .replace(IPV6_CANDIDATE_PATTERN, (candidate) =>
        candidate.includes('::') || candidate.split(':').length === 8 ? '<ip>' : candidate,
      )
      .replace(PREFIXED_ID_PATTERN, (whole, prefix: string, id: string) =>
        HAS_DIGIT.test(id) ? `${prefix}<id>` : whole,
      )
      // All-digit runs are left to NUMBER_PATTERN, which also takes their sign (`-1000000`).
      .replace(HEX_PATTERN, (hex) =>
        hex.startsWith('0x') || (HAS_DIGIT.test(hex) && !ALL_DIGITS.test(hex)) || isLettersOnlyHexId(hex)
          ? '<n>'
          : hex,
      )
      .replace(RANDOM_ID_PATTERN, (token) =>
        HAS_DIGIT.test(token) && HAS_LETTER.test(token) && !CONSTANT_CASE.test(token) ? '<id>' : token,
      )
      .replace(NUMBER_PATTERN, '<n>')
  );
}

// --- Quoted values ---------------------------------------------------------------------------

const QUOTES = new Set(['"', "'", '`']);
// No token replaced above starts with a CLOSES_BEFORE character or ends with an OPENS_AFTER
// one, and placeholders start with `<` and end with `>`: replacing tokens never changes where
// a quote may open or close, so the split into quoted values is the same on a second pass.

/** A quote opens only after one of these (or at the start): `don't` has no opening quote. */
const OPENS_AFTER = /[\s([{=:,]/;
/** A quote closes only before one of these (or at the end). */
const CLOSES_BEFORE = /[\s)\]}:,;.!?]/;

/**
 * Words that announce an identifier (a schema, code or configuration name, the same for every
 * message of one bug) rather than a value: `constraint "users_email_key"`, `column "email"`,
 * `(reading 'email')`, `for key 'PRIMARY'`, and in JSON validation issues `"path": [...]`,
 * `"code": "invalid_type"`, `"expected": "string"`.
 */
const IDENTIFIER_BEFORE = new Set([
  'argument',
  'attribute',
  'code',
  'collection',
  'column',
  'columns',
  'constraint',
  'database',
  'enum',
  'event',
  'exchange',
  'expected',
  'extension',
  'field',
  'fields',
  'function',
  'index',
  'key',
  'keyword',
  'method',
  'model',
  'module',
  'option',
  'package',
  'parameter',
  'path',
  'properties',
  'property',
  'queue',
  'reading',
  'relation',
  'role',
  'schema',
  'sequence',
  'setting',
  'table',
  'topic',
  'trigger',
  'type',
  'variable',
  'view',
]);
/** Words that announce an identifier when they follow it: `the "users" table`, `"x" option`. */
const IDENTIFIER_AFTER = new Set([
  'column',
  'constraint',
  'field',
  'function',
  'index',
  'key',
  'module',
  'option',
  'package',
  'parameter',
  'property',
  'queue',
  'relation',
  'schema',
  'setting',
  'table',
  'topic',
]);

const IDENTIFIER = /^[A-Za-z_$][\w$-]{0,63}(?:\.[A-Za-z_$][\w$-]{0,63}){0,3}$/;
/** Backticks quote code: `prisma.user.create()`, `email`. */
const CODE = /^[A-Za-z_$][\w$]{0,63}(?:\.[A-Za-z_$][\w$]{0,63}){0,5}(?:\(\))?$/;
const PLACEHOLDER = /^<[a-z]+>$/;
const WORD_BEFORE = /([A-Za-z_]+)[\s:=([{,]*$/;
const WORD_AFTER = /^\s*([A-Za-z_]+)/;
/** Between two items of a list of identifiers: commas, spaces, `and`/`or`, array indexes. */
const LIST_GAP = /^(?:[\s,]|<n>|and\b|or\b)*$/;
const KEY_GAP = /^\s*:/;

type Segment = { quoted: false; text: string } | { quoted: true; quote: string; content: string };

/** For each index, the first position at or after it of `quote` that can close a value, or -1. */
function closingQuotes(text: string, quote: string): Int32Array {
  const next = new Int32Array(text.length + 1).fill(-1);
  for (let i = text.length - 1; i >= 0; i -= 1) {
    const closes = text[i] === quote && (i + 1 === text.length || CLOSES_BEFORE.test(text[i + 1] as string));
    next[i] = closes ? i : (next[i + 1] as number);
  }
  return next;
}

/**
 * Splits text into free text and quoted values. A quote opens after a space or an opening
 * punctuation mark, and the value runs to the first same quote that can close it (one followed
 * by a space, a closing punctuation mark or the end): `don't` holds no quote, `"a "b" c"` is one
 * value. Choosing the closing quote this way, rather than the next same quote, is what keeps the
 * split the same once values are replaced by placeholders. Closing positions are precomputed,
 * so the scan is linear.
 */
function splitQuoted(text: string): Segment[] {
  const closers = new Map<string, Int32Array>();
  const segments: Segment[] = [];
  let textStart = 0;
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (QUOTES.has(char) && (i === 0 || OPENS_AFTER.test(text[i - 1] as string))) {
      let next = closers.get(char);
      if (next === undefined) {
        next = closingQuotes(text, char);
        closers.set(char, next);
      }
      const close = next[i + 1] as number;
      if (close !== -1) {
        segments.push({ quoted: false, text: text.slice(textStart, i) });
        segments.push({ quoted: true, quote: char, content: text.slice(i + 1, close) });
        i = close + 1;
        textStart = i;
        continue;
      }
    }
    i += 1;
  }
  segments.push({ quoted: false, text: text.slice(textStart) });
  return segments;
}

/**
 * Decides whether a quoted value is an identifier to keep. `before` and `after` are the
 * (normalised) free text around it; `previous` is the quoted value just before `before`, and
 * whether it was kept as an identifier.
 */
function keepQuoted(
  quote: string,
  content: string,
  before: string,
  after: string,
  previous: { content: string; identifier: boolean } | undefined,
): boolean {
  if (content === '' || PLACEHOLDER.test(content)) return true;
  // A lone punctuation character is syntax, not data: `Unexpected token '<'`.
  if (content.length === 1 && !/[A-Za-z0-9]/.test(content)) return true;
  if (quote === '`' && CODE.test(content)) return true;
  if (!IDENTIFIER.test(content)) return false;
  // A JSON key or a label: `"code": ...`.
  if (KEY_GAP.test(after)) return true;
  const afterWord = WORD_AFTER.exec(after)?.[1]?.toLowerCase();
  if (afterWord !== undefined && IDENTIFIER_AFTER.has(afterWord)) return true;
  // A list that continues a kept identifier is a list of identifiers: `("a", "b")`.
  if (previous?.identifier && LIST_GAP.test(before)) return true;
  const beforeWord = WORD_BEFORE.exec(before.slice(-64))?.[1];
  if (beforeWord !== undefined) return IDENTIFIER_BEFORE.has(beforeWord.toLowerCase());
  // No word in between (`"path": [ "customer"`): the previous quoted value is the announcing word.
  if (!previous?.identifier) return false;
  const previousWord = WORD_BEFORE.exec(previous.content.slice(-64))?.[1];
  return previousWord !== undefined && IDENTIFIER_BEFORE.has(previousWord.toLowerCase());
}

/** A free quoted value that is one token (`'bob@example.com'`) gets that token's placeholder. */
function quotedValuePlaceholder(content: string): string {
  const normalized = normalizeTokens(content);
  return PLACEHOLDER.test(normalized) ? normalized : '<str>';
}

/**
 * Replaces the variable parts of an error message with placeholders, so that the messages of
 * one bug become one string:
 * - whitespace runs become one space;
 * - URLs `<url>`, e-mail addresses `<email>`, UUIDs `<uuid>`, timestamps `<ts>`, IP addresses
 *   `<ip>`, the address of a system-call error (`connect ECONNREFUSED <addr>`), random ids
 *   `<id>` (a type prefix such as `cus_` is kept), numbers and hex ids `<n>` (one placeholder
 *   for both: a hex id that happens to hold only digits stays in its group);
 * - quoted values become `"<str>"` (or `'<email>'` and the like when they hold one token),
 *   except identifiers: code in backticks, JSON keys, and identifier-shaped values announced
 *   by a word such as `constraint`, `column`, `relation`, `table`, `key`, `reading`, `path`
 *   (see the lists above), with the lists that continue them (`"path": ["customer", "email"]`).
 *   For double and single quotes the context decides, not the text:
 *   `for "alice"` is a value, `column "alice"` an identifier.
 *
 * Idempotent: normalising a normalised message changes nothing. Linear in the message length.
 */
export function normalizeMessage(message: string): string {
  const collapsed = message.replace(/\s+/g, ' ').trim();
  const segments = splitQuoted(collapsed).map((segment) =>
    segment.quoted ? segment : { quoted: false as const, text: normalizeTokens(segment.text) },
  );
  let out = '';
  let previous: { content: string; identifier: boolean } | undefined;
  for (let index = 0; index < segments.length; index += 1) {
    const segment = segments[index] as Segment;
    if (!segment.quoted) {
      out += segment.text;
      continue;
    }
    const before = segments[index - 1];
    const after = segments[index + 1];
    const kept = keepQuoted(
      segment.quote,
      segment.content,
      before && !before.quoted ? before.text : '',
      after && !after.quoted ? after.text : '',
      previous,
    );
    const content = kept ? segment.content : quotedValuePlaceholder(segment.content);
    out += `${segment.quote}${content}${segment.quote}`;
    previous = { content, identifier: kept && (IDENTIFIER.test(content) || CODE.test(content)) };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Stack frames
// ---------------------------------------------------------------------------------------------

type FrameKind = 'app' | 'library' | 'native' | 'internal';

interface Frame {
  fn: string;
  file: string;
  kind: FrameKind;
}

const LINE_AND_COLUMN = /:\d+(?::\d+)?$/;
const NATIVE_LOCATION = /^(?:<anonymous>|native|unknown location|index \d+)$/;
const PATH_TOKEN = /(?<![A-Za-z0-9<>])[0-9a-fA-F]+(?![A-Za-z0-9<>])/g;

function frameKind(location: string): FrameKind | undefined {
  if (location.startsWith('node:internal') || location.startsWith('internal/')) return 'internal';
  if (NATIVE_LOCATION.test(location) || location.startsWith('eval at ')) return 'native';
  if (location.startsWith('node:') || location.includes('node_modules/')) return 'library';
  if (location.includes('/') || LINE_AND_COLUMN.test(location)) return 'app';
  return undefined;
}

/** File of a frame without line, column, query, scheme, install prefix or build hashes. */
function frameFile(location: string, kind: FrameKind): string {
  if (kind === 'native') return location.startsWith('eval at ') ? '<eval>' : location;
  let file = location.replace(LINE_AND_COLUMN, '').replace(/^file:\/\//, '');
  const query = file.search(/[?#]/);
  if (query !== -1) file = file.slice(0, query);
  // pnpm and nested installs put a package under different prefixes: keep from its node_modules.
  const modules = file.lastIndexOf('node_modules/');
  if (modules !== -1) file = file.slice(modules);
  // Release directories (`/releases/20240611/`) and content hashes (`main.3f2a9c1b.js`).
  return file.replace(PATH_TOKEN, (token) =>
    /^\d+$/.test(token) || (token.length >= 7 && HAS_DIGIT.test(token)) ? '<n>' : token,
  );
}

/** Parses one line of a V8 stack (`    at fn (file:line:col)`); undefined if it is not a frame. */
function parseFrame(line: string): Frame | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('at ')) return undefined;
  let body = trimmed.slice(3);
  if (body.startsWith('async ')) body = body.slice(6);
  let fn = '<anonymous>';
  let location = body;
  if (body.endsWith(')')) {
    const open = body.indexOf(' (');
    if (open !== -1) {
      fn = body.slice(0, open);
      location = body.slice(open + 2, -1);
    }
  }
  const kind = frameKind(location);
  if (kind === undefined) return undefined;
  return { fn, file: frameFile(location, kind), kind };
}

/**
 * The top frames of a stack that identify where a failure happened, as `"fn (file)"` without
 * line and column numbers (they move with every edit). Frames of Node's internals
 * (`node:internal/...`) are skipped: they vary between Node versions and async paths. When the
 * stack holds application frames (not in `node_modules`, not Node's, not native) only those are
 * used, the way a reader looks for "our" code; otherwise library frames. A function that occurs
 * again (recursion) is counted once. At most `limit` frames (default 3).
 */
export function stackFrames(stack: string | undefined, limit = 3): readonly string[] {
  if (!stack || limit <= 0) return [];
  // The frames are the same for every death of a bug, whatever its message says: the part of
  // the stack from its first frame on (the header before it holds the message, and may span
  // lines, even ones that look like frames) is what is parsed, and keys the memo.
  const at = stack.indexOf(FRAME_START);
  if (at < 0) return parseFrames(stack, limit);
  const frames = stack.slice(at);
  return framesByStack.get(`${limit}${frames}`, () => Object.freeze(parseFrames(frames, limit)));
}

/** Where V8 starts a stack's frames: each on a line of its own, after four spaces and "at". */
const FRAME_START = '\n    at ';

/** Frames of stacks seen lately (keyed by limit and the stack from its first frame). */
const framesByStack = new BoundedMemo<readonly string[]>(1_000);

function parseFrames(stack: string, limit: number): string[] {
  const frames: Frame[] = [];
  for (const line of stack.split('\n')) {
    const frame = parseFrame(line);
    if (frame && frame.kind !== 'internal') frames.push(frame);
  }
  const app = frames.filter((frame) => frame.kind === 'app');
  const chosen = app.length > 0 ? app : frames;
  const out: string[] = [];
  for (const frame of chosen) {
    const text = `${frame.fn} (${frame.file})`;
    if (!out.includes(text)) out.push(text);
    if (out.length >= limit) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validation issue lists (Zod)
// ---------------------------------------------------------------------------------------------

/** Longest message parsed as an issue list, and most issues summarised. */
const MAX_ISSUES_MESSAGE = 100_000;
const MAX_ISSUES = 10;

interface Issue {
  path: (string | number)[];
  message: string;
  code?: string;
  expected?: string;
}

function parseIssues(message: string): Issue[] | undefined {
  const text = message.trim();
  if (!text.startsWith('[') || !text.endsWith(']') || text.length > MAX_ISSUES_MESSAGE) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return undefined;
  const issues: Issue[] = [];
  for (const item of parsed) {
    if (item === null || typeof item !== 'object') return undefined;
    const { path, message: text, code, expected } = item as Record<string, unknown>;
    if (!Array.isArray(path) || typeof text !== 'string') return undefined;
    if (!path.every((part) => typeof part === 'string' || typeof part === 'number')) return undefined;
    issues.push({
      path: path as (string | number)[],
      message: text,
      ...(typeof code === 'string' && { code }),
      ...(typeof expected === 'string' && { expected }),
    });
  }
  return issues;
}

/** `customer.email`, `items.<n>.price` (indexes vary per message), `(root)` for an empty path. */
function issuePath(path: (string | number)[]): string {
  if (path.length === 0) return '(root)';
  return path.map((part) => (typeof part === 'number' || ALL_DIGITS.test(part) ? '<n>' : part)).join('.');
}

function uniqueJoined(parts: string[]): string {
  const unique = [...new Set(parts)];
  const shown = unique.slice(0, MAX_ISSUES).join('; ');
  return unique.length > MAX_ISSUES ? `${shown}; …${unique.length - MAX_ISSUES} more` : shown;
}

/**
 * A message that is a JSON list of validation issues (Zod's) as one line of its issues as they
 * are, `path: message; path: message` (`items.3.qty: Number must be greater than 0`), for
 * showing one failure; undefined when the message is not such a list. {@link summarizeIssues}
 * is the normalised form, for a group of failures.
 */
export function issuesLine(message: string): string | undefined {
  const issues = parseIssues(message);
  if (!issues) return undefined;
  return uniqueJoined(
    issues.map((i) => `${i.path.length === 0 ? '(root)' : i.path.join('.')}: ${i.message}`),
  );
}

/**
 * A schema-validation error whose message is its JSON list of issues (Zod's `ZodError`: an
 * array of `{ code, path, message, ... }`) summarised for people and for grouping:
 * - `title`: `path: message; path: message` (`customer.email: Required`), each message
 *   normalised, array indexes as `<n>`, repeated issues once, at most 10;
 * - `key`: `path: code` instead (`customer.email: invalid_type (expected string)`), since the
 *   issue's message changes with the value received (`Required` for undefined, `Expected string,
 *   received null` for null) while the bug is the same.
 * Undefined when the message is not such a list.
 */
export function summarizeIssues(message: string): { title: string; key: string } | undefined {
  const issues = parseIssues(message);
  if (!issues) return undefined;
  const title = uniqueJoined(issues.map((i) => `${issuePath(i.path)}: ${normalizeMessage(i.message)}`));
  const key = uniqueJoined(
    issues.map((i) => {
      const kind = i.code ?? normalizeMessage(i.message);
      return `${issuePath(i.path)}: ${kind}${i.expected === undefined ? '' : ` (expected ${i.expected})`}`;
    }),
  );
  return { title, key };
}

// ---------------------------------------------------------------------------------------------
// Fingerprint
// ---------------------------------------------------------------------------------------------

/**
 * Longest normalised message kept in a fingerprint: past it, long messages (payload dumps,
 * many validation issues) would make the stored key huge for little grouping value.
 */
const MAX_FINGERPRINT_MESSAGE = 1_000;

function escapePart(part: string): string {
  return part.replace(/[\\|]/g, '\\$&');
}

/** Fingerprints seen lately and their group ids: a sha256 per death only for a new one. */
const groupIds = new BoundedMemo<string>(1_000);

function groupIdOf(fingerprint: string): string {
  return groupIds.get(fingerprint, () =>
    createHash('sha256').update(fingerprint, 'utf8').digest('hex').slice(0, 16),
  );
}

/**
 * rules first (first match wins; groupId derived from the rule's fingerprint), else computed
 * from the error's name, `code`, HTTP `status`, normalised message and top
 * {@link stackFrames}. groupId = first 16 hex chars of sha256(fingerprint). A message that is
 * a list of validation issues (Zod) is summarised instead ({@link summarizeIssues}): its
 * `path: message` summary is the group's title, its `path: code` summary the fingerprint's
 * message part.
 */
export function fingerprintFailure(failure: FailureInfo, rules?: readonly FingerprintRule[]): Fingerprint {
  const issues = summarizeIssues(failure.message);
  const normalizedMessage = issues ? issues.title : normalizeMessage(failure.message);
  const messageKey = issues ? issues.key : normalizedMessage;
  for (const rule of rules ?? []) {
    if (matchesFailure(rule.match, failure)) {
      return { fingerprint: rule.fingerprint, groupId: groupIdOf(rule.fingerprint), normalizedMessage };
    }
  }
  const fingerprint = [
    failure.name,
    failure.code ?? '',
    failure.status === undefined ? '' : String(failure.status),
    messageKey.slice(0, MAX_FINGERPRINT_MESSAGE),
    stackFrames(failure.stack).join(';'),
  ]
    .map(escapePart)
    .join('|');
  return { fingerprint, groupId: groupIdOf(fingerprint), normalizedMessage };
}
