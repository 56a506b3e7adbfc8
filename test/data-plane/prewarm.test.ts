import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureUpstream, startFixtureUpstream } from '../support/fixture-upstream.ts';
import { type Fleet, fleetMetric, startFleet } from '../support/fleet.ts';
import { type CliProcess, runCli } from '../support/processes.ts';
import { type RedisServer, startRedis } from '../support/redis-server.ts';
import { makeSampleImages } from '../support/sample-images.ts';

// `next-image prewarm` and POST /__admin/prewarm against real optimizer processes sharing a
// real redis-server: after a prewarm through one replica, every replica answers HIT.
const TOKEN = 'prewarm-test-purge-token-0123456789';
/** Each test starts several CLI processes (a fleet, prewarm runs): slow on a busy 2-core machine. */
const SLOW = 180_000;
let redis: RedisServer;
let upstream: FixtureUpstream;
let dir: string;
let prefixes = 0;
const fleets: Fleet[] = [];
const procs: CliProcess[] = [];

beforeAll(async () => {
  const images = await makeSampleImages();
  [redis, upstream, dir] = await Promise.all([
    startRedis(),
    startFixtureUpstream(images),
    mkdtemp(join(tmpdir(), 'prewarm-')),
  ]);
});
afterEach(async () => {
  await Promise.all([
    ...fleets.splice(0).map((f) => f.stop()),
    ...procs.splice(0).map((p) => p.stop()),
  ]);
});
afterAll(async () => {
  await Promise.all([redis?.close(), upstream?.close(), rm(dir, { recursive: true, force: true })]);
});

async function fleet(): Promise<Fleet> {
  const started = await startFleet(3, {
    next: {
      imageOptimizer: {
        fallback: upstream.url,
        storage: { type: 'redis', url: redis.url, prefix: `prewarm${++prefixes}:` },
      },
      images: { formats: ['image/avif', 'image/webp'] },
    },
    optimizer: { purgeToken: TOKEN, memoryCacheBytes: 16 * 1024 * 1024 },
  });
  fleets.push(started);
  await expect
    .poll(() => fleetMetric(started.replicas, 'next_image_storage_up'), { timeout: 30_000 })
    .toBe(3);
  return started;
}

/** Runs the CLI to its end; returns exit code and output. */
async function prewarm(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = runCli(['prewarm', ...args]);
  procs.push(proc);
  const { code } = await proc.exited();
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

async function cacheOf(base: string, path: string, accept: string): Promise<string | undefined> {
  const res = await request(`${base}${path}`, { headers: { accept } });
  await res.body.dump();
  expect(res.statusCode, path).toBe(200);
  return res.headers['x-nextjs-cache'] as string | undefined;
}

/** The dry-run's "Accept<TAB>URL" lines as [accept, path]. */
function plan(stdout: string, base: string): Array<[string, string]> {
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [accept = '', url = ''] = line.split('\t');
      return [accept, url.slice(base.length)];
    });
}

