import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { type RunStats, summarize } from './stats.ts';

/** One HTTP request of a load run. */
export type LoadRequest = { path: string; headers: Record<string, string> };

/** A bounded closed-loop load: `concurrency` workers, until `count` requests or `maxMs` pass. */
export type LoadOptions = {
  /** Loopback origin, e.g. http://127.0.0.1:3001. */
  origin: string;
  /** The i-th request (0-based); called once per request. */
  request: (i: number) => LoadRequest;
  concurrency: number;
  count: number;
  maxMs: number;
  /** Per-request timeout. */
  timeoutMs?: number;
};

const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?$/;

type Tally = {
  latencies: number[];
  errors: number;
  bytes: number;
  statuses: Map<string, number>;
  cache: Map<string, number>;
};

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

async function once(pool: Pool, req: LoadRequest, timeoutMs: number, tally: Tally): Promise<void> {
  const start = performance.now();
  try {
    const res = await pool.request({
      method: 'GET',
      path: req.path,
      headers: req.headers,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    let size = 0;
    for await (const chunk of res.body) size += (chunk as Buffer).length;
    tally.latencies.push(performance.now() - start);
    bump(tally.statuses, String(res.statusCode));
    const cache = res.headers['x-nextjs-cache'];
    if (typeof cache === 'string') bump(tally.cache, cache);
    if (res.statusCode >= 200 && res.statusCode < 300) tally.bytes += size;
    else tally.errors += 1;
  } catch (error: unknown) {
    tally.latencies.push(performance.now() - start);
    tally.errors += 1;
    const code = (error as { code?: unknown }).code;
    bump(tally.statuses, typeof code === 'string' ? code : 'error');
  }
}

function describe(label: string, map: Map<string, number>): string {
  const parts = [...map.entries()].sort().map(([k, v]) => `${k}×${v}`);
  return `${label} ${parts.join(' ')}`;
}

/** Runs a closed-loop load against a loopback origin and summarizes it. */
export async function runLoad(options: LoadOptions): Promise<RunStats> {
  if (!LOOPBACK.test(options.origin))
    throw new Error(`refusing non-loopback origin ${options.origin}`);
  const pool = new Pool(options.origin, { connections: options.concurrency, pipelining: 1 });
  const tally: Tally = {
    latencies: [],
    errors: 0,
    bytes: 0,
    statuses: new Map(),
    cache: new Map(),
  };
  const timeoutMs = options.timeoutMs ?? 60_000;
  const start = performance.now();
  const deadline = start + options.maxMs;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.count && performance.now() < deadline) {
      const i = next++;
      await once(pool, options.request(i), timeoutMs, tally);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    await pool.close();
  }
  const durationMs = performance.now() - start;
  const notes = [describe('status', tally.statuses)];
  if (tally.cache.size > 0) notes.push(describe('x-nextjs-cache', tally.cache));
  return summarize({
    latenciesMs: tally.latencies,
    errors: tally.errors,
    durationMs,
    bytes: tally.bytes,
    notes,
  });
}
