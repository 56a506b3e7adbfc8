import type { ServerResponse } from 'node:http';
import sharp from 'sharp';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureUpstream, startFixtureUpstream } from '../support/fixture-upstream.ts';
import { type Fleet, fleetMetric, getImage, startFleet } from '../support/fleet.ts';
import { type RedisServer, startRedis } from '../support/redis-server.ts';
import { makeSampleImages, type SampleImages } from '../support/sample-images.ts';

// The fleet: 3 `next-image optimizer` processes sharing one redis-server. Each test uses a
// prefix of its own, so tests never see each other's entries.
const TOKEN = 'fleet-test-purge-token-0123456789';
const TIMEOUT_MS = 30_000;
let redis: RedisServer;
let upstream: FixtureUpstream;
let images: SampleImages;
const fleets: Fleet[] = [];
let prefixes = 0;

beforeAll(async () => {
  images = await makeSampleImages();
  [redis, upstream] = await Promise.all([startRedis(), startFixtureUpstream(images)]);
});

afterEach(async () => {
  await Promise.all(fleets.splice(0).map((f) => f.stop()));
});

afterAll(async () => {
  await Promise.all([redis?.close(), upstream?.close()]);
});

async function fleet(redisUrl = redis.url): Promise<Fleet> {
  const started = await startFleet(3, {
    next: {
      imageOptimizer: {
        fallback: upstream.url,
        timeout: TIMEOUT_MS,
        storage: { type: 'redis', url: redisUrl, prefix: `fleet${++prefixes}:` },
      },
    },
    optimizer: { purgeToken: TOKEN, memoryCacheBytes: 64 * 1024 * 1024 },
  });
  fleets.push(started);
  // Until a replica has connected it serves without Redis (and so works alone): wait for all.
  await expect
    .poll(() => fleetMetric(started.replicas, 'next_image_storage_up'), { timeout: 30_000 })
    .toBe(3);
  return started;
}

/** A route that holds its responses until `release()`, then serves the JPEG sample. */
function gatedRoute(path: string): { release(): void } {
  const held: ServerResponse[] = [];
  let open = false;
  const send = (res: ServerResponse): void => {
    res.writeHead(200, {
      'content-type': 'image/jpeg',
      'content-length': String(images.jpeg.length),
    });
    res.end(images.jpeg);
  };
  upstream.route(path, (_req, res) => (open ? send(res) : held.push(res)));
  return {
    release: () => {
      open = true;
      for (const res of held.splice(0)) send(res);
    },
  };
}

async function expectJpegOf640(body: Buffer): Promise<void> {
  const meta = await sharp(body).metadata();
  expect(meta.format).toBe('jpeg');
  expect(meta.width).toBe(640);
}

