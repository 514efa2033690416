/**
 * Deadletter's error family. Every error that Deadletter itself throws is a
 * {@link DeadletterError} with a stable `code`; the CLI maps codes to exit statuses and the
 * HTTP layer maps them to statuses, each in one place.
 *
 * The worker-facing errors ({@link PermanentError}, {@link MalformedError},
 * {@link TransientError}) are thrown by *user handlers* to say what should happen to a message.
 */

/** Stable error codes. */
export type DeadletterErrorCode =
  | 'not_found'
  | 'conflict'
  | 'validation'
  | 'schema_version'
  | 'not_a_store'
  | 'store'
  | 'lease_lost';

/** Base class of every error Deadletter throws. `code` is stable and safe to branch on. */
export class DeadletterError extends Error {
  readonly code: DeadletterErrorCode;
  constructor(code: DeadletterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The thing asked for does not exist (unknown queue, dead letter or group). */
export class NotFoundError extends DeadletterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('not_found', message, options);
  }
}

/** The change conflicts with the current state (a queue that already exists, a lost lease). */
export class ConflictError extends DeadletterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('conflict', message, options);
  }
}

/** Bad input: an invalid body, duration, setting or filter. Nothing was changed. */
export class ValidationError extends DeadletterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('validation', message, options);
  }
}

/**
 * The store's schema is not the one this version of Deadletter expects: older (run
 * `dlq migrate`) or newer (upgrade Deadletter).
 */
export class SchemaVersionError extends DeadletterError {
  readonly found: number;
  readonly expected: number;
  constructor(message: string, found: number, expected: number) {
    super('schema_version', message);
    this.found = found;
    this.expected = expected;
  }
}

/** The store location holds something that is not a Deadletter database. */
export class NotAStoreError extends DeadletterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('not_a_store', message, options);
  }
}

/**
 * Thrown by a handler: this message will never succeed as it is (a bug, a rejected card).
 * It goes to the dead-letter queue at once, without further retries, with tier `permanent`.
 */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/**
 * Thrown by a handler: the message itself is malformed (unparseable, fails its schema).
 * It goes to the dead-letter queue at once with tier `malformed`; fix the producer.
 */
export class MalformedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MalformedError';
  }
}

/**
 * Thrown by a handler: a passing failure (a dependency is down). The message is retried
 * with backoff until the queue's `maxReceives`, then dead-lettered with tier `transient`.
 */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}
