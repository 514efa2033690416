/**
 * What Deadletter keeps of a thrown value: enough to classify it, fingerprint it and show it.
 * `code` is `err.code` (or `err.cause.code` for wrappers such as fetch's `TypeError: fetch
 * failed`); `status` is an HTTP status found on the error (`status`, `statusCode`,
 * `response.status`, `$metadata.httpStatusCode`).
 */
export interface FailureInfo {
  name: string;
  message: string;
  stack?: string | undefined;
  code?: string | undefined;
  status?: number | undefined;
}

const MAX_MESSAGE = 8_192;
const MAX_STACK = 16_384;

function pick(obj: unknown, key: string): unknown {
  return obj !== null && typeof obj === 'object' ? (obj as Record<string, unknown>)[key] : undefined;
}

function asCode(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0 && value.length <= 100) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function asStatus(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599 ? n : undefined;
}

/** Turns any thrown value (an Error, a string, an object, `undefined`) into a {@link FailureInfo}. */
export function describeFailure(thrown: unknown): FailureInfo {
  if (thrown instanceof Error || (thrown !== null && typeof thrown === 'object' && 'message' in thrown)) {
    const err = thrown as Error & Record<string, unknown>;
    const cause = err.cause;
    const name = typeof err.name === 'string' && err.name ? err.name : (err.constructor?.name ?? 'Error');
    const message = typeof err.message === 'string' ? err.message : String(err.message);
    const code = asCode(err.code) ?? asCode(pick(cause, 'code'));
    const status =
      asStatus(err.status) ??
      asStatus(err.statusCode) ??
      asStatus(pick(err.response, 'status')) ??
      asStatus(pick(err.$metadata, 'httpStatusCode')) ??
      asStatus(pick(cause, 'status'));
    const stack = typeof err.stack === 'string' ? err.stack.slice(0, MAX_STACK) : undefined;
    return { name, message: message.slice(0, MAX_MESSAGE), stack, code, status };
  }
  if (typeof thrown === 'string') return { name: 'Error', message: thrown.slice(0, MAX_MESSAGE) };
  let text: string;
  try {
    text = JSON.stringify(thrown) ?? String(thrown);
  } catch {
    text = String(thrown);
  }
  return { name: 'NonError', message: `non-error thrown: ${text}`.slice(0, MAX_MESSAGE) };
}
