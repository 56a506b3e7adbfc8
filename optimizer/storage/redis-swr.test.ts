import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../test/support/redis-server.ts';
import { ImageCache } from '../image-cache.ts';
import type { ImageEntry } from '../types.ts';
import { RedisStore } from './redis.ts';
import { testEntry } from './test-support/entries.ts';

// The optimizer's cache semantics (ImageCache) over RedisStore on several replicas.
const logger = pino({ level: 'silent' });
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis.close();
});

describe('ImageCache over RedisStore replicas', () => {
  it('serves a stale entry everywhere while exactly one replica revalidates it', async () => {
    const prefix = `swr-${randomUUID()}:`;
    const stores = [0, 1, 2].map(
      () => new RedisStore({ url: redis.url, prefix, memoryCacheBytes: 1 << 20, logger }),
    );
    try {
      await expect
        .poll(() => stores.every((s) => s.state() === 'ok'), { timeout: 10_000 })
        .toBe(true);
      const caches = stores.map(
        (store) => new ImageCache({ store, timeoutMs: 10_000, minimumCacheTTL: 60, logger }),
      );
      const stale = testEntry(500, { expireAt: Date.now() - 1_000 });
      await stores[0]!.set('swr', stale, '/swr.png');
      const fresh = testEntry(600);
      let runs = 0;
      let finish!: () => void;
      const gate = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const produce = async (): Promise<ImageEntry> => {
        runs++;
        await gate;
        return fresh;
      };
      const controller = new AbortController();
      const signal = (): AbortSignal => controller.signal;
      for (const cache of caches) {
        const { entry, result } = await cache.get('swr', '/swr.png', produce, signal);
        expect(result).toBe('STALE');
        expect(entry.buffer.equals(stale.buffer)).toBe(true);
      }
      finish();
      await expect
        .poll(async () => (await caches[2]!.get('swr', '/swr.png', produce, signal)).result, {
          timeout: 10_000,
        })
        .toBe('HIT');
      for (const cache of caches) {
        await expect
          .poll(async () =>
            (await cache.get('swr', '/swr.png', produce, signal)).entry.buffer.equals(fresh.buffer),
          )
          .toBe(true);
      }
      expect(runs).toBe(1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
