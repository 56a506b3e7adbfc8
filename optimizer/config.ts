import { z } from 'zod';
import { type OptimizerConfig, OptimizerConfigSchema } from '../api/optimizer-config.ts';
import { ConfigError, formatIssues, parseConfigText, readConfigText } from '../lib/config-file.ts';
import { appUrl } from '../lib/discovery.ts';
import { applySecretEnv, type SecretEnv } from './secret-env.ts';

// The only place in optimizer/ that reads process.env: secrets the operator passes as
// environment variables (api/secret-ref.ts SECRET_ENV) are merged into the file's config here.

/** Where the optimizer listens unless the file or flags say otherwise. */
export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 3001 } as const;

/**
 * Validates a config object (as read from JSON) with the secrets of `env` merged in; throws
 * ConfigError listing every problem. `env` defaults to none: only `loadOptimizerConfig` (the
 * CLI) reads the process environment.
 */
export function resolveOptimizerConfig(
  raw: unknown,
  file = '<config>',
  env: SecretEnv = {},
): OptimizerConfig {
  const merged = applySecretEnv(raw, env);
  if (merged.problems.length > 0) throw new ConfigError(file, merged.problems);
  const result = OptimizerConfigSchema.safeParse(merged.config);
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues));
  return result.data;
}

/** Reads and validates an optimizer config file, with secrets from the environment merged in. */
export async function loadOptimizerConfig(
  file: string,
  env: SecretEnv = process.env,
): Promise<OptimizerConfig> {
  const raw = parseConfigText(file, await readConfigText(file), z.unknown());
  return resolveOptimizerConfig(raw, file, env);
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
