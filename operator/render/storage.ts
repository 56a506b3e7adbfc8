import type { z } from 'zod';
import { CR_FILESYSTEM_PATH, type ImageOptimizerSpec } from '../../api/image-optimizer.ts';
import { DEFAULT_REDIS_PREFIX, type StorageConfigSchema } from '../../api/storage-config.ts';

type StorageConfig = z.input<typeof StorageConfigSchema>;
type SharedStorage = Extract<StorageConfig, { type: 'redis' | 'valkey' }>;
/**
 * Storage as written to the optimizer's config file. With `urlSecretRef` the file has no url:
 * the optimizer reads it from its environment (api/secret-ref.ts SECRET_ENV).
 */
export type PlannedStorage = StorageConfig | (Omit<SharedStorage, 'url'> & { url?: undefined });

/** How one ImageOptimizer stores images: what the optimizer config says, and whether to run Valkey. */
export interface StoragePlan {
  /** `next.imageOptimizer.storage` of the optimizer config. */
  config: PlannedStorage;
  /** True when the operator runs a Valkey for this resource. */
  managedValkey: boolean;
  /** For `status.storage` and the Storage printer column. */
  label: string;
}

/** Where a managed Valkey answers, before the password is added. */
export interface ValkeyEndpoint {
  host: string;
  port: number;
  password: string;
}

/** True when more than one optimizer pod may run. */
export function isFleet(spec: ImageOptimizerSpec): boolean {
  return spec.optimizer.autoscaling !== undefined || spec.optimizer.replicas > 1;
}

/** Decides storage: what was asked, else memory for one pod and a managed Valkey for a fleet. */
export function planStorage(spec: ImageOptimizerSpec, valkey: ValkeyEndpoint): StoragePlan {
  const asked = spec.imageOptimizer.storage;
  const managedUrl = `redis://:${encodeURIComponent(valkey.password)}@${valkey.host}:${valkey.port}`;
  if (asked === undefined) {
    if (!isFleet(spec))
      return { config: { type: 'memory' }, managedValkey: false, label: 'memory' };
    return {
      config: { type: 'valkey', url: managedUrl, prefix: DEFAULT_REDIS_PREFIX },
      managedValkey: true,
      label: 'valkey (managed)',
    };
  }
  switch (asked.type) {
    case 'memory':
      return { config: { type: 'memory' }, managedValkey: false, label: 'memory' };
    case 'filesystem': {
      const config: StorageConfig = { type: 'filesystem', path: asked.path ?? CR_FILESYSTEM_PATH };
      if (asked.maxBytes !== undefined) config.maxBytes = asked.maxBytes;
      return { config, managedValkey: false, label: 'filesystem' };
    }
    default: {
      const fromSecret = asked.urlSecretRef !== undefined;
      const managed = asked.url === undefined && !fromSecret;
      const prefix = asked.prefix ?? DEFAULT_REDIS_PREFIX;
      const config: PlannedStorage = fromSecret
        ? { type: asked.type, prefix }
        : { type: asked.type, url: asked.url ?? managedUrl, prefix };
      if (asked.db !== undefined) Object.assign(config, { db: asked.db });
      return {
        config,
        managedValkey: managed,
        label: managed ? `${asked.type} (managed)` : asked.type,
      };
    }
  }
}
