import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../test/support/redis-server.ts';
import { until as pollUntil } from '../../test/support/until.ts';
import type { CachedImage } from '../types.ts';
import { StorageUnavailableError } from './errors.ts';
import { RedisStore } from './redis.ts';
import { testEntry } from './test-support/entries.ts';

// Its own Redis: this file stops and restarts it.
let redis: RedisServer;
const lines: string[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis.close();
});

// This file's waits span Redis stops and restarts: 15 s each, not the default 10 s.
const until = (check: () => boolean | Promise<boolean>): Promise<void> => pollUntil(check, 15_000);

/** What the optimizer does per request: cache, else one flight that stores its result. */
async function serve(
  store: RedisStore,
  key: string,
  produced: { count: number },
): Promise<CachedImage> {
  const cached = await store.get(key);
  if (cached !== undefined) return cached;
  return store.singleFlight(
    key,
    async () => {
      produced.count++;
      const entry = testEntry(2000);
      await store.set(key, entry, `/${key}.png`);
      return entry;
    },
    new AbortController().signal,
  );
}

describe('RedisStore when Redis goes away', () => {
  it('keeps serving through the outage, logs each change once, and caches again afterwards', async () => {
    // A small in-process tier, so most requests need Redis.
    const options = {
      url: redis.url,
      prefix: 'outage:',
      memoryCacheBytes: 12_000,
      logger,
      leaseMs: 500,
      pollMs: 50,
    };
    const a = new RedisStore(options);
    const b = new RedisStore(options);
    try {
      await until(() => a.state() === 'ok' && b.state() === 'ok');
      const produced = { count: 0 };
      let served = 0;
      let stopped = false;
      const load = async (store: RedisStore, offset: number): Promise<void> => {
        for (let i = 0; !stopped; i++) {
          await serve(store, `img${(i + offset) % 25}`, produced);
          served++;
          // Let timers and sockets run between requests, as a server would.
          await new Promise((resolve) => setImmediate(resolve));
        }
      };
      const running = Promise.all([load(a, 0), load(b, 7), load(a, 13), load(b, 3)]);
      await until(() => served > 40);
      await redis.stop();
      await until(() => a.state() === 'degraded' && b.state() === 'degraded');
      const servedAtStop = served;
      await until(() => served > servedAtStop + 80);
      stopped = true;
      // No request failed: Promise.all would reject otherwise.
      await running;
      expect(produced.count).toBeGreaterThan(25);
      await expect(a.purge('/img1.png')).rejects.toBeInstanceOf(StorageUnavailableError);

      await redis.restart();
      await until(() => a.state() === 'ok' && b.state() === 'ok');
      const entry = testEntry(500);
      await a.set('after', entry, '/after.png');
      expect((await b.get('after'))?.buffer.equals(entry.buffer)).toBe(true);
      const before = produced.count;
      const results = await Promise.all([serve(a, 'fresh', produced), serve(b, 'fresh', produced)]);
      expect(produced.count).toBe(before + 1);
      expect(results[0]!.buffer.equals(results[1]!.buffer)).toBe(true);
      expect(await b.purge('/after.png')).toBe(1);

      const text = lines.join('');
      // Two stores, one outage: each logs going down once and coming back once.
      expect(text.match(/redis unreachable/g)).toHaveLength(2);
      expect(text.match(/redis reachable again/g)).toHaveLength(2);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('turns degraded and keeps serving when Redis hangs, and recovers when it answers again', async () => {
    const store = new RedisStore({ url: redis.url, prefix: 'hang:', memoryCacheBytes: 0, logger });
    try {
      await until(() => store.state() === 'ok');
      const produced = { count: 0 };
      await serve(store, 'before', produced);
      redis.pause();
      // Each call either waits out one command timeout or skips Redis: none fails.
      for (let i = 0; i < 5; i++) await serve(store, `during${i}`, produced);
      expect(store.state()).toBe('degraded');
      redis.resume();
      await until(() => store.state() === 'ok');
      const entry = testEntry(100);
      await store.set('after', entry, '/after.png');
      expect((await store.get('after'))?.buffer.equals(entry.buffer)).toBe(true);
    } finally {
      redis.resume();
      await store.close();
    }
  });

  it('forgets its in-process tier after pub/sub was cut off, since a purge may have been missed', async () => {
    const store = new RedisStore({
      url: redis.url,
      prefix: 'missed:',
      memoryCacheBytes: 1 << 20,
      logger,
    });
    try {
      await until(() => store.state() === 'ok');
      await store.set('kept', testEntry(1000), '/kept.png');
      expect(store.memoryTierBytes).toBeGreaterThan(0);
      await redis.stop();
      await until(() => store.state() === 'degraded');
      expect(store.memoryTierBytes).toBeGreaterThan(0);
      await redis.restart();
      await until(() => store.memoryTierBytes === 0);
      expect(lines.join('')).toContain('clearing the in-process tier');
    } finally {
      await store.close();
    }
  });

  it('starts degraded and serves while Redis is not there yet', async () => {
    await redis.stop();
    const store = new RedisStore({
      url: redis.url,
      prefix: 'late:',
      memoryCacheBytes: 1 << 20,
      logger,
    });
    try {
      expect(store.state()).toBe('degraded');
      const produced = { count: 0 };
      const first = await serve(store, 'k', produced);
      // The in-process tier answers the second request.
      expect(await serve(store, 'k', produced)).toBe(first);
      expect(produced.count).toBe(1);
      await redis.restart();
      await until(() => store.state() === 'ok');
    } finally {
      await store.close();
    }
  });
});
