import type { GatewayConfig } from '../api/gateway-config.ts';
import { Discovery } from '../lib/discovery.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { listen, type RunningServer } from '../lib/server.ts';
import { buildAdminApp } from './admin.ts';
import { buildApp } from './app.ts';
import { GatewayMetrics } from './metrics.ts';
import { RouteTable, tableApplications } from './route-table.ts';
import { resolveUpstreams, type Upstream } from './upstreams.ts';

/** A running gateway: the proxy listener plus its admin listener. */
export interface RunningGateway extends RunningServer {
  /** Base URL of /healthz, /readyz and /metrics. */
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
}

/** Starts the gateway and its admin listener; `close()` drains in-flight requests first. */
export async function startGateway(
  config: GatewayConfig,
  options: StartGatewayOptions,
): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger('gateway', config.server?.logger?.level);
  const table = RouteTable.build(tableApplications(config));
  const upstreams = resolveUpstreams(config, new Discovery(config.discovery));
  const metrics = new GatewayMetrics({ defaultMetrics: options.defaultMetrics });
  let ready = false;
  const app = buildApp({ config, table, upstreams, metrics, logger });
  const admin = buildAdminApp({ metrics, logger, isReady: () => ready });
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
