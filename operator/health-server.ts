import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { MetricsAccess, MetricsAuthorizer } from './metrics-auth.ts';

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

/** How /metrics is protected: TLS and a bearer token the API server accepts (or neither). */
export interface MetricsSecurity {
  tls: { key: string; cert: string };
  authorizer: Pick<MetricsAuthorizer, 'check'>;
}

/**
 * /metrics in the Prometheus text format, as controller-runtime on :8080 — over HTTPS with
 * TokenReview + SubjectAccessReview when `security` is given (controller-runtime's secure
 * metrics, kubebuilder's default): 401 without a valid token, 403 without RBAC for GET /metrics.
 */
export function buildMetricsApp(registry: Registry, security?: MetricsSecurity): FastifyInstance {
  const app =
    security === undefined
      ? Fastify({ logger: false })
      : (Fastify({ logger: false, https: security.tls }) as unknown as FastifyInstance);
  if (security !== undefined) {
    app.addHook('onRequest', async (request, reply) => {
      const token = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
      let access: MetricsAccess;
      try {
        access = await security.authorizer.check(token, request.url.split('?')[0], 'get');
      } catch (error: unknown) {
        return reply
          .code(500)
          .send(
            `cannot check the token with the API server: ${error instanceof Error ? error.message : String(error)}`,
          );
      }
      if (access === 'unauthenticated')
        return reply
          .code(401)
          .header('WWW-Authenticate', 'Bearer realm="next-image-operator metrics"')
          .send('send a ServiceAccount token: Authorization: Bearer <token>');
      if (access === 'forbidden')
        return reply
          .code(403)
          .send(
            'this user may not get /metrics: bind it to the next-image-operator-metrics-reader ClusterRole',
          );
    });
  }
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return app;
}
