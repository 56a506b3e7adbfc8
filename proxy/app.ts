import replyFrom, { type FastifyReplyFromOptions } from '@fastify/reply-from';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Agent } from 'undici';
import type { GatewayConfig } from '../api/gateway-config.ts';
import { type Logger, quietRequestLogging } from '../lib/logger.ts';
import { releaseKeepAliveOnClose } from '../lib/server.ts';
import { errorCode, retryBeforeResponse, upstreamFailure } from './errors.ts';
import { rewriteLocation, stripHopByHop, withForwarded } from './headers.ts';
import { type GatewayMetrics, NO_APPLICATION } from './metrics.ts';
import type { RouteTable } from './route-table.ts';
import { handleUpgrades } from './upgrade.ts';
import { targetUrl, type Upstream } from './upstreams.ts';

export interface GatewayAppOptions {
  config: GatewayConfig;
  table: RouteTable;
  upstreams: Map<string, Upstream>;
  metrics: GatewayMetrics;
  logger: Logger;
}

/**
 * The proxying app: every method and path goes through the route table, then to the chosen
 * application over an undici keep-alive pool, bodies streamed both ways. Never listens.
 */
export function buildApp(options: GatewayAppOptions): FastifyInstance {
  const { config, table, upstreams, metrics } = options;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    ...quietRequestLogging(),
    return503OnClosing: true,
    // The hot path needs neither: the query is forwarded as is, and a child logger per
    // request costs more than proxying a cache hit does; errors name the application instead.
    routerOptions: { querystringParser: () => ({}) },
    childLoggerFactory: (logger) => logger,
  });
  const u = config.upstream;
  // One pool per upstream origin, kept alive between requests.
  const agent = new Agent({
    connections: u.connections,
    pipelining: 1,
    keepAliveTimeout: u.keepAliveTimeout,
    connect: { timeout: u.connectTimeout },
    headersTimeout: u.timeout,
    bodyTimeout: u.bodyTimeout,
  });
  const applicationOf = new WeakMap<object, string>();
  releaseKeepAliveOnClose(app);

  // Bodies are never parsed here: whatever arrives is streamed to the upstream as it comes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  // reply-from bundles an older undici; any dispatcher with request() is accepted at runtime.
  const dispatcher = agent as unknown as FastifyReplyFromOptions['undici'];
  app.register(replyFrom, { undici: dispatcher, disableRequestLogging: true });

  const closeTunnels = handleUpgrades(app.server, {
    table,
    upstreams,
    metrics,
    logger: options.logger,
    timeout: u.timeout,
    trustForwardedHeaders: config.trustForwardedHeaders,
  });

  app.all('/*', (request, reply) => {
    const match = table.match(request.method, request.url);
    const upstream = match === undefined ? undefined : upstreams.get(match.application);
    if (match === undefined || upstream === undefined) {
      return reply.code(404).send({
        statusCode: 404,
        code: 'GATEWAY_NO_ROUTE',
        error: 'Not Found',
        message: `no application handles ${request.method} ${request.url.split('?')[0]}`,
      });
    }
    const application = match.application;
    applicationOf.set(request, application);
    const hop = {
      remoteAddress: request.raw.socket.remoteAddress,
      protocol: 'http',
      host: request.headers.host,
    };
    const started = performance.now();
    return reply.from(targetUrl(upstream, match), {
      rewriteRequestHeaders: (_request, headers) =>
        withForwarded(stripHopByHop(headers), hop, config.trustForwardedHeaders),
      rewriteHeaders: (headers) =>
        rewriteLocation(stripHopByHop(headers), upstream.basePath, match.prefix),
      onResponse: (_request, response, res) => {
        metrics.observeUpstream(application, (performance.now() - started) / 1000);
        response.send(res.stream);
      },
      onError: (response, { error }) => {
        const failure = upstreamFailure(error, application, upstream.origin);
        metrics.upstreamErrors.inc({ application, code: failure.code });
        response.log.error({ err: error, application }, failure.message);
        response.code(failure.statusCode).type('application/json; charset=utf-8').send(failure);
      },
      // A GET or HEAD whose connection failed before any response byte (a pod that just
      // stopped, a keep-alive socket closed under us) goes again on a fresh connection.
      // Nothing else is retried: an upstream 503 (the optimizer's "busy") must reach the
      // client as is, and a request body cannot be replayed once streamed.
      retryDelay: ({ err, req, res, attempt }) => {
        const delay = retryBeforeResponse(
          req.method,
          err,
          res !== undefined && res !== null,
          attempt,
        );
        if (delay !== null)
          metrics.upstreamRetries.inc({ application, code: errorCode(err) ?? 'unknown' });
        return delay;
      },
    });
  });

  app.addHook('onResponse', (request, reply, done) => {
    metrics.countRequest(applicationOf.get(request) ?? NO_APPLICATION, reply.statusCode);
    done();
  });

  app.addHook('preClose', (done) => {
    closeTunnels();
    done();
  });
  app.addHook('onClose', async () => {
    await agent.close();
  });
  return app;
}
