import { once } from 'node:events';
import { connect } from 'node:net';
import sharp from 'sharp';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../lib/logger.ts';
import type { RunningServer } from '../lib/server.ts';
import { type FixtureUpstream, startFixtureUpstream } from '../test/support/fixture-upstream.ts';
import { freePort } from '../test/support/free-port.ts';
import { makeSampleImages, type SampleImages } from '../test/support/sample-images.ts';
import { resolveOptimizerConfig } from './config.ts';
import { startOptimizer } from './server.ts';

let images: SampleImages;
let upstream: FixtureUpstream;
let optimizer: RunningServer;
const logger = createLogger('test', 'silent');

async function start(
  extra: {
    images?: Record<string, unknown>;
    imageOptimizer?: Record<string, unknown>;
    optimizer?: Record<string, unknown>;
  } = {},
): Promise<RunningServer> {
  const config = resolveOptimizerConfig({
    next: {
      imageOptimizer: { fallback: 'fallback', timeout: 5000, ...extra.imageOptimizer },
      images: {
        dangerouslyAllowLocalIP: true,
        remotePatterns: [{ hostname: '127.0.0.1' }],
        ...extra.images,
      },
    },
    discovery: { apps: { fallback: upstream.url } },
    optimizer: { fetchTimeoutMs: 2000, ...extra.optimizer },
  });
  return startOptimizer(config, { host: '127.0.0.1', port: 0, logger });
}

