import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DeadletterError, type DeadletterErrorCode } from '../core/errors.ts';

/**
 * The codes an API error may carry in `{error: {code, message}}`. Stable: clients branch on
 * them. The first group is the engine's (`DeadletterError.code`), the rest are the HTTP layer's.
 */
export const API_ERROR_CODES = [
  'not_found',
  'conflict',
  'validation',
  'schema_version',
  'not_a_store',
  'store',
  'lease_lost',
  'bad_request',
  'unauthorized',
  'forbidden',
  'payload_too_large',
  'unsupported_media_type',
  'method_not_allowed',
  'too_many_requests',
  'unavailable',
  'internal',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** The body of every error response. */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(API_ERROR_CODES),
      message: z.string(),
    }),
  })
  .meta({ id: 'Error', description: 'Every error: a stable code and a one-line message, never a stack.' });

export type ErrorBody = z.infer<typeof errorBodySchema>;

/** An error of the HTTP layer itself (authentication, authorisation, rate limit), with its status. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  /** Extra response headers, e.g. `Retry-After` or `WWW-Authenticate`. */
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    code: ApiErrorCode,
    message: string,
    headers: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/**
 * The one place that maps the engine's error codes to HTTP statuses. `validation` is 422: the
 * request had the right shape (that is checked first, 400) but asks for something invalid (an
 * unknown backoff, a body over the limit, a malformed cursor).
 */
const STATUS_OF: Record<DeadletterErrorCode, number> = {
  not_found: 404,
  conflict: 409,
  validation: 422,
  lease_lost: 409,
  schema_version: 503,
  not_a_store: 503,
  store: 503,
};

/** Fastify's own client-error codes that reach the error handler, and what they become. */
const FASTIFY_CLIENT_ERRORS: Record<string, [number, ApiErrorCode]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad_request'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'bad_request'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'bad_request'],
  FST_ERR_CTP_EMPTY_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_BAD_URL: [400, 'bad_request'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'bad_request'],
  FST_ERR_VALIDATION: [400, 'bad_request'],
};

/** What an error becomes on the wire: status, body and headers. Unknown errors are 500 with a generic message. */
export function toErrorResponse(error: unknown): {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  unexpected: boolean;
} {
  const reply = (
    status: number,
    code: ApiErrorCode,
    message: string,
    headers: Record<string, string> = {},
  ) => ({
    status,
    body: { error: { code, message: oneLine(message) } },
    headers,
    unexpected: status >= 500 && code === 'internal',
  });
  if (error instanceof ApiError) return reply(error.status, error.code, error.message, error.headers);
  if (error instanceof DeadletterError) {
    const status = STATUS_OF[error.code];
    // A code added to the engine without a status here is a bug: logged as one.
    if (status === undefined) return reply(500, 'internal', 'internal error: the server logged the details');
    // Store trouble is the server's, not the caller's: say so without the driver's details.
    if (status >= 500) return reply(status, 'unavailable', 'the store is unavailable; try again later');
    return reply(status, error.code, error.message);
  }
  if (hasZodFastifySchemaValidationErrors(error)) return reply(400, 'bad_request', describeValidation(error));
  const fastify = error as Partial<FastifyError> | undefined;
  const known = typeof fastify?.code === 'string' ? FASTIFY_CLIENT_ERRORS[fastify.code] : undefined;
  if (known) return reply(known[0], known[1], fastify?.message ?? 'bad request');
  // Other 4xx from fastify or its parsers (e.g. a JSON SyntaxError carries statusCode 400).
  const status = fastify?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code: ApiErrorCode =
      status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'bad_request';
    return reply(status, code, fastify?.message ?? 'bad request');
  }
  return reply(500, 'internal', 'internal error: the server logged the details');
}

/** `querystring/limit: Too big: expected number to be <=1000` — the first problem, named by where it is. */
function describeValidation(error: {
  validation: { instancePath?: string; message?: string }[];
  validationContext?: string;
}): string {
  const first = error.validation[0];
  const where = [error.validationContext, first?.instancePath?.replace(/^\//, '')].filter(Boolean).join('/');
  const message = first?.message ?? 'invalid request';
  const more = error.validation.length > 1 ? ` (and ${error.validation.length - 1} more)` : '';
  return `${where ? `${where}: ` : ''}${message}${more}`;
}

function oneLine(text: string): string {
  const line = text.split('\n', 1)[0]?.trim() ?? '';
  return (line.length > 0 ? line : 'error').slice(0, 500);
}

/** Fastify's error handler: the mapping above, a log line for the unexpected, never a stack to the client. */
export function handleError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  log: FastifyBaseLogger,
): FastifyReply {
  const response = toErrorResponse(error);
  if (response.unexpected)
    log.error({ err: error, method: request.method, url: request.url }, 'request failed');
  else if (response.status >= 500) log.warn({ err: error, url: request.url }, 'request failed (store)');
  return reply.code(response.status).headers(response.headers).send(response.body);
}

/** Response schemas of the given error statuses, for a route's `schema.response` (and its OpenAPI entry). */
export function errorResponses(...statuses: number[]): Record<number, typeof errorBodySchema> {
  return Object.fromEntries(statuses.map((status) => [status, errorBodySchema]));
}

/** The errors every authenticated route may answer with (bad input, no or bad token, rate limit). */
export const AUTH_ERRORS = [400, 401, 403, 429] as const;
