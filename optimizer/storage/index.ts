import type { Registry } from 'prom-client';
import type { StorageConfig } from '../../api/storage-config.ts';
import type { Logger } from '../../lib/logger.ts';
import { MemoryStore } from './memory.ts';
import type { ImageStore } from './types.ts';

export type { ImageStore, StorageState } from './types.ts';

/** Options every store takes. */
export interface CreateStoreOptions {
  memoryCacheBytes: number;
  logger: Logger;
  registry?: Registry;
}

/** The store for `storage` (interim: memory only until the filesystem and redis stores land). */
export function createStore(storage: StorageConfig, opts: CreateStoreOptions): ImageStore {
  if (storage.type !== 'memory') {
    opts.logger.warn({ type: storage.type }, 'storage type not available yet; using memory');
  }
  return new MemoryStore(opts.memoryCacheBytes);
}
