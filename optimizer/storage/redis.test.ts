import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../test/support/redis-server.ts';
import { until } from '../../test/support/until.ts';
import { ImageError } from '../errors.ts';
import type { CachedImage } from '../types.ts';
import { RedisTransactionError } from './errors.ts';
import { RedisStore, type RedisStoreOptions } from './redis.ts';
import { execAll } from './redis-entries.ts';
import { redisKeys } from './redis-keys.ts';
import { testEntry } from './test-support/entries.ts';

const logger = pino({ level: 'silent' });
let redis: RedisServer;
let raw: Redis;
const stores: RedisStore[] = [];

beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
});

afterAll(async () => {
  raw.disconnect();
  await redis.close();
});

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

/** A connected store on the test Redis under `prefix`. */
async function store(
  prefix: string,
  options: Partial<RedisStoreOptions> = {},
): Promise<RedisStore> {
  const s = new RedisStore({
    url: redis.url,
    prefix,
    memoryCacheBytes: 1 << 20,
    logger,
    ...options,
  });
  stores.push(s);
  await until(() => s.state() === 'ok');
  return s;
}

async function fleet(n: number, options: Partial<RedisStoreOptions> = {}): Promise<RedisStore[]> {
  const prefix = `t-${randomUUID()}:`;
  return Promise.all(Array.from({ length: n }, () => store(prefix, options)));
}

/** A produce function that counts its runs and finishes when `open()` is called. */
function gatedProducer(entry: CachedImage, save?: (entry: CachedImage) => Promise<void>) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const counter = { runs: 0, started: Promise.withResolvers<void>() };
  const produce = async (): Promise<CachedImage> => {
    counter.runs++;
    counter.started.resolve();
    await gate;
    await save?.(entry);
    return entry;
  };
  return { produce, open: () => open(), counter };
}

const never = (): AbortSignal => new AbortController().signal;