describe('a fleet of 3 optimizers on one Redis', () => {
  it('fetches and transforms once for 60 concurrent identical requests spread over the fleet', async () => {
    const { replicas } = await fleet();
    const gate = gatedRoute('/fleet-once.jpg');
    const responses = Promise.all(
      Array.from({ length: 60 }, (_, i) => getImage(replicas[i % 3]!.url, '/fleet-once.jpg')),
    );
    // Hold the upstream until one replica fetches and the other two wait on its lease.
    await expect.poll(() => upstream.hits.get('/fleet-once.jpg') ?? 0, { timeout: 30_000 }).toBe(1);
    await expect
      .poll(() => fleetMetric(replicas, 'next_image_storage_lease_waits_total'), {
        timeout: 30_000,
      })
      .toBe(2);
    gate.release();
    const results = await responses;
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body.equals(results[0]!.body)).toBe(true);
    }
    await expectJpegOf640(results[0]!.body);
    expect(upstream.hits.get('/fleet-once.jpg')).toBe(1);
    expect(await fleetMetric(replicas, 'next_image_fetch_attempts_total')).toBe(1);
    expect(await fleetMetric(replicas, 'next_image_transforms_total')).toBe(1);
    expect(await fleetMetric(replicas, 'next_image_storage_flights_led_total')).toBe(1);
  }, 120_000);

  it('serves every waiting request when the lease holder is killed with SIGKILL mid-job', async () => {
    const { replicas } = await fleet();
    const [holder, ...others] = replicas as [(typeof replicas)[0], ...typeof replicas];
    // The first fetch never gets an answer: the holder is busy with it when it dies.
    upstream.route('/fleet-kill.jpg', (_req, res, hit) => {
      if (hit === 1) return;
      res.writeHead(200, { 'content-length': String(images.jpeg.length) });
      res.end(images.jpeg);
    });
    const doomed = getImage(holder.url, '/fleet-kill.jpg').catch((error: unknown) => error);
    await expect.poll(() => upstream.hits.get('/fleet-kill.jpg') ?? 0, { timeout: 30_000 }).toBe(1);
    const waiting = Promise.all(
      Array.from({ length: 20 }, (_, i) => getImage(others[i % 2]!.url, '/fleet-kill.jpg')),
    );
    await expect
      .poll(() => fleetMetric(others, 'next_image_storage_lease_waits_total'), { timeout: 30_000 })
      .toBe(2);
    holder.proc.child.kill('SIGKILL');
    await holder.proc.exited();
    const results = await waiting;
    // Each request's wait is bounded by `timeout` (a 504 past it): a 200 means it was in time.
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body.equals(results[0]!.body)).toBe(true);
    }
    await expectJpegOf640(results[0]!.body);
    expect(upstream.hits.get('/fleet-kill.jpg')).toBe(2);
    expect(await fleetMetric(others, 'next_image_storage_lease_takeovers_total')).toBe(1);
    expect(await fleetMetric(others, 'next_image_transforms_total')).toBe(1);
    await doomed;
  }, 120_000);

  it('purges a source on every replica: the next request everywhere is a MISS', async () => {
    const { replicas } = await fleet();
    const path = '/fleet-purge.jpg';
    upstream.route(path, (_req, res) => {
      res.writeHead(200, { 'content-length': String(images.jpeg.length) });
      res.end(images.jpeg);
    });
    // Cache two widths and load them into every replica's in-process tier.
    for (const width of [640, 750]) {
      expect((await getImage(replicas[0]!.url, path, width)).cache).toBe('MISS');
      for (const r of replicas) expect((await getImage(r.url, path, width)).cache).toBe('HIT');
    }
    const purge = await request(
      `${replicas[1]!.url}/__admin/purge?url=${encodeURIComponent(path)}`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      },
    );
    expect(purge.statusCode).toBe(200);
    expect(await purge.body.json()).toEqual({ url: path, purged: 2 });
    expect(await fleetMetric(replicas, 'next_image_purge_requests_total')).toBe(1);

    // Ask all three at once and hold the upstream until all three are in the same flight:
    // a replica still holding the image anywhere would answer HIT at once instead.
    const gate = gatedRoute(path);
    const hitsBefore = upstream.hits.get(path) ?? 0;
    const waitsBefore = await fleetMetric(replicas, 'next_image_storage_lease_waits_total');
    const after = Promise.all(replicas.map((r) => getImage(r.url, path, 640)));
    await expect.poll(() => upstream.hits.get(path) ?? 0, { timeout: 30_000 }).toBe(hitsBefore + 1);
    await expect
      .poll(() => fleetMetric(replicas, 'next_image_storage_lease_waits_total'), {
        timeout: 30_000,
      })
      .toBe(waitsBefore + 2);
    gate.release();
    expect((await after).map((r) => r.cache)).toEqual(['MISS', 'MISS', 'MISS']);
  }, 120_000);

  it('keeps answering while Redis is down and caches across replicas again once it is back', async () => {
    const ownRedis = await startRedis();
    try {
      const { replicas } = await fleet(ownRedis.url);
      upstream.route('/fleet-outage.jpg', (_req, res) => {
        res.writeHead(200, { 'content-length': String(images.jpeg.length) });
        res.end(images.jpeg);
      });
      const widths = [32, 48, 64, 96, 128, 256, 384, 640, 750, 828];
      const statuses: number[] = [];
      let stop = false;
      const worker = async (n: number): Promise<void> => {
        for (let i = n; !stop; i++) {
          const r = await getImage(
            replicas[i % 3]!.url,
            '/fleet-outage.jpg',
            widths[i % widths.length],
          );
          statuses.push(r.status);
        }
      };
      const load = Promise.all([0, 1, 2, 3, 4, 5].map(worker));
      await expect.poll(() => statuses.length, { timeout: 30_000 }).toBeGreaterThan(30);
      await ownRedis.stop();
      await expect
        .poll(() => fleetMetric(replicas, 'next_image_storage_up'), { timeout: 30_000 })
        .toBe(0);
      const atStop = statuses.length;
      await expect.poll(() => statuses.length, { timeout: 30_000 }).toBeGreaterThan(atStop + 60);
      stop = true;
      await load;
      expect(statuses.filter((s) => s !== 200)).toEqual([]);

      await ownRedis.restart();
      await expect
        .poll(() => fleetMetric(replicas, 'next_image_storage_up'), { timeout: 30_000 })
        .toBe(3);
      // A new variant: made on one replica, a HIT on the others through Redis.
      expect((await getImage(replicas[0]!.url, '/fleet-outage.jpg', 1080)).cache).toBe('MISS');
      expect((await getImage(replicas[1]!.url, '/fleet-outage.jpg', 1080)).cache).toBe('HIT');
      expect((await getImage(replicas[2]!.url, '/fleet-outage.jpg', 1080)).cache).toBe('HIT');
    } finally {
      await ownRedis.close();
    }
  }, 150_000);
});
