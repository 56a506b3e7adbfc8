import { AggregatorRegistry } from 'prom-client';
import type { GatewayConfig } from '../api/gateway-config.ts';
import { Discovery } from '../lib/discovery.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { listen, type RunningServer } from '../lib/server.ts';
import { buildAdminApp, type MetricsSource } from './admin.ts';
import { buildApp } from './app.ts';
import { GatewayMetrics } from './metrics.ts';
import { resolveUpstreams, type Upstream } from './upstreams.ts';

/** A running gateway: the proxy listener plus its admin listener. */
export interface RunningGateway extends RunningServer {
  /** Base URL of /healthz, /readyz and /metrics ("" in a cluster worker, which has none). */
  adminUrl: string;
  adminPort: number;
  /** Where each application's requests go (for logs and the dev banner). */
  upstreams: ReadonlyMap<string, Upstream>;
}

export interface StartGatewayOptions {
  host: string;
  port: number;
  /** Default: `config.admin.hostname`, else `host`. */
  adminHost?: string;
  /** Default: `config.admin.port`. */
  adminPort?: number;
  logger?: Logger;
  /** Leave out prom-client's process metrics (several gateways in one process, as in tests). */
  defaultMetrics?: boolean;
  /** As a cluster worker: no admin listener; metrics go to the primary, which sums them. */
  clusterWorker?: boolean;
}

/** Resolves a config into what serving needs; throws for an application discovery lacks. */
function prepare(config: GatewayConfig): { upstreams: Map<string, Upstream> } {
  return { upstreams: resolveUpstreams(config, new Discovery(config.discovery)) };
}

/** Starts the gateway and its admin listener; `close()` drains in-flight requests first. */
export async function startGateway(
  config: GatewayConfig,
  options: StartGatewayOptions,
): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger('gateway', config.server?.logger?.level);
  const { upstreams } = prepare(config);
  const metrics = new GatewayMetrics({ defaultMetrics: options.defaultMetrics });
  const app = buildApp({ config, upstreams, metrics, logger });
  if (options.clusterWorker === true) {
    // Constructing one installs prom-client's listener that answers the primary's requests.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([metrics.registry]);
    const gateway = await listen(app, options.host, options.port);
    return { ...gateway, adminUrl: '', adminPort: 0, upstreams };
  }
  let ready = false;
  const admin = buildAdminApp({ metrics: metrics.registry, logger, isReady: () => ready });
  const adminHost = options.adminHost ?? config.admin.hostname ?? options.host;
  const adminPort = options.adminPort ?? config.admin.port;
  const gateway = await listen(app, options.host, options.port);
  let adminServer: RunningServer;
  try {
    adminServer = await listen(admin, adminHost, adminPort);
  } catch (error: unknown) {
    await gateway.close();
    throw error;
  }
  ready = true;
  logger.info(
    { url: gateway.url, admin: adminServer.url, upstreams: Object.fromEntries(upstreams) },
    'gateway listening',
  );
  return {
    url: gateway.url,
    port: gateway.port,
    adminUrl: adminServer.url,
    adminPort: adminServer.port,
    upstreams,
    close: async () => {
      ready = false;
      await gateway.close();
      await adminServer.close();
    },
  };
}

/** The admin listener alone, for a cluster primary: readiness and metrics come from outside. */
export async function startAdmin(
  config: GatewayConfig,
  options: {
    host: string;
    port?: number;
    logger: Logger;
    metrics: MetricsSource;
    isReady: () => boolean;
  },
): Promise<RunningServer> {
  const admin = buildAdminApp({
    metrics: options.metrics,
    logger: options.logger,
    isReady: options.isReady,
  });
  return listen(admin, config.admin.hostname ?? options.host, options.port ?? config.admin.port);
}

/** Fails fast, before forking workers, on what `startGateway` would throw in each of them. */
export function checkGatewayConfig(config: GatewayConfig): ReadonlyMap<string, Upstream> {
  return prepare(config).upstreams;
}

/**
 * Registers every route on a throwaway app (nothing listens, nothing connects) so a config
 * whose applications claim the same method and path fails before anything starts.
 */
export async function checkGatewayRoutes(config: GatewayConfig): Promise<void> {
  const app = buildApp({
    config,
    ...prepare(config),
    metrics: new GatewayMetrics({ defaultMetrics: false }),
    logger: createLogger('gateway-check', 'silent'),
  });
  try {
    await app.ready();
  } finally {
    await app.close();
  }
}
