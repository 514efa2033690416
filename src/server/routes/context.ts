import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Clock } from '../../core/clock.ts';
import type { Deadletter } from '../../engine/deadletter.ts';
import type { Authenticator } from '../auth.ts';
import type { ServerMetrics } from '../metrics.ts';

/** The Fastify instance routes are declared on: zod schemas for params, query, body and responses. */
export type ApiApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** What route handlers work with. */
export interface RouteContext {
  dl: Deadletter;
  clock: Clock;
  metrics: ServerMetrics;
  auth: Authenticator;
}

/** A routes file: declares the routes of one resource. */
export type RouteModule = (app: ApiApp, ctx: RouteContext) => void;