async function get(
  path: string,
  headers: Record<string, string> = {},
  server = optimizer,
  method: 'GET' | 'HEAD' | 'POST' | 'DELETE' = 'GET',
) {
  const res = await request(`${server.url}${path}`, { method, headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body, text: body.toString('utf8') };
}

const img = (url: string, w = 640, q = 75): string =>
  `/_next/image?url=${encodeURIComponent(url)}&w=${w}&q=${q}`;

beforeAll(async () => {
  images = await makeSampleImages();
  upstream = await startFixtureUpstream(images);
  optimizer = await start();
});
afterAll(async () => {
  await optimizer?.close();
  await upstream?.close();
});

describe('/_next/image routing and errors (statements 1–4)', () => {
  it('redirects the trailing-slash form with 308 and 404s longer paths', async () => {
    const res = await get('/_next/image/?url=/photo.jpg&w=640&q=75');
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe('/_next/image?url=/photo.jpg&w=640&q=75');
    expect((await get('/_next/image/foo')).status).toBe(404);
    expect((await get('/_next/imagefoo')).status).toBe(404);
  });

  it('answers GET, POST and DELETE with the image and HEAD with headers only', async () => {
    for (const method of ['GET', 'POST', 'DELETE'] as const) {
      const res = await get(img('/photo.jpg'), {}, optimizer, method);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('image/jpeg');
    }
    const head = await get(img('/photo.jpg'), {}, optimizer, 'HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    expect(head.body.length).toBe(0);
  });

  // Routing mode ingress cannot match on method, so every method reaches the optimizer.
  it('answers PUT, PATCH and a POST with a body as Next.js does: the image, the body ignored', async () => {
    for (const [method, body, type] of [
      ['POST', '{"a":1}', 'application/json'],
      ['POST', 'a=1', 'application/x-www-form-urlencoded'],
      ['PUT', 'x'.repeat(64 * 1024), 'application/octet-stream'],
      ['PATCH', undefined, undefined],
    ] as const) {
      const res = await request(`${optimizer.url}${img('/photo.jpg')}`, {
        method,
        body,
        headers: type === undefined ? {} : { 'content-type': type },
      });
      await res.body.arrayBuffer();
      expect(res.statusCode, method).toBe(200);
      expect(res.headers['content-type'], method).toBe('image/jpeg');
    }
  });

  it('sends validation errors as plain chunked text with no Content-Type', async () => {
    const res = await get('/_next/image?url=/photo.jpg&w=641&q=75');
    expect(res.status).toBe(400);
    expect(res.text).toBe('"w" parameter (width) of 641 is not allowed');
    expect(res.headers['content-type']).toBeUndefined();
    expect(res.headers['transfer-encoding']).toBe('chunked');
  });
});

describe('content negotiation and output (statements 16–23)', () => {
  it.each([
    ['/photo.jpg', 'image/webp', 'image/webp'],
    ['/photo.jpg', '*/*', 'image/jpeg'],
    ['/photo.png', 'image/avif', 'image/png'],
    ['/photo.webp', '*/*', 'image/jpeg'],
    ['/photo.avif', '', 'image/jpeg'],
    ['/static.gif', '', 'image/gif'],
    ['/png-as-html', '', 'image/png'],
  ])('%s with Accept "%s" → %s', async (source, accept, type) => {
    const res = await get(img(source), accept ? { accept } : {});
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expect((await sharp(res.body).metadata()).format).toBe(type.split('/')[1]);
    expect(res.headers.vary).toBe('Accept');
  });

  it('resizes without enlargement and applies EXIF orientation', async () => {
    const wide = await get(img('/photo.jpg', 3840));
    expect((await sharp(wide.body).metadata()).width).toBe(1200);
    const rotated = await get(img('/rotated.jpg', 640));
    const meta = await sharp(rotated.body).metadata();
    expect([meta.width, meta.height]).toEqual([640, 960]);
    expect(meta.orientation).toBeUndefined();
  });

  it('serves animated images and bypass types unchanged', async () => {
    const animated = await get(img('/animated.gif'), { accept: 'image/webp' });
    expect(animated.headers['content-type']).toBe('image/gif');
    expect(animated.body.equals(images.animatedGif)).toBe(true);
    expect(animated.headers.etag).toBe(Buffer.from('W/"c2-anim"').toString('base64url'));
    const ico = await get(img('/favicon.ico'), { accept: 'image/webp' });
    expect(ico.headers['content-type']).toBe('image/x-icon');
    expect(ico.headers.vary).toBe('Accept, Accept-Encoding');
    expect(ico.body.equals(images.ico)).toBe(true);
  });

  it.each([
    ['/page.html', 400, "The requested resource isn't a valid image."],
    ['/logo.svg', 400, '"url" parameter is valid but image type is not allowed'],
    ['/empty.png', 400, '"url" parameter is valid but internal response is invalid'],
    ['/missing.png', 404, '"url" parameter is valid but internal response is invalid'],
  ])('%s → %i %s', async (source, status, text) => {
    const res = await get(img(source));
    expect(res.status).toBe(status);
    expect(res.text).toBe(text);
  });

  it('serves SVG byte for byte when dangerouslyAllowSVG is set', async () => {
    const server = await start({ images: { dangerouslyAllowSVG: true } });
    try {
      const res = await get(img('/logo.svg'), { accept: 'image/webp' }, server);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('image/svg+xml');
      expect(res.body.equals(images.svg)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('refuses to decode a pixel bomb and serves its original bytes, as for any sharp failure', async () => {
    const res = await get(img('/bomb.png'), { accept: 'image/webp' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.body.equals(images.pixelBomb)).toBe(true);
    expect(res.headers['cache-control']).toBe('public, max-age=14400, must-revalidate');
  });
});

describe('headers, caching and conditional requests (statements 35–43)', () => {
  it('sends exactly Next.js’s header set and MISS then HIT', async () => {
    const first = await get(img('/photo.jpg', 750), { accept: 'image/webp' });
    expect(first.status).toBe(200);
    expect(first.headers['x-nextjs-cache']).toBe('MISS');
    expect(first.headers['cache-control']).toBe('public, max-age=14400, must-revalidate');
    expect(first.headers['content-disposition']).toBe('attachment; filename="photo.webp"');
    expect(first.headers['content-security-policy']).toBe(
      "script-src 'none'; frame-src 'none'; sandbox;",
    );
    expect(first.headers.etag).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Number(first.headers['content-length'])).toBe(first.body.length);
    const second = await get(img('/photo.jpg', 750), { accept: 'image/webp' });
    expect(second.headers['x-nextjs-cache']).toBe('HIT');
    expect(second.headers.etag).toBe(first.headers.etag);
  });

  it('answers If-None-Match with 304 carrying only Vary, Cache-Control and ETag', async () => {
    const first = await get(img('/photo.jpg', 828));
    const etag = String(first.headers.etag);
    const res = await get(img('/photo.jpg', 828), { 'if-none-match': etag });
    expect(res.status).toBe(304);
    expect(res.body.length).toBe(0);
    expect(res.headers.etag).toBe(etag);
    expect(res.headers['content-type']).toBeUndefined();
    expect(res.headers['x-nextjs-cache']).toBeUndefined();
    expect((await get(img('/photo.jpg', 828), { 'if-none-match': `"${etag}"` })).status).toBe(200);
  });

  it('shares one job between 50 concurrent identical requests', async () => {
    const before = upstream.hits.get('/photo.png') ?? 0;
    const results = await Promise.all(
      Array.from({ length: 50 }, () => get(img('/photo.png', 1080), { accept: 'image/webp' })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => r.headers.etag)).size).toBe(1);
    expect((upstream.hits.get('/photo.png') ?? 0) - before).toBe(1);
    const metrics = await get('/metrics');
    expect(metrics.text).toMatch(/next_image_transforms_total\{outcome="optimized"\} \d+/);
    // The transform child's stages, as it measured them (wall histogram, CPU counter).
    for (const stage of ['receive', 'sharp', 'reply']) {
      expect(metrics.text).toMatch(
        new RegExp(`next_image_transform_stage_seconds_count\\{stage="${stage}"\\} [1-9]`),
      );
      expect(metrics.text).toMatch(
        new RegExp(`next_image_transform_stage_cpu_seconds_total\\{stage="${stage}"\\} \\d`),
      );
    }
  });

  it('serves STALE after expiry, revalidates once in the background, then HIT', async () => {
    const server = await start({ images: { minimumCacheTTL: 0 } });
    try {
      upstream.route('/short.jpg', (_req, res) => {
        res.writeHead(200, { 'cache-control': 'max-age=0' });
        res.end(images.jpeg);
      });
      expect((await get(img('/short.jpg'), {}, server)).headers['x-nextjs-cache']).toBe('MISS');
      await new Promise((r) => setTimeout(r, 20));
      const stale = await get(img('/short.jpg'), {}, server);
      expect(stale.headers['x-nextjs-cache']).toBe('STALE');
      await expect.poll(() => upstream.hits.get('/short.jpg')).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('caps an absurd upstream max-age at a year and never sends exponent notation', async () => {
    for (const [path, header] of [
      ['/forever.jpg', 'public, max-age=1000000000000000000000000000000'],
      ['/exponent.jpg', 'public, max-age=1e30'],
    ] as const) {
      upstream.route(path, (_req, res) => {
        res.writeHead(200, { 'cache-control': header });
        res.end(images.jpeg);
      });
    }
    const forever = await get(img('/forever.jpg'));
    expect(forever.headers['cache-control']).toBe('public, max-age=31536000, must-revalidate');
    // Next reads `1e30` with parseInt, as 1: minimumCacheTTL (14400) wins.
    const exponent = await get(img('/exponent.jpg'));
    expect(exponent.headers['cache-control']).toBe('public, max-age=14400, must-revalidate');
  });

  it('uses the upstream max-age when larger than minimumCacheTTL', async () => {
    const server = await start({ images: { minimumCacheTTL: 60 } });
    try {
      const res = await get(img('/photo.jpg', 1200), {}, server);
      expect(res.headers['cache-control']).toBe('public, max-age=3600, must-revalidate');
    } finally {
      await server.close();
    }
  });
});

describe('upstream failures, retries and the timeout budget', () => {
  it('retries 500 twice then succeeds, and never retries a 404', async () => {
    const res = await get(img('/flaky.jpg'));
    expect(res.status).toBe(200);
    expect(upstream.hits.get('/flaky.jpg')).toBe(3);
    await get(img('/missing.png', 1080));
    expect(upstream.hits.get('/missing.png')).toBe(2); // one per distinct request above, no retries
  });

  it('answers 500 after maxAttempts failures', async () => {
    const res = await get(img('/always-500.jpg'));
    expect(res.status).toBe(500);
    expect(res.text).toBe('"url" parameter is valid but internal response is invalid');
    expect(upstream.hits.get('/always-500.jpg')).toBe(3);
  });

  it('answers 504 when the job budget runs out and hangs up on the upstream', async () => {
    const server = await start({ imageOptimizer: { timeout: 800, maxAttempts: 1 } });
    try {
      const closedBefore = upstream.closedSockets();
      const res = await get(img('/hang.jpg'), {}, server);
      expect(res.status).toBe(504);
      expect(res.text).toBe('"url" parameter is valid but upstream response timed out');
      await expect.poll(() => upstream.closedSockets()).toBeGreaterThan(closedBefore);
    } finally {
      await server.close();
    }
  });

  it('decodes gzip and follows redirects for absolute urls', async () => {
    const gz = await get(img(`${upstream.url}/gzip.jpg`));
    expect(gz.status).toBe(200);
    const redirected = await get(img(`${upstream.url}/redirect-2`));
    expect(redirected.status).toBe(200);
    const tooMany = await get(img(`${upstream.url}/redirect-4`));
    expect(tooMany.status).toBe(508);
  });

  it('refuses absolute urls to loopback unless dangerouslyAllowLocalIP', async () => {
    const server = await start({ images: { dangerouslyAllowLocalIP: false } });
    try {
      const res = await get(img(`${upstream.url}/photo.jpg`), {}, server);
      expect(res.status).toBe(400);
      expect(res.text).toBe('"url" parameter is not allowed');
    } finally {
      await server.close();
    }
  });

  it('answers 413 for a body over maximumResponseBody', async () => {
    const server = await start({ images: { maximumResponseBody: 1_000_000 } });
    try {
      const res = await get(img('/big.jpg'), {}, server);
      expect(res.status).toBe(413);
      expect(res.text).toBe('"url" parameter is valid but internal response is invalid');
    } finally {
      await server.close();
    }
  });

  it('forwards no client headers to the fallback', async () => {
    await get(img('/photo.jpg', 1920), { cookie: 'session=secret', authorization: 'Bearer x' });
    const seen = upstream.lastHeaders.get('/photo.jpg');
    expect(seen?.cookie).toBeUndefined();
    expect(seen?.authorization).toBeUndefined();
  });
});

describe('local url normalisation (as Next 16)', () => {
  it('answers /\\x/allowed/… as Next does, 500 "internal response is invalid", without fetching it', async () => {
    const server = await start({ images: { localPatterns: [{ pathname: '/allowed/**' }] } });
    try {
      // A server that reads `//x/allowed/a.png` as WHATWG URL does would serve /allowed/a.png.
      upstream.route('/allowed/a.png', (_req, res) => res.end(images.jpeg));
      const res = await get(img('/\\x/allowed/a.png'), {}, server);
      expect(res.status).toBe(500);
      expect(res.text).toBe('"url" parameter is valid but internal response is invalid');
      expect(upstream.hits.get('/allowed/a.png')).toBeUndefined();
      // The same url with a bad width is a 400 first: the check is the fetch's, after validation.
      expect((await get(img('/\\x/allowed/a.png', 641), {}, server)).status).toBe(400);
      expect((await get(img('/allowed/a.png'), {}, server)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('load shedding', () => {
  it('answers 503 with Retry-After when the transform queue is full', async () => {
    const server = await start({ optimizer: { concurrency: 1, queueSize: 0 } });
    try {
      const widths = [640, 750, 828, 1080, 1200, 1920];
      const results = await Promise.all(
        widths.map((w) => get(img('/photo.png', w), { accept: 'image/webp' }, server)),
      );
      const shed = results.filter((r) => r.status === 503);
      expect(shed.length).toBeGreaterThan(0);
      expect(shed[0]?.headers['retry-after']).toMatch(/^\d+$/);
      expect(results.filter((r) => r.status === 200).length).toBeGreaterThan(0);
      // A shed request is not cached as a failure: asking again later succeeds.
      const again = await get(
        img('/photo.png', widths[results.findIndex((r) => r.status === 503)]),
        { accept: 'image/webp' },
        server,
      );
      expect(again.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('Retry-After on every 429 and 503', () => {
  it.each([429, 503])(
    'passes an upstream %i on, as Next does, with Retry-After',
    async (status) => {
      upstream.route(`/busy-${status}.png`, (_req, res) => {
        res.writeHead(status);
        res.end('busy');
      });
      const res = await get(img(`/busy-${status}.png`));
      expect(res.status).toBe(status);
      expect(res.text).toBe('"url" parameter is valid but internal response is invalid');
      expect(res.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    },
  );

  it('answers /readyz 503 with Retry-After while required storage is down', async () => {
    const port = await freePort();
    const server = await start({
      imageOptimizer: { storage: { type: 'redis', url: `redis://127.0.0.1:${port}` } },
      optimizer: { readyRequiresStorage: true },
    });
    try {
      const res = await get('/readyz', {}, server);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    } finally {
      await server.close();
    }
  });

  it('sheds a request that arrives while shutting down with 503 and Retry-After', async () => {
    const server = await start();
    const port = Number(new URL(server.url).port);
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    // Headers not yet finished: the connection is busy, so the close waits for it instead of
    // dropping it as idle...
    socket.write(`GET ${img('/photo.jpg')} HTTP/1.1\r\nHost: optimizer\r\n`);
    // ...once the server has read them, which an answer on another connection proves.
    expect((await get('/healthz', {}, server)).status).toBe(200);
    const closed = server.close();
    // New connections are refused once the close is under way: the request arrives now.
    await expect.poll(() => refusesConnections(port)).toBe(true);
    let response = '';
    socket.on('data', (chunk: Buffer) => {
      response += chunk.toString('latin1');
    });
    const ended = once(socket, 'close');
    socket.write('\r\n');
    await ended;
    await closed;
    expect(response).toMatch(/^HTTP\/1\.1 503 /);
    expect(response).toMatch(/\r\nretry-after: [1-9]\d*\r\n/i);
  });
});

/** True when a new TCP connection to `port` on loopback is refused. */
function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(port, '127.0.0.1');
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', () => resolve(true));
  });
}

describe('health and metrics', () => {
  it('answers /healthz, /readyz and /metrics', async () => {
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
    const metrics = await get('/metrics');
    expect(metrics.text).toContain('next_image_requests_total');
    expect(metrics.text).toContain('next_image_cache_total{result="HIT"}');
    expect(metrics.text).toContain('next_image_transform_queue_depth');
  });

  it('counts a miss in next_image_jobs_in_flight while its fetch is held, and not after', async () => {
    const arrived = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    upstream.route('/held.jpg', (_req, res) => {
      arrived.resolve();
      void release.promise.then(() => {
        res.writeHead(200, { 'content-length': String(images.jpeg.length) });
        res.end(images.jpeg);
      });
    });
    const jobsInFlight = async (): Promise<number> => {
      const text = (await get('/metrics')).text;
      return Number(/^next_image_jobs_in_flight (\S+)$/m.exec(text)?.[1]);
    };
    const before = await jobsInFlight();
    const pending = get(img('/held.jpg'));
    await arrived.promise;
    expect(await jobsInFlight()).toBe(before + 1);
    release.resolve();
    expect((await pending).status).toBe(200);
    expect(await jobsInFlight()).toBe(before);
  });
});
