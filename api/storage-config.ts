import { z } from 'zod';
import { nonNegativeInt, positiveInt } from './common.ts';

/** Default on-disk location, as in Platformatic's guide. */
export const DEFAULT_FILESYSTEM_PATH = './.next/cache/image-optimizer';
/** Default key prefix for redis/valkey. */
export const DEFAULT_REDIS_PREFIX = 'next-image:';

export const MemoryStorageSchema = z.strictObject({ type: z.literal('memory') });

export const FilesystemStorageSchema = z.strictObject({
  type: z.literal('filesystem'),
  path: z.string().min(1).default(DEFAULT_FILESYSTEM_PATH),
  /** Bound of the on-disk cache in bytes (LRU eviction). Our key; default 1 GiB. */
  maxBytes: positiveInt('storage.maxBytes').default(1024 * 1024 * 1024),
});

const redisUrl = z.string().refine((value) => {
  try {
    return ['redis:', 'rediss:', 'valkey:', 'valkeys:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}, 'url must be a redis://, rediss://, valkey:// or valkeys:// URL');

export const RedisStorageSchema = z.strictObject({
  type: z.enum(['redis', 'valkey']),
  url: redisUrl,
  prefix: z.string().default(DEFAULT_REDIS_PREFIX),
  db: nonNegativeInt('storage.db').optional(),
});

/** `next.imageOptimizer.storage`, as Platformatic defines it. */
export const StorageConfigSchema = z.discriminatedUnion(
  'type',
  [MemoryStorageSchema, FilesystemStorageSchema, RedisStorageSchema],
  { error: 'storage.type must be one of "memory", "filesystem", "redis", "valkey"' },
);
export type StorageConfig = z.infer<typeof StorageConfigSchema>;
