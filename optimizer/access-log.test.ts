import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../lib/logger.ts';
import type { RunningServer } from '../lib/server.ts';
import { type FixtureUpstream, startFixtureUpstream } from '../test/support/fixture-upstream.ts';
import { makeSampleImages } from '../test/support/sample-images.ts';
import { MAX_LOGGED_URL } from './access-log.ts';
import { resolveOptimizerConfig } from './config.ts';
import { startOptimizer } from './server.ts';

// Access lines of a real optimizer (real sharp, real HTTP), captured from pino's destination.

type Line = Record<string, unknown>;
let upstream: FixtureUpstream;
const servers: RunningServer[] = [];

async function start(
  optimizer: Record<string, unknown> = {},
): Promise<{ server: RunningServer; lines: Line[] }> {
  const lines: Line[] = [];
  const logger = createLogger('test', 'info', {
    write: (chunk: string) => {
      lines.push(JSON.parse(chunk) as Line);
    },
  });
  const config = resolveOptimizerConfig({
    next: {
      imageOptimizer: { fallback: 'fallback', timeout: 5000, maxAttempts: 1 },
      images: { dangerouslyAllowLocalIP: true },
    },
    discovery: { apps: { fallback: upstream.url } },
    optimizer: { fetchTimeoutMs: 2000, ...optimizer },
  });
  const server = await startOptimizer(config, { host: '127.0.0.1', port: 0, logger });
  servers.push(server);
  return { server, lines };
}

async function get(server: RunningServer, path: string, headers: Record<string, string> = {}) {
  const res = await request(`${server.url}${path}`, { headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

/** The access lines of one request id, once onResponse (after the body went out) wrote them. */
async function accessLines(lines: Line[], reqId: string): Promise<Line[]> {
  await vi.waitFor(() => {
    expect(lines.some((line) => line.reqId === reqId)).toBe(true);
  });
  return lines.filter((line) => line.reqId === reqId);
}

const img = (url: string, w = 640, q = 75): string =>
  `/_next/image?url=${encodeURIComponent(url)}&w=${w}&q=${q}`;

beforeAll(async () => {
  upstream = await startFixtureUpstream(await makeSampleImages());
});
afterAll(async () => {
  for (const server of servers) await server.close();
  await upstream?.close();
});

describe('access log', () => {
  it('writes one info line per request: a MISS with its stage timings, then a HIT', async () => {
    const { server, lines } = await start();
    const miss = await get(server, img('/photo.jpg'), { 'x-request-id': 'req-miss-1' });
    expect(miss.status).toBe(200);
    const [missLine, ...moreMiss] = await accessLines(lines, 'req-miss-1');
    expect(moreMiss).toEqual([]);
    expect(missLine).toMatchObject({
      level: 30,
      msg: 'image request',
      method: 'GET',
      url: img('/photo.jpg'),
      status: 200,
      cache: 'MISS',
      bytes: miss.body.byteLength,
      contentType: 'image/jpeg',
    });
    for (const stage of ['queueMs', 'fetchMs', 'transformMs', 'totalMs'])
      expect(missLine?.[stage], stage).toBeTypeOf('number');

    const hit = await get(server, img('/photo.jpg'), { 'x-request-id': 'req-hit-1' });
    expect(hit.headers['x-nextjs-cache']).toBe('HIT');
    const [hitLine, ...moreHit] = await accessLines(lines, 'req-hit-1');
    expect(moreHit).toEqual([]);
    expect(hitLine).toMatchObject({ level: 30, status: 200, cache: 'HIT', bytes: hit.body.length });
    expect(hitLine).not.toHaveProperty('fetchMs');
    expect(hitLine).not.toHaveProperty('transformMs');
    expect(hitLine?.totalMs).toBeTypeOf('number');
    // Fastify's own request lines stay off: nothing but the access lines names these requests.
    expect(lines.filter((line) => 'req' in line || 'res' in line)).toEqual([]);
  });

  it('logs a 400 at info and a 5xx at error, with the url cut to its first characters', async () => {
    const { server, lines } = await start();
    const longUrl = `/${'a'.repeat(2000)}.jpg`;
    const bad = await get(server, img(longUrl, 1), { 'x-request-id': 'req-400' });
    expect(bad.status).toBe(400);
    const [badLine] = await accessLines(lines, 'req-400');
    expect(badLine).toMatchObject({
      level: 30,
      status: 400,
      cache: 'none',
      bytes: bad.body.length,
    });
    expect(badLine?.url).toBe(`${img(longUrl, 1).slice(0, MAX_LOGGED_URL)}…`);

    const failed = await get(server, img('/always-500.jpg'), { 'x-request-id': 'req-500' });
    expect(failed.status).toBe(500);
    const [failedLine, ...more] = await accessLines(lines, 'req-500');
    expect(more).toEqual([]);
    expect(failedLine).toMatchObject({ level: 50, status: 500, cache: 'none' });
    expect(failedLine).not.toHaveProperty('transformMs');
  });

  it('makes its own request id when X-Request-Id is missing or not a plain token', async () => {
    const { server, lines } = await start();
    await get(server, img('/photo.png'), { 'x-request-id': 'has spaces "and quotes"' });
    await vi.waitFor(() => expect(lines.some((line) => line.msg === 'image request')).toBe(true));
    const [line] = lines.filter((l) => l.msg === 'image request');
    expect(line?.reqId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('Server-Timing', () => {
  // W3C Server-Timing: metric *( ";" param ) separated by commas; dur in milliseconds.
  const entry = /^[a-z]+(;dur=\d+(\.\d+)?|;desc="[A-Za-z]+")*$/;
  const entries = (header: unknown): string[] => String(header).split(', ');

  it('is absent by default', async () => {
    const { server } = await start();
    const res = await get(server, img('/photo.webp'));
    expect(res.status).toBe(200);
    expect(res.headers['server-timing']).toBeUndefined();
  });

  it('with serverTiming: cache result and the stages that ran, well-formed', async () => {
    const { server } = await start({ serverTiming: true });
    const miss = await get(server, img('/photo.webp'));
    const missEntries = entries(miss.headers['server-timing']);
    for (const e of missEntries) expect(e).toMatch(entry);
    expect(missEntries.map((e) => e.split(';')[0])).toEqual([
      'cache',
      'queue',
      'fetch',
      'transform',
      'total',
    ]);
    expect(missEntries[0]).toBe('cache;desc="MISS"');

    const hit = await get(server, img('/photo.webp'));
    expect(entries(hit.headers['server-timing'])).toEqual([
      'cache;desc="HIT"',
      expect.stringMatching(/^total;dur=\d+(\.\d+)?$/),
    ]);
    const bad = await get(server, img('/photo.webp', 1));
    expect(bad.status).toBe(400);
    expect(entries(bad.headers['server-timing'])[0]).toBe('cache;desc="none"');
  });
});
