import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { type Logger, quietRequestLogging } from '../lib/logger.ts';

/** Where /metrics comes from: one registry, or the sum over cluster workers. */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

export interface AdminAppOptions {
  metrics: MetricsSource;
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
    const body = await options.metrics.metrics();
    return reply.type(options.metrics.contentType).send(body);
  });
  return app;
}
