// The fleet case of `npm run bench` (issue 5 §5): R optimizer processes sharing a Redis versus
// R processes with memory storage only. Reports encodes performed per request for N concurrent
// identical and distinct requests, and hit throughput with the Redis tier vs memory only.
// Run alone: node bench/fleet.ts
import { availableParallelism } from 'node:os';
import { request } from 'undici';
import { startFixtureUpstream } from '../test/support/fixture-upstream.ts';
import {
  type Fleet,
  fleetMetric,
  getImage,
  type Replica,
  startFleet,
} from '../test/support/fleet.ts';
import { startRedis } from '../test/support/redis-server.ts';
import { makeSampleImages } from '../test/support/sample-images.ts';

/** Knobs of the fleet bench. */
export interface FleetBenchOptions {
  replicas: number;
  /** Concurrent requests per encode case. */
  requests: number;
  /** Duration of each hit-throughput run. */
  hitMs: number;
  hitConcurrency: number;
  log: (line: string) => void;
}

export const defaultFleetBenchOptions: FleetBenchOptions = {
  replicas: 3,
  requests: 60,
  hitMs: 4_000,
  hitConcurrency: 32,
  log: (line) => process.stderr.write(`[bench:fleet] ${line}\n`),
};

type Storage = 'redis' | 'redis-no-l1' | 'memory';

interface EncodeCase {
  storage: Storage;
  identical: { requests: number; encodes: number; fetches: number; wallMs: number };
  distinct: { requests: number; encodes: number; fetches: number; wallMs: number };
  /** The distinct set asked again, each on another replica than the first time. */
  distinctElsewhere: { requests: number; encodes: number };
}

interface HitCase {
  storage: Storage;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0
    ? 0
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Waits until every replica reports its storage up (a replica not yet on Redis works alone). */
async function storageUp(replicas: Replica[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await fleetMetric(replicas, 'next_image_storage_up')) < replicas.length) {
    if (Date.now() > deadline)
      throw new Error('the replicas did not report their storage up within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function encodes(replicas: Replica[]): Promise<number> {
  return fleetMetric(replicas, 'next_image_transforms_total');
}

async function fetches(replicas: Replica[]): Promise<number> {
  return fleetMetric(replicas, 'next_image_fetch_attempts_total');
}

/** N requests at once, spread round-robin; every one must answer 200. */
async function burst(replicas: Replica[], paths: string[], shift = 0): Promise<number> {
  const started = performance.now();
  const results = await Promise.all(
    paths.map((path, i) => getImage(replicas[(i + shift) % replicas.length]!.url, path)),
  );
  const bad = results.filter((r) => r.status !== 200);
  if (bad.length > 0) throw new Error(`${bad.length} requests failed (status ${bad[0]!.status})`);
  return performance.now() - started;
}

async function encodeCase(
  fleet: Fleet,
  storage: Storage,
  tag: string,
  n: number,
): Promise<EncodeCase> {
  const { replicas } = fleet;
  const e0 = await encodes(replicas);
  const f0 = await fetches(replicas);
  const identicalMs = await burst(
    replicas,
    Array.from({ length: n }, () => `/bench-${tag}-same.jpg`),
  );
  const e1 = await encodes(replicas);
  const f1 = await fetches(replicas);
  const distinct = Array.from({ length: n }, (_, i) => `/bench-${tag}-${i}.jpg`);
  const distinctMs = await burst(replicas, distinct);
  const e2 = await encodes(replicas);
  const f2 = await fetches(replicas);
  await burst(replicas, distinct, 1);
  const e3 = await encodes(replicas);
  return {
    storage,
    identical: { requests: n, encodes: e1 - e0, fetches: f1 - f0, wallMs: Math.round(identicalMs) },
    distinct: { requests: n, encodes: e2 - e1, fetches: f2 - f1, wallMs: Math.round(distinctMs) },
    distinctElsewhere: { requests: n, encodes: e3 - e2 },
  };
}

/** Hit throughput: warm `keys` on every replica's path, then hammer them round-robin. */
async function hitCase(
  fleet: Fleet,
  storage: Storage,
  tag: string,
  o: FleetBenchOptions,
): Promise<HitCase> {
  const { replicas } = fleet;
  const keys = Array.from({ length: 16 }, (_, i) => `/bench-${tag}-hit-${i}.jpg`);
  await burst(replicas, keys);
  // Visit every replica once so the memory-only fleet is warm everywhere too.
  for (let shift = 1; shift < replicas.length; shift++) await burst(replicas, keys, shift);
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + o.hitMs;
  const worker = async (w: number): Promise<void> => {
    for (let i = w; performance.now() < deadline; i += o.hitConcurrency) {
      const replica = replicas[i % replicas.length]!;
      const key = keys[i % keys.length]!;
      const t = performance.now();
      const res = await request(
        `${replica.url}/_next/image?url=${encodeURIComponent(key)}&w=640&q=75`,
      );
      await res.body.arrayBuffer();
      if (res.statusCode !== 200 || res.headers['x-nextjs-cache'] !== 'HIT') errors++;
      latencies.push(performance.now() - t);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: o.hitConcurrency }, (_, w) => worker(w)));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    storage,
    requestsPerSecond: Math.round(latencies.length / seconds),
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
    errors,
  };
}

