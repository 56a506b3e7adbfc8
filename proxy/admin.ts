import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { type Logger, quietRequestLogging } from '../lib/logger.ts';
import type { GatewayMetrics } from './metrics.ts';

export interface AdminAppOptions {
  metrics: GatewayMetrics;
  /** True while the gateway listens and is not shutting down. */
  isReady: () => boolean;
  logger: Logger;
}

/**
 * The admin listener: /healthz, /readyz and /metrics on a port of their own, so no path of
 * the proxied applications is shadowed. Never listens.
 */
export function buildAdminApp(options: AdminAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    ...quietRequestLogging(),
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  // Readiness is the gateway's own: upstream health is theirs to report, and tying them
  // together would take the entrypoint out of rotation whenever one application restarts.
  app.get('/readyz', async (_request, reply) => {
    if (options.isReady()) return { status: 'ready' };
    return reply.code(503).send({ status: 'not ready' });
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await options.metrics.registry.metrics();
    return reply.type(options.metrics.registry.contentType).send(body);
  });
  return app;
}
