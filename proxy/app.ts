import type { IncomingHttpHeaders } from 'node:http';
import httpProxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import { Agent } from 'undici';
import type { GatewayConfig } from '../api/gateway-config.ts';
import { type Logger, quietRequestLogging } from '../lib/logger.ts';
import { releaseKeepAliveOnClose } from '../lib/server.ts';
import { errorCode, retryBeforeResponse, upstreamFailure } from './errors.ts';
import { type IncomingHop, rewriteLocation, stripHopByHop, withForwarded } from './headers.ts';
import { type GatewayMetrics, NO_APPLICATION } from './metrics.ts';
import {
  normalizePrefix,
  type ProxiedApplication,
  type ProxyRouteConfig,
  proxiedApplications,
  refuseRouteConflicts,
} from './routes.ts';
import type { Upstream } from './upstreams.ts';

export interface GatewayAppOptions {
  config: GatewayConfig;
  upstreams: Map<string, Upstream>;
  metrics: GatewayMetrics;
  logger: Logger;
}

type Dispatcher = NonNullable<FastifyHttpProxyOptions['undici']>;
/** The plugin's options with WebSocket relaying on (the types keep those keys apart). */
type ProxyOptions = FastifyHttpProxyOptions & {
  websocket: true;
  wsHooks: { onConnect(): void; onDisconnect(): void };
};

/** This hop, as x-forwarded-* describe it. */
const hopOf = (request: {
  raw: { socket: { remoteAddress?: string | undefined } };
  headers: IncomingHttpHeaders;
}): IncomingHop => ({
  remoteAddress: request.raw.socket.remoteAddress,
  protocol: 'http',
  host: request.headers.host,
});

/**
 * The proxying app: one @fastify/http-proxy per application, registered the way
 * @platformatic/gateway registers it (so fastify's router decides, exactly as there), over one
 * undici keep-alive pool per upstream origin, bodies streamed both ways, WebSocket upgrades
 * relayed by the same plugin. Never listens.
 */
export function buildApp(options: GatewayAppOptions): FastifyInstance {
  const { config, upstreams, metrics } = options;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    ...quietRequestLogging(),
    return503OnClosing: true,
    // The hot path needs neither: http-proxy reads the query from the URL itself, and a child
    // logger per request costs more than proxying a cache hit does; errors name the application.
    routerOptions: { querystringParser: () => ({}) },
    childLoggerFactory: (logger) => logger,
  });
  const u = config.upstream;
  const agent = new Agent({
    connections: u.connections,
    pipelining: 1,
    keepAliveTimeout: u.keepAliveTimeout,
    connect: { timeout: u.connectTimeout },
    headersTimeout: u.timeout,
    bodyTimeout: u.bodyTimeout,
  });
  // reply-from bundles an older undici; any dispatcher with request() is accepted at runtime.
  const dispatcher = agent as unknown as Dispatcher;
  releaseKeepAliveOnClose(app);
  refuseRouteConflicts(app);

  // Bodies are never parsed here: whatever arrives is streamed to the upstream as it comes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  for (const application of proxiedApplications(config)) {
    const upstream = upstreams.get(application.id);
    if (upstream === undefined) continue;
    app.register(httpProxy, proxyOptions(application, upstream, dispatcher, options));
  }

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    if (request.headers.upgrade !== undefined)
      metrics.upgrades.inc({ application: NO_APPLICATION, outcome: 'no_route' });
    return reply.code(404).send({
      statusCode: 404,
      code: 'GATEWAY_NO_ROUTE',
      error: 'Not Found',
      message: `no application handles ${request.method} ${path}`,
    });
  });

  app.addHook('onResponse', (request, reply, done) => {
    const application = (request.routeOptions.config as ProxyRouteConfig).application;
    metrics.countRequest(application ?? NO_APPLICATION, reply.statusCode);
    done();
  });
  app.addHook('onClose', async () => {
    await agent.close();
  });
  return app;
}

/** The @fastify/http-proxy options for one application; the hooks are made once, not per request. */
function proxyOptions(
  application: ProxiedApplication,
  upstream: Upstream,
  dispatcher: Dispatcher,
  { config, metrics }: GatewayAppOptions,
): ProxyOptions {
  const id = application.id;
  const trust = config.trustForwardedHeaders;
  const prefix = normalizePrefix(application.prefix);
  return {
    prefix: application.prefix,
    upstream: upstream.origin,
    rewritePrefix: upstream.basePath,
    routes: [...application.routes],
    httpMethods: [...application.methods],
    config: { application: id } satisfies ProxyRouteConfig,
    undici: dispatcher,
    destroyAgent: false,
    disableRequestLogging: true,
    // The root's catch-all parser already streams every body.
    proxyPayloads: false,
    // rewriteLocation below does it, with the upstream's base path.
    internalRewriteLocationHeader: false,
    websocket: true,
    // Typed without it, read by http-proxy: the upstream socket gets the client's cookie and
    // this hop's x-forwarded-*.
    wsClientOptions: {
      rewriteRequestHeaders: (headers: IncomingHttpHeaders, request: FastifyRequest) =>
        withForwarded(
          request.headers.cookie === undefined
            ? { ...headers }
            : { ...headers, cookie: request.headers.cookie },
          hopOf(request),
          trust,
        ),
    } as FastifyHttpProxyOptions['wsClientOptions'],
    wsHooks: {
      onConnect: () => {
        metrics.upgrades.inc({ application: id, outcome: '101' });
        metrics.openUpgrades.inc({ application: id });
      },
      onDisconnect: () => metrics.openUpgrades.dec({ application: id }),
    },
    replyOptions: {
      rewriteRequestHeaders: (request, headers) =>
        withForwarded(stripHopByHop(headers), hopOf(request), trust),
      rewriteHeaders: (headers) =>
        rewriteLocation(stripHopByHop(headers), upstream.basePath, prefix),
      onResponse: (_request, reply, res) => {
        metrics.observeUpstream(id, reply.elapsedTime / 1000);
        reply.send(res.stream);
      },
      onError: (reply, { error }) => {
        const failure = upstreamFailure(error, id, upstream.origin);
        metrics.upstreamErrors.inc({ application: id, code: failure.code });
        reply.log.error({ err: error, application: id }, failure.message);
        reply.code(failure.statusCode).type('application/json; charset=utf-8').send(failure);
      },
      // A GET or HEAD whose connection failed before any response byte (a pod that just
      // stopped, a keep-alive socket closed under us) goes again on a fresh connection.
      // Nothing else is retried: an upstream 503 (the optimizer's "busy") must reach the
      // client as is, and a request body cannot be replayed once streamed.
      retryDelay: ({ err, req, res, attempt }) => {
        const delay = retryBeforeResponse(
          req.method ?? 'GET',
          err,
          res !== undefined && res !== null,
          attempt,
        );
        if (delay !== null)
          metrics.upstreamRetries.inc({ application: id, code: errorCode(err) ?? 'unknown' });
        return delay;
      },
    },
  };
}
