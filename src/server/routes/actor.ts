import type { FastifyRequest } from 'fastify';

/** Who the audit log records for a change made by `request`: its token's name. */
export function actorOf(request: FastifyRequest): string {
  // Every changing route requires a role, so the principal is set; `api` only guards a bug.
  return request.principal?.name ?? 'api';
}
