import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { StorageConfig } from '../../api/storage-config.ts';
import { FilesystemStore } from './filesystem.ts';
import { MemoryStore } from './memory.ts';
import { createStorageMetrics } from './metrics.ts';
import { RedisStore } from './redis.ts';
import type { ImageStore } from './types.ts';

export { StorageUnavailableError } from './errors.ts';
export type { ImageStore, StorageState } from './types.ts';

export interface CreateStoreOptions {
  /** Bound of the in-process cache: the whole cache for memory, the tier in front otherwise. */
  memoryCacheBytes: number;
  logger: Logger;
  /** Where to register the storage metrics (state, lease waits/takeovers, purges, tier bytes). */
  registry?: Registry;
}

/** Builds the store that `next.imageOptimizer.storage` describes. Connects lazily; never throws for outages. */
export function createStore(storage: StorageConfig, options: CreateStoreOptions): ImageStore {
  const logger = options.logger.child({ storage: storage.type });
  switch (storage.type) {
    case 'memory': {
      const store = new MemoryStore(options.memoryCacheBytes);
      createStorageMetrics(options.registry, {
        type: 'memory',
        state: () => store.state(),
        memoryTierBytes: () => store.bytes,
      });
      return store;
    }
    case 'filesystem':
      return new FilesystemStore({
        path: storage.path,
        maxBytes: storage.maxBytes,
        memoryCacheBytes: options.memoryCacheBytes,
        logger,
        registry: options.registry,
      });
    case 'redis':
    case 'valkey':
      return new RedisStore({
        url: storage.url,
        prefix: storage.prefix,
        db: storage.db,
        memoryCacheBytes: options.memoryCacheBytes,
        logger,
        registry: options.registry,
      });
  }
}
