import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface HealthSources {
  /** Informers that have not listed yet (empty = ready). */
  unsynced: () => string[];
}

/** /healthz (the process runs) and /readyz (every informer has synced), as controller-runtime on :8081. */
export function buildHealthApp(sources: HealthSources): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => 'ok');
  app.get('/readyz', async (_req, reply) => {
    const unsynced = sources.unsynced();
    if (unsynced.length === 0) return 'ok';
    return reply.code(503).send(`informers not synced: ${unsynced.join(', ')}`);
  });
  return app;
}

/** /metrics in the Prometheus text format, as controller-runtime on :8080. */
export function buildMetricsApp(registry: Registry): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return app;
}