function markdown(o: FleetBenchOptions, cases: EncodeCase[], hits: HitCase[]): string {
  const per = (e: number, n: number): string => (e / n).toFixed(3);
  const lines = [
    `## Fleet: ${o.replicas} optimizer processes, Redis tier vs memory only`,
    '',
    `${o.requests} concurrent requests per case, spread round-robin; ${availableParallelism()} CPUs shared by all processes.`,
    '',
    '| storage | identical: encodes/request (fetches) | distinct: encodes/request | distinct again on another replica: encodes/request |',
    '|---|---|---|---|',
    ...cases.map(
      (c) =>
        `| ${c.storage} | ${per(c.identical.encodes, c.identical.requests)} (${c.identical.fetches}) | ${per(c.distinct.encodes, c.distinct.requests)} | ${per(c.distinctElsewhere.encodes, c.distinctElsewhere.requests)} |`,
    ),
    '',
    `Hit throughput (${o.hitConcurrency} concurrent clients, ${o.hitMs / 1000} s, 16 hot keys, 640 px JPEG):`,
    '',
    '| storage | hits/s | p50 ms | p99 ms | non-HIT or errors |',
    '|---|---|---|---|---|',
    ...hits.map(
      (h) => `| ${h.storage} | ${h.requestsPerSecond} | ${h.p50Ms} | ${h.p99Ms} | ${h.errors} |`,
    ),
    '',
    '`redis` = Redis tier with the in-process tier in front (default); `redis-no-l1` = every hit read from Redis (`memoryCacheBytes: 0`).',
  ];
  return `${lines.join('\n')}\n`;
}

/** Runs the fleet bench; returns its numbers and a Markdown section. */
export async function benchFleet(
  options: Partial<FleetBenchOptions> = {},
): Promise<Record<string, unknown>> {
  const o = { ...defaultFleetBenchOptions, ...options };
  const images = await makeSampleImages();
  const redis = await startRedis();
  const upstream = await startFixtureUpstream(images);
  // Every path under /bench-* serves the 1200×800 JPEG sample.
  const serveJpeg = (path: string): void =>
    upstream.route(path, (_req, res) => {
      res.writeHead(200, { 'content-length': String(images.jpeg.length) });
      res.end(images.jpeg);
    });
  const cases: EncodeCase[] = [];
  const hits: HitCase[] = [];
  try {
    const storages: Storage[] = ['redis', 'redis-no-l1', 'memory'];
    for (const [index, storage] of storages.entries()) {
      const tag = `${storage}-${index}`;
      serveJpeg(`/bench-${tag}-same.jpg`);
      for (let i = 0; i < o.requests; i++) serveJpeg(`/bench-${tag}-${i}.jpg`);
      for (let i = 0; i < 16; i++) serveJpeg(`/bench-${tag}-hit-${i}.jpg`);
      const fleet = await startFleet(o.replicas, {
        next: {
          imageOptimizer: {
            fallback: upstream.url,
            storage:
              storage === 'memory'
                ? { type: 'memory' }
                : { type: 'redis', url: redis.url, prefix: `bench${index}:` },
          },
        },
        optimizer: storage === 'redis-no-l1' ? { memoryCacheBytes: 0 } : {},
      }).catch(async () => {
        throw new Error(
          'the fleet did not start (is the optimizer CLI logging its url at level warn?)',
        );
      });
      try {
        await storageUp(fleet.replicas);
        o.log(`${storage}: encode cases`);
        if (storage !== 'redis-no-l1')
          cases.push(await encodeCase(fleet, storage, tag, o.requests));
        o.log(`${storage}: hit throughput`);
        hits.push(await hitCase(fleet, storage, tag, o));
      } finally {
        await fleet.stop();
      }
    }
  } finally {
    await upstream.close();
    await redis.close();
  }
  return {
    replicas: o.replicas,
    encodeCases: cases,
    hitCases: hits,
    markdown: markdown(o, cases, hits),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchFleet();
  process.stdout.write(String(result.markdown));
}
