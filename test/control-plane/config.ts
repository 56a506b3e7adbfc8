import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The versions pinned in versions.env (the only place they are pinned). */
export interface PinnedVersions {
  readonly kubernetes: string;
  readonly etcd: string;
  readonly helm: string;
}

/** Where the harness finds its build script and the binaries it builds. */
export interface ControlPlanePaths {
  readonly sourceDir: string;
  readonly buildScript: string;
  readonly cacheRoot: string;
  readonly binDir: string;
}

const here = dirname(fileURLToPath(import.meta.url));

/** Parses `KEY=value` lines; `#` comments and blank lines are ignored. */
export function parseEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

/** Reads versions.env, the same file build.sh sources. */
export function pinnedVersions(): PinnedVersions {
  const env = parseEnvFile(readFileSync(join(here, 'versions.env'), 'utf8'));
  const get = (key: string): string => {
    const value = env.get(key);
    if (value === undefined) throw new Error(`versions.env lacks ${key}`);
    return value;
  };
  return { kubernetes: get('K8S_VERSION'), etcd: get('ETCD_VERSION'), helm: get('HELM_VERSION') };
}

/**
 * Resolves the cache directory exactly as build.sh does, so a fresh clone on the same
 * machine (CI) finds binaries a previous checkout built.
 */
export function controlPlanePaths(env: NodeJS.ProcessEnv = process.env): ControlPlanePaths {
  const cacheRoot =
    env.NEXT_IMAGE_CACHE_DIR ||
    join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'next-image-operator');
  return {
    sourceDir: here,
    buildScript: join(here, 'build.sh'),
    cacheRoot,
    binDir: join(cacheRoot, 'control-plane', `v${pinnedVersions().kubernetes}`, 'bin'),
  };
}
