import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { type OptimizerConfig, OptimizerConfigSchema } from '../api/optimizer-config.ts';
import { ConfigError, formatIssues, readConfigJson } from '../lib/config-file.ts';
import { appUrl } from '../lib/discovery.ts';
import { readNextBuild } from '../lib/next-build.ts';
import { translateNextImages } from '../lib/next-images.ts';
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

/**
 * Reads and validates an optimizer config file: `next.imagesFrom` imported first, then the
 * secrets of the environment merged in.
 */
export async function loadOptimizerConfig(
  file: string,
  onWarning: (message: string) => void = () => {},
  env: SecretEnv = process.env,
): Promise<OptimizerConfig> {
  const raw = await readConfigJson(file);
  return resolveOptimizerConfig(await withImportedImages(raw, file, onWarning), file, env);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The raw config with `next.images` filled from the Next.js build `next.imagesFrom` names
 * (relative to the config file). Keys written in `next.images` win, key by key: the file is
 * where a team overrides what it imported (dev's dangerouslyAllowLocalIP, a stricter list).
 */
export async function withImportedImages(
  raw: unknown,
  file: string,
  onWarning: (message: string) => void = () => {},
): Promise<unknown> {
  if (!isRecord(raw) || !isRecord(raw.next) || typeof raw.next.imagesFrom !== 'string') return raw;
  const from = resolve(dirname(file), raw.next.imagesFrom);
  const build = await readNextBuild(from).catch((error: unknown) => {
    const problems = error instanceof ConfigError ? error.problems : [String(error)];
    throw new ConfigError(
      file,
      problems.map((p) => `$.next.imagesFrom: ${p}`),
    );
  });
  const { images: imported, warnings } = translateNextImages(build);
  const explicit = isRecord(raw.next.images) ? raw.next.images : {};
  for (const warning of [...build.warnings, ...warnings])
    onWarning(`next.imagesFrom ${from}: ${warning}`);
  for (const key of Object.keys(explicit).filter((k) => k in imported))
    onWarning(`next.images.${key} is set in ${file}: it wins over the value imported from ${from}`);
  return { ...raw, next: { ...raw.next, images: { ...imported, ...explicit } } };
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

/** Where cgroup v2 and v1 publish the container's memory limit. */
export const CGROUP_MEMORY_FILES = {
  v2: '/sys/fs/cgroup/memory.max',
  v1: '/sys/fs/cgroup/memory/memory.limit_in_bytes',
} as const;

/** How the default memory budget is derived from the limit (docs/sizing.md). */
export const MEMORY_BUDGET_DEFAULTS = {
  /** What the processes hold with no image in flight: main process + idle transform children. */
  baselineBytes: 192 * 1024 * 1024,
  /** Of the rest: headroom for allocator slack, libvips' cache and buffers no estimate sees. */
  fraction: 0.75,
  minimumBytes: 64 * 1024 * 1024,
  /** Without a limit: at most this, and at most a quarter of the host's memory. */
  unlimitedBytes: 1024 * 1024 * 1024,
} as const;

// cgroup v1 writes "no limit" as the largest page-aligned int64 (9223372036854771712).
const V1_UNLIMITED_FROM = 2 ** 60;

/**
 * The container memory limit in bytes from the contents of the cgroup files (undefined: the
 * file is missing), or undefined when there is no limit ("max" in v2, a near-2^63 number in
 * v1) or the text is not understood. v2 wins when both are present.
 */
export function memoryLimitFromCgroup(files: {
  v2?: string | undefined;
  v1?: string | undefined;
}): number | undefined {
  for (const text of [files.v2, files.v1]) {
    if (text === undefined) continue;
    const value = text.trim();
    if (value === 'max' || !/^\d+$/.test(value)) return undefined;
    const bytes = Number(value);
    return bytes > 0 && bytes < V1_UNLIMITED_FROM ? bytes : undefined;
  }
  return undefined;
}

/** The default memoryBudgetBytes for a container limit (undefined: none) on a host. */
export function defaultMemoryBudget(limitBytes: number | undefined, hostBytes: number): number {
  const d = MEMORY_BUDGET_DEFAULTS;
  if (limitBytes === undefined) return Math.min(d.unlimitedBytes, Math.floor(hostBytes / 4));
  const derived = Math.floor((limitBytes - d.baselineBytes) * d.fraction);
  return Math.max(d.minimumBytes, derived);
}

function readIfPresent(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** `optimizer.memoryBudgetBytes`, or the default derived from this container's limit. */
export function memoryBudget(config: OptimizerConfig): number {
  const configured = config.optimizer.memoryBudgetBytes;
  if (configured !== undefined) return configured;
  const limit = memoryLimitFromCgroup({
    v2: readIfPresent(CGROUP_MEMORY_FILES.v2),
    v1: readIfPresent(CGROUP_MEMORY_FILES.v1),
  });
  return defaultMemoryBudget(limit, totalmem());
}
