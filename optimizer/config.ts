import { type OptimizerConfig, OptimizerConfigSchema } from '../api/optimizer-config.ts';
import { ConfigError, formatIssues, loadConfigFile } from '../lib/config-file.ts';
import { appUrl } from '../lib/discovery.ts';

/** Where the optimizer listens unless the file or flags say otherwise. */
export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 3001 } as const;

/** Validates a config object (as read from JSON); throws ConfigError listing every problem. */
export function resolveOptimizerConfig(raw: unknown, file = '<config>'): OptimizerConfig {
  const result = OptimizerConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues));
  return result.data;
}

/** Reads and validates an optimizer config file. */
export function loadOptimizerConfig(file: string): Promise<OptimizerConfig> {
  return loadConfigFile(file, OptimizerConfigSchema);
}

/** Listen address: CLI flags win over `server.hostname/port`, which win over the defaults. */
export function listenAddress(
  config: OptimizerConfig,
  flags: { host?: string; port?: number },
): { host: string; port: number } {
  return {
    host: flags.host ?? config.server?.hostname ?? DEFAULT_LISTEN.host,
    port: flags.port ?? config.server?.port ?? DEFAULT_LISTEN.port,
  };
}

/** The base URL relative sources are fetched from: an app id means `http://<id>.plt.local`. */
export function fallbackBase(fallback: string): URL {
  if (/^https?:\/\//.test(fallback)) return new URL(fallback.replace(/\/$/, ''));
  return appUrl(fallback);
}
