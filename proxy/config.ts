import {
  GATEWAY_DEFAULTS,
  type GatewayConfig,
  GatewayConfigSchema,
} from '../api/gateway-config.ts';
import { ConfigError, formatIssues, loadConfigFile } from '../lib/config-file.ts';
import { RouteConflictError } from './errors.ts';
import { checkGatewayRoutes } from './server.ts';

/**
 * Checks what the schema cannot: that no two applications claim the same route. Fastify's
 * router is the judge, so this registers the routes on an app that never listens.
 */
async function checkRoutes(config: GatewayConfig, file: string): Promise<GatewayConfig> {
  try {
    await checkGatewayRoutes(config);
  } catch (error: unknown) {
    if (error instanceof RouteConflictError)
      throw new ConfigError(file, [`$.gateway.applications: ${error.message}`]);
    throw error;
  }
  return config;
}

/**
 * Validates a gateway config object (e.g. built in code by `dev`); throws ConfigError. Route
 * conflicts surface when the gateway starts (RouteConflictError); loadGatewayConfig checks them.
 */
export function resolveGatewayConfig(raw: unknown, file = 'gateway config'): GatewayConfig {
  const result = GatewayConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues));
  return result.data;
}

/** Reads and validates a gateway config file, routes included; throws ConfigError. */
export async function loadGatewayConfig(file: string): Promise<GatewayConfig> {
  return checkRoutes(await loadConfigFile(file, GatewayConfigSchema), file);
}

/** Where to listen: flags, else `server.hostname`/`server.port`, else 127.0.0.1:3042. */
export function listenAddress(
  config: GatewayConfig,
  flags: { host?: string | undefined; port?: number | undefined },
): { host: string; port: number } {
  return {
    host: flags.host ?? config.server?.hostname ?? GATEWAY_DEFAULTS.hostname,
    port: flags.port ?? config.server?.port ?? GATEWAY_DEFAULTS.port,
  };
}
