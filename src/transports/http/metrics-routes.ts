import type { FastifyInstance } from 'fastify';
import { ScrapeToken } from '../../metrics/scrape-token.js';
import type { Writ } from '../../writ.js';

/**
 * GET /metrics: the Prometheus text exposition of this writ's metrics (docs/metrics.md), for
 * operators (the rule of /healthz's details) and for a scraper holding the token in
 * metrics.scrapeTokenFile (read once, here: a missing, short or loose file stops the server).
 */
export function metricsRoutes(app: FastifyInstance, writ: Pick<Writ, 'config' | 'metrics'>): void {
  const file = writ.config.metrics.scrapeTokenFile;
  const token = file ? ScrapeToken.read(file) : undefined;
  app.get('/metrics', { config: { access: { kind: 'operator', ...(token ? { token } : {}) } } }, async (_request, reply) => {
    const text = await writ.metrics.scrape();
    return reply.type(writ.metrics.contentType).header('Cache-Control', 'no-store').send(text);
  });
}

/** The OpenAPI description of GET /metrics. */
export function metricsPaths(): Record<string, unknown> {
  return {
    '/metrics': {
      get: {
        summary: "Prometheus metrics (text exposition format 0.0.4) for an operator, or for a scraper with the scrape token (Authorization: Bearer <metrics.scrapeTokenFile's token>); docs/metrics.md",
        responses: { '200': { description: 'The metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
  };
}