describe('RedisStore', () => {
  it('shares entries and their metadata between replicas', async () => {
    const [a, b] = await fleet(2);
    const entry = testEntry(3000, { extension: 'avif', upstreamEtag: 'u1', maxAge: 300 });
    await a!.set('k1', entry, '/a.png');
    expect(await b!.get('k1')).toEqual(entry);
    expect(await b!.get('missing')).toBeUndefined();
  });

  it('runs produce exactly once for 60 concurrent identical calls over 3 replicas', async () => {
    const replicas = await fleet(3);
    const entry = testEntry(20_000);
    const { produce, open, counter } = gatedProducer(entry, (e) =>
      replicas[0]!.set('hot', e, '/hot.png'),
    );
    const calls = Array.from({ length: 60 }, (_, i) => {
      const replica = replicas[i % 3]!;
      return replica.singleFlight('hot', produce, never());
    });
    await counter.started.promise;
    open();
    const results = await Promise.all(calls);
    expect(counter.runs).toBe(1);
    for (const result of results) expect(result.buffer.equals(entry.buffer)).toBe(true);
  });

  it('gives waiters the result even when produce did not store it', async () => {
    const [a, b] = await fleet(2);
    const entry = testEntry(1000);
    const { produce, open, counter } = gatedProducer(entry);
    const first = a!.singleFlight('unsaved', produce, never());
    await counter.started.promise;
    const second = b!.singleFlight('unsaved', produce, never());
    open();
    expect((await second).buffer.equals(entry.buffer)).toBe(true);
    expect((await first).buffer.equals(entry.buffer)).toBe(true);
    expect(counter.runs).toBe(1);
  });

  it('lets a waiter take over when the lease holder dies, and counts the takeover', async () => {
    const registry = new Registry();
    const prefix = `t-${randomUUID()}:`;
    const holder = await store(prefix, { leaseMs: 300, pollMs: 50 });
    const waiter = await store(prefix, { leaseMs: 300, pollMs: 50, registry });
    const stuck = gatedProducer(testEntry(100));
    const lost = holder.singleFlight('dying', stuck.produce, never());
    lost.catch(() => undefined);
    await stuck.counter.started.promise;
    const entry = testEntry(500);
    let ran = 0;
    const waiting = waiter.singleFlight(
      'dying',
      async () => {
        ran++;
        await waiter.set('dying', entry, '/dying.png');
        return entry;
      },
      never(),
    );
    // The holder crashes: no more renewals, no release, no message.
    holder.destroy();
    expect((await waiting).buffer.equals(entry.buffer)).toBe(true);
    expect(ran).toBe(1);
    expect(await registry.metrics()).toMatch(/next_image_storage_lease_takeovers_total 1/);
    expect(await registry.metrics()).toMatch(/next_image_storage_lease_waits_total 1/);
    stuck.open();
  });

  it('takes over a lease that another process left behind', async () => {
    const prefix = `t-${randomUUID()}:`;
    const s = await store(prefix, { leaseMs: 300, pollMs: 50 });
    await raw.set(redisKeys(prefix).lease('orphan'), 'dead-replica', 'PX', 400);
    const entry = testEntry(100);
    const result = await s.singleFlight('orphan', async () => entry, never());
    expect(result).toBe(entry);
  });

  it('shares a client error of the leader with every waiter instead of producing again', async () => {
    const replicas = await fleet(3);
    let runs = 0;
    let fail!: () => void;
    const gate = new Promise<void>((resolve) => {
      fail = resolve;
    });
    const produce = async (): Promise<CachedImage> => {
      runs++;
      await gate;
      throw new ImageError(
        400,
        '"url" parameter is valid but upstream response is invalid',
        'UPSTREAM',
      );
    };
    const calls = replicas.map((r) => r.singleFlight('bad', produce, never()));
    await until(() => runs === 1);
    fail();
    for (const outcome of await Promise.allSettled(calls)) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({
        statusCode: 400,
        code: 'UPSTREAM',
      });
    }
    expect(runs).toBe(1);
  });

  it('stops a waiter at its signal while the holder keeps working', async () => {
    const [a, b] = await fleet(2);
    const slow = gatedProducer(testEntry(100));
    const held = a!.singleFlight('slow', slow.produce, never());
    await slow.counter.started.promise;
    const controller = new AbortController();
    const waiting = b!.singleFlight('slow', slow.produce, controller.signal);
    const reason = new Error('caller timed out');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    slow.open();
    await held;
    expect(slow.counter.runs).toBe(1);
  });

  it('purges every variant of a source on every replica and in every tier', async () => {
    const registry = new Registry();
    const prefix = `t-${randomUUID()}:`;
    const a = await store(prefix, { registry });
    const b = await store(prefix);
    const c = await store(prefix);
    await a.set('w64', testEntry(100), '/p.png');
    await a.set('w128', testEntry(100), '/p.png');
    await a.set('other', testEntry(100), '/q.png');
    // Load them into every replica's in-process tier.
    for (const s of [b, c]) {
      expect(await s.get('w64')).toBeDefined();
      expect(await s.get('w128')).toBeDefined();
    }
    expect(await b.purge('/p.png')).toBe(2);
    for (const s of [a, b, c]) {
      await until(
        async () => (await s.get('w64')) === undefined && (await s.get('w128')) === undefined,
      );
      expect(await s.get('other')).toBeDefined();
    }
    expect(await raw.exists(redisKeys(prefix).href('/p.png'))).toBe(0);
  });

  it('reads an entry of another format version or a damaged one as a miss', async () => {
    const prefix = `t-${randomUUID()}:`;
    const s = await store(prefix, { memoryCacheBytes: 0 });
    const keys = redisKeys(prefix);
    expect(keys.entry('k')).toContain(':v1:');
    await raw.hset(keys.entry('old'), 'm', JSON.stringify({ v: 0, href: '/x' }), 'b', 'bytes');
    expect(await s.get('old')).toBeUndefined();
    expect(await raw.exists(keys.entry('old'))).toBe(0);
    await s.set('bent', testEntry(100), '/b.png');
    await raw.hset(keys.entry('bent'), 'b', Buffer.alloc(100));
    expect(await s.get('bent')).toBeUndefined();
  });

  it('gives entries a TTL and keeps the href index alive as long as its longest entry', async () => {
    const prefix = `t-${randomUUID()}:`;
    const s = await store(prefix, { staleTtlMs: 60_000 });
    const keys = redisKeys(prefix);
    await s.set('long', testEntry(100, { expireAt: Date.now() + 600_000 }), '/t.png');
    await s.set('short', testEntry(100, { expireAt: Date.now() + 1_000 }), '/t.png');
    const entryTtl = await raw.pttl(keys.entry('short'));
    expect(entryTtl).toBeGreaterThan(0);
    expect(entryTtl).toBeLessThanOrEqual(61_000);
    expect(await raw.pttl(keys.href('/t.png'))).toBeGreaterThan(600_000);
  });

  it('keeps a TTL on an entry whose expiry is beyond what PEXPIRE accepts', async () => {
    const prefix = `t-${randomUUID()}:`;
    const s = await store(prefix, { staleTtlMs: 60_000 });
    const keys = redisKeys(prefix);
    // What an upstream `max-age` of 31 digits used to make: an expiry of 1e33 ms.
    await s.set('forever', testEntry(100, { expireAt: Date.now() + 1e33 }), '/f.png');
    const entryTtl = await raw.pttl(keys.entry('forever'));
    expect(entryTtl).toBeGreaterThan(0);
    expect(entryTtl).toBeLessThanOrEqual(31_536_000_000 + 60_000);
    expect(await raw.pttl(keys.href('/f.png'))).toBeGreaterThan(0);
  });

  it('treats an error inside the write transaction as a failed write: logged, counted, no entry left', async () => {
    const prefix = `t-${randomUUID()}:`;
    const registry = new Registry();
    const lines: string[] = [];
    const capture = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const s = await store(prefix, { registry, logger: capture });
    const keys = redisKeys(prefix);
    // The href index is no set: SADD fails inside MULTI after HSET and PEXPIRE were applied.
    await raw.set(keys.href('/w.png'), 'not a set');
    await s.set('w', testEntry(100), '/w.png');
    expect(await raw.exists(keys.entry('w'))).toBe(0);
    expect(await registry.metrics()).toContain(
      'next_image_storage_errors_total{operation="write"} 1',
    );
    expect(lines.join('\n')).toMatch(/"level":40.*WRONGTYPE|WRONGTYPE.*"level":40/);
  });

  it('fails a transaction when any command in it failed, though Redis applied the others', async () => {
    const key = `t-${randomUUID()}`;
    const failure = await execAll(raw.multi().set(key, 'text').incr(key), 'bumping').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(RedisTransactionError);
    expect(failure).toMatchObject({ code: 'STORAGE_TRANSACTION_FAILED' });
    expect(String((failure as Error).message)).toMatch(/^bumping: command 2 of 2 failed: ERR/);
    expect(await raw.get(key)).toBe('text');
    expect(await execAll(raw.multi().del(key), 'cleaning up')).toEqual([1]);
  });

  it('drops an entry stored with a max-age past the cap, as an earlier version could write it', async () => {
    const prefix = `t-${randomUUID()}:`;
    const s = await store(prefix, { memoryCacheBytes: 0 });
    const keys = redisKeys(prefix);
    await s.set('huge', testEntry(100), '/h.png');
    const meta = JSON.parse((await raw.hget(keys.entry('huge'), 'm')) ?? '{}');
    await raw.hset(keys.entry('huge'), 'm', JSON.stringify({ ...meta, maxAge: 1e30 }));
    await raw.persist(keys.entry('huge'));
    expect(await s.get('huge')).toBeUndefined();
    expect(await raw.exists(keys.entry('huge'))).toBe(0);
  });

  it('revalidates a stale entry on one replica only, and backs off after a failure', async () => {
    const replicas = await fleet(3);
    const fresh = testEntry(100);
    const { produce, open, counter } = gatedProducer(fresh);
    const runs = replicas.map((r) => r.revalidate('stale', '/s.png', produce));
    await counter.started.promise;
    open();
    expect((await Promise.all(runs)).filter(Boolean)).toHaveLength(1);
    expect(counter.runs).toBe(1);
    expect((await replicas[2]!.get('stale'))?.buffer.equals(fresh.buffer)).toBe(true);

    let failures = 0;
    const failing = async (): Promise<CachedImage> => {
      failures++;
      throw new Error('upstream down');
    };
    expect(await replicas[0]!.revalidate('flaky', '/f.png', failing)).toBe(false);
    expect(await replicas[1]!.revalidate('flaky', '/f.png', failing)).toBe(false);
    expect(failures).toBe(1);
  });

  it('works with a password in the URL, honours db over the URL and never logs the password', async () => {
    const secured = await startRedis({ args: ['--requirepass', 's3cr3t/pass'] });
    const lines: string[] = [];
    const capture = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    try {
      const url = `valkey://:${encodeURIComponent('s3cr3t/pass')}@127.0.0.1:${secured.port}/1`;
      const s = new RedisStore({ url, db: 3, prefix: 'pw:', memoryCacheBytes: 0, logger: capture });
      stores.push(s);
      await until(() => s.state() === 'ok');
      await s.set('k', testEntry(100), '/pw.png');
      const check = new Redis({ port: secured.port, password: 's3cr3t/pass', db: 3 });
      expect(await check.exists(redisKeys('pw:').entry('k'))).toBe(1);
      check.disconnect();
      await s.close();
      await secured.stop();
      expect(lines.join('')).not.toContain('s3cr3t');
      expect(lines.join('')).toContain('redis connected');
    } finally {
      await secured.close();
    }
  });

  it('reports its state and tier in metrics', async () => {
    const registry = new Registry();
    const s = await store(`t-${randomUUID()}:`, { registry });
    await s.set('m', testEntry(1000), '/m.png');
    const text = await registry.metrics();
    expect(text).toContain('next_image_storage_up{type="redis"} 1');
    expect(text).toMatch(/next_image_storage_memory_tier_bytes [1-9]\d*/);
  });
});