describe('next-image prewarm', () => {
  it(
    'fills the shared cache through one replica so that every replica then answers HIT',
    async () => {
      const { replicas } = await fleet();
      const [first, ...others] = replicas.map((r) => r.url) as [string, ...string[]];
      const list = join(dir, 'sources.txt');
      await writeFile(list, '# launch images\n/photo.jpg\n\n/photo.png\n');
      const args = [
        '--gateway',
        first,
        '--urls',
        list,
        '--widths',
        '64,640',
        '--accept',
        'image/webp,image/avif',
      ];

      const dry = await prewarm([...args, '--dry-run']);
      expect(dry.code).toBe(0);
      const targets = plan(dry.stdout, first);
      expect(targets).toHaveLength(2 * 2 * 2);
      expect(targets[0]).toEqual(['image/webp', '/_next/image?url=%2Fphoto.jpg&w=64&q=75']);

      const run = await prewarm([...args, '--json']);
      expect(run.stderr).toMatch(/prewarm: 8\/8/);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ total: 8, misses: 8, hits: 0, errors: 0 });
      expect(upstream.hits.get('/photo.jpg')).toBeGreaterThanOrEqual(1);

      for (const base of [first, ...others])
        for (const [accept, path] of targets) expect(await cacheOf(base, path, accept)).toBe('HIT');

      const again = await prewarm(args);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(
        /prewarmed 8 URLs in [\d.]+ s: 8 hits, 0 misses, 0 stale, 0 errors/,
      );
    },
    SLOW,
  );

  it(
    'requests every width of the config by default, and exits 1 with the failures listed',
    async () => {
      const { replicas } = await fleet();
      const base = replicas[0]?.url ?? '';
      const config = join(dir, 'optimizer.json');
      await writeFile(
        config,
        JSON.stringify({
          next: { images: { deviceSizes: [800, 1600], imageSizes: [48], qualities: [60, 80] } },
        }),
      );
      const list = join(dir, 'two.txt');
      await writeFile(list, '/photo.jpg\n/missing.png\n');
      const dry = await prewarm(['-g', base, '-u', list, '-c', config, '--dry-run']);
      expect(plan(dry.stdout, base).map(([, path]) => path)).toEqual([
        '/_next/image?url=%2Fphoto.jpg&w=48&q=80',
        '/_next/image?url=%2Fphoto.jpg&w=800&q=80',
        '/_next/image?url=%2Fphoto.jpg&w=1600&q=80',
        '/_next/image?url=%2Fmissing.png&w=48&q=80',
        '/_next/image?url=%2Fmissing.png&w=800&q=80',
        '/_next/image?url=%2Fmissing.png&w=1600&q=80',
      ]);
      // This fleet allows only its own defaults (q=75); ask what it allows, one width.
      const run = await prewarm(['-g', base, '-u', list, '--widths', '640']);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/1 misses, 0 stale, 1 errors/);
      expect(run.stdout).toContain(
        'error: 404 answered 404 — /_next/image?url=%2Fmissing.png&w=640&q=75',
      );
    },
    SLOW,
  );

  it(
    'says what to change for bad flags and bad source lines',
    async () => {
      const list = join(dir, 'bad.txt');
      await writeFile(list, '/ok.jpg\nphotos/relative.jpg\n');
      const both = await prewarm([
        '--gateway',
        'http://127.0.0.1:1',
        '--urls',
        list,
        '--sitemap',
        '/s.xml',
      ]);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('pass exactly one of --urls <file|-> and --sitemap <url>');
      const bad = await prewarm(['--gateway', 'http://127.0.0.1:1', '--urls', list]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(
        '"photos/relative.jpg" is neither a /relative path nor an http(s) URL',
      );
      await writeFile(list, '/ok.jpg\n');
      const widths = await prewarm([
        '--gateway',
        'http://127.0.0.1:1',
        '--urls',
        list,
        '--widths',
        '640,big',
      ]);
      expect(widths.stderr).toContain(
        '--widths takes comma-separated whole numbers from 1 to 10000',
      );
      const typo = await prewarm(['--gatway', 'http://127.0.0.1:1']);
      expect(typo.stderr).toContain('did you mean --gateway?');
    },
    SLOW,
  );

  it(
    'reads the sitemap and its pages through the gateway and warms what their srcsets name',
    async () => {
      const page = (n: number): string =>
        `<html><body><img srcSet="/_next/image?url=%2Fphoto.jpg&amp;w=640&amp;q=75 1x, /_next/image?url=%2Fphoto.jpg&amp;w=${1080 + n * 120}&amp;q=75 2x" src="/_next/image?url=%2Fphoto.jpg&amp;w=${1080 + n * 120}&amp;q=75"></body></html>`;
      upstream.route('/sitemap.xml', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(
          '<sitemapindex><sitemap><loc>https://shop.example/sitemap-products.xml</loc></sitemap></sitemapindex>',
        );
      });
      upstream.route('/sitemap-products.xml', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(
          '<urlset><url><loc>https://shop.example/p/1</loc></url><url><loc>https://shop.example/p/2</loc></url></urlset>',
        );
      });
      upstream.route('/p/1', (_req, res) => res.end(page(0)));
      upstream.route('/p/2', (_req, res) => res.end(page(1)));
      const dev = runCli(['dev', '--port', '0', '--fallback', upstream.url]);
      procs.push(dev);
      const [, gateway = ''] = await dev.waitFor(/gateway\s+(http:\/\/127\.0\.0\.1:\d+)/, 30_000);

      const run = await prewarm(['--gateway', gateway, '--sitemap', '/sitemap.xml', '--json']);
      expect(run.code).toBe(0);
      // 3 distinct URLs (w=640 on both pages, 1080, 1200) × the dev config's one format.
      expect(JSON.parse(run.stdout)).toMatchObject({ total: 3, misses: 3, errors: 0 });
      for (const w of [640, 1080, 1200])
        expect(
          await cacheOf(gateway, `/_next/image?url=%2Fphoto.jpg&w=${w}&q=75`, 'image/webp'),
        ).toBe('HIT');
    },
    SLOW,
  );
});

describe('POST /__admin/prewarm', () => {
  it(
    'runs a job on one replica, reports its progress, and leaves every replica with HITs',
    async () => {
      const { replicas } = await fleet();
      const [one, two] = replicas.map((r) => r.url) as [string, string];
      const unauthorized = await request(`${one}/__admin/prewarm`, { method: 'POST', body: '{}' });
      await unauthorized.body.dump();
      expect(unauthorized.statusCode).toBe(401);

      const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
      const bad = await request(`${one}/__admin/prewarm`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ urls: ['photo.jpg'] }),
      });
      expect(bad.statusCode).toBe(400);
      expect(((await bad.body.json()) as { message: string }).message).toContain('not: photo.jpg');

      const started = await request(`${one}/__admin/prewarm`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ urls: ['/photo.webp'], widths: [128, 256] }),
      });
      expect(started.statusCode).toBe(202);
      const { id, total } = (await started.body.json()) as { id: string; total: number };
      expect(total).toBe(4); // 2 widths × avif, webp
      expect(started.headers.location).toBe(`/__admin/prewarm/${id}`);

      await expect
        .poll(
          async () => {
            const res = await request(`${one}/__admin/prewarm/${id}`, { headers: auth });
            return ((await res.body.json()) as { state: string }).state;
          },
          { timeout: 30_000 },
        )
        .toBe('done');
      const status = await request(`${one}/__admin/prewarm/${id}`, { headers: auth });
      expect(await status.body.json()).toMatchObject({
        id,
        state: 'done',
        total: 4,
        done: 4,
        misses: 4,
        errors: 0,
      });
      for (const w of [128, 256])
        for (const accept of ['image/avif', 'image/webp'])
          expect(await cacheOf(two, `/_next/image?url=%2Fphoto.webp&w=${w}&q=75`, accept)).toBe(
            'HIT',
          );

      const unknown = await request(`${two}/__admin/prewarm/${id}`, { headers: auth });
      await unknown.body.dump();
      expect(unknown.statusCode).toBe(404);
    },
    SLOW,
  );
});
