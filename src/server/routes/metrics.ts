import type { RouteModule } from './context.ts';

/**
 * `GET /metrics` in Prometheus text format. It needs a viewer token like any read (Prometheus
 * sends one with `authorization: {credentials: ...}` in its scrape config): queue names and
 * counts are the deployment's data.
 */
export const metricsRoutes: RouteModule = (app, { dl, metrics }) => {
  app.get('/metrics', {
    config: { access: 'viewer' },
    schema: {
      tags: ['metrics'],
      summary: 'Prometheus metrics (text format): queues, DLQs, groups, counters, attempt durations',
      produces: ['text/plain'],
    },
    handler: async (_request, reply) => {
      const { contentType, text } = await metrics.render(dl);
      return reply.type(contentType).send(text);
    },
  });
};
