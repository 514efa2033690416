import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Headers on every response: the API serves JSON and text only, so the Content-Security-Policy
 * allows nothing to load or frame it; responses hold triage data, so nothing is cached.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy':
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/** An `onSend` hook adding {@link SECURITY_HEADERS} and `Cache-Control: no-store` (unless a route set its own). */
export async function addSecurityHeaders(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.headers(SECURITY_HEADERS);
  if (!reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
}
