import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { PrewarmTarget } from './plan.ts';
import { type PrewarmFetch, retryAfterMs, runPrewarm } from './runner.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.close();
  server = undefined;
});

/** A real HTTP server answering each path as the table says, counting requests. */
async function serve(
  answer: (path: string, hit: number) => { status: number; headers?: Record<string, string> },
): Promise<{
  fetch: PrewarmFetch;
  hits: Map<string, number>;
  inFlight: () => number;
  peak: () => number;
}> {
  const hits = new Map<string, number>();
  let inFlight = 0;
  let peak = 0;
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    const hit = (hits.get(path) ?? 0) + 1;
    hits.set(path, hit);
    inFlight++;
    peak = Math.max(peak, inFlight);
    setImmediate(() => {
      const { status, headers } = answer(path, hit);
      res.writeHead(status, { 'x-accept': String(req.headers.accept), ...headers });
      res.end('body');
      inFlight--;
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fetch: PrewarmFetch = async (target, signal) => {
    const res = await request(`${base}${target.path}`, {
      headers: { accept: target.accept },
      signal,
    });
    const bytes = (await res.body.arrayBuffer()).byteLength;
    const h = (n: string): string | undefined => res.headers[n] as string | undefined;
    return {
      status: res.statusCode,
      cache: h('x-nextjs-cache'),
      retryAfter: h('retry-after'),
      bytes,
    };
  };
  return { fetch, hits, inFlight: () => inFlight, peak: () => peak };
}

const targets = (n: number): PrewarmTarget[] =>
  Array.from({ length: n }, (_, i) => ({ path: `/img/${i}`, accept: 'image/webp' }));

describe('runPrewarm', () => {
  it('counts hits, misses and bytes, with at most `concurrency` requests in flight', async () => {
    const origin = await serve((path) => ({
      status: 200,
      headers: { 'x-nextjs-cache': path.endsWith('0') ? 'HIT' : 'MISS' },
    }));
    const seen: number[] = [];
    const summary = await runPrewarm(targets(20), {
      fetch: origin.fetch,
      concurrency: 3,
      retries: 0,
      maxRetryAfterMs: 0,
      onProgress: (p) => seen.push(p.done),
    });
    expect(summary).toMatchObject({
      total: 20,
      done: 20,
      hits: 2,
      misses: 18,
      errors: 0,
      bytes: 80,
    });
    expect(origin.peak()).toBeLessThanOrEqual(3);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('waits out a 503 with Retry-After and asks again, then counts a still-busy one as an error', async () => {
    const origin = await serve((path, hit): { status: number; headers: Record<string, string> } =>
      path === '/img/0' && hit === 1
        ? { status: 503, headers: { 'retry-after': '0' } }
        : path === '/img/1'
          ? { status: 429, headers: { 'retry-after': '0' } }
          : { status: 200, headers: { 'x-nextjs-cache': 'MISS' } },
    );
    const summary = await runPrewarm(targets(3), {
      fetch: origin.fetch,
      concurrency: 2,
      retries: 2,
      maxRetryAfterMs: 10,
    });
    expect(origin.hits.get('/img/0')).toBe(2);
    expect(origin.hits.get('/img/1')).toBe(3);
    expect(summary).toMatchObject({ misses: 2, errors: 1, retries: 3 });
    expect(summary.failures).toEqual([
      { path: '/img/1', accept: 'image/webp', status: 429, message: 'answered 429' },
    ]);
  });

  it('counts a 4xx or a refused connection as an error, not a retry', async () => {
    const origin = await serve(() => ({ status: 400 }));
    // A port that was just free: nothing listens there, so the connection is really refused.
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const deadPort = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const refused: PrewarmFetch = async (t) => {
      const res = await request(`http://127.0.0.1:${deadPort}${t.path}`);
      return { status: res.statusCode, cache: undefined, retryAfter: undefined, bytes: 0 };
    };
    const summary = await runPrewarm(targets(2), {
      fetch: (t, s) => (t.path === '/img/0' ? origin.fetch(t, s) : refused(t, s)),
      concurrency: 1,
      retries: 3,
      maxRetryAfterMs: 10,
    });
    expect(summary).toMatchObject({ errors: 2, retries: 0 });
    expect(summary.failures.map((f) => f.message)).toEqual([
      'answered 400',
      expect.stringMatching(/ECONNREFUSED/),
    ]);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});
