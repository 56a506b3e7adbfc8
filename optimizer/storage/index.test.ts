import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageConfigSchema } from '../../api/storage-config.ts';
import { type RedisServer, startRedis } from '../../test/support/redis-server.ts';
import { FilesystemStore } from './filesystem.ts';
import { createStore } from './index.ts';
import { MemoryStore } from './memory.ts';
import { RedisStore } from './redis.ts';

const logger = pino({ level: 'silent' });
let redis: RedisServer;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'create-store-'));
});

afterAll(async () => {
  await redis.close();
  await rm(dir, { recursive: true, force: true });
});

describe('createStore', () => {
  it('builds the memory store by default and reports it in metrics', async () => {
    const registry = new Registry();
    const store = createStore(StorageConfigSchema.parse({ type: 'memory' }), {
      memoryCacheBytes: 1024,
      logger,
      registry,
    });
    expect(store).toBeInstanceOf(MemoryStore);
    expect(await registry.metrics()).toContain('next_image_storage_up{type="memory"} 1');
    await store.close();
  });

  it('builds the filesystem store at the configured path', async () => {
    const store = createStore(StorageConfigSchema.parse({ type: 'filesystem', path: dir }), {
      memoryCacheBytes: 0,
      logger,
    });
    expect(store).toBeInstanceOf(FilesystemStore);
    await store.close();
  });

  it.each(['redis', 'valkey'] as const)(
    'builds a connected shared store for type %s',
    async (type) => {
      const url = type === 'valkey' ? redis.url.replace('redis://', 'valkey://') : redis.url;
      const store = createStore(StorageConfigSchema.parse({ type, url, prefix: `${type}:` }), {
        memoryCacheBytes: 0,
        logger,
      });
      try {
        expect(store).toBeInstanceOf(RedisStore);
        await expect.poll(() => store.state(), { timeout: 10_000 }).toBe('ok');
      } finally {
        await store.close();
      }
    },
  );
});
