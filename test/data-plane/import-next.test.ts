import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ImageOptimizerSchema } from '../../api/image-optimizer.ts';
import { type FixtureUpstream, startFixtureUpstream } from '../support/fixture-upstream.ts';
import { buildNextApp } from '../support/next-build.ts';
import { type CliProcess, runCli } from '../support/processes.ts';
import { makeSampleImages, type SampleImages } from '../support/sample-images.ts';

// A real `next build` (Next 16) of an app whose next.config sets every images key to a
// non-default value, then `next-image import-next` on its output and an optimizer pointed at
// it with next.imagesFrom: the allowlist Next enforces is the one the optimizer enforces.

const NEXT_CONFIG = `import { fileURLToPath } from 'node:url';
const root = fileURLToPath(new URL('.', import.meta.url));
export default {
  outputFileTracingRoot: root,
  basePath: '/shop',
  assetPrefix: 'https://static.example.com',
  images: {
    remotePatterns: [
      { protocol: 'http', hostname: '127.0.0.1', pathname: '/allowed/**' },
      new URL('https://*.assets.example.org/photos/**'),
    ],
    localPatterns: [{ pathname: '/static/**', search: '' }],
    deviceSizes: [320, 640, 1280],
    imageSizes: [16, 48],
    qualities: [50, 80],
    formats: ['image/avif', 'image/webp'],
    minimumCacheTTL: 3600,
    dangerouslyAllowSVG: true,
    contentSecurityPolicy: "default-src 'none'; sandbox;",
    contentDispositionType: 'inline',
    domains: ['legacy.example.net'],
    maximumRedirects: 1,
    unoptimized: true,
  },
};
`;

/** What import-next must print for NEXT_CONFIG: its keys, as Next's build normalised them. */
const EXPECTED_IMAGES = {
  deviceSizes: [320, 640, 1280],
  imageSizes: [16, 48],
  qualities: [50, 80],
  formats: ['image/avif', 'image/webp'],
  minimumCacheTTL: 3600,
  dangerouslyAllowSVG: true,
  contentSecurityPolicy: "default-src 'none'; sandbox;",
  contentDispositionType: 'inline',
  maximumRedirects: 1,
  remotePatterns: [
    { protocol: 'http', hostname: '127.0.0.1', pathname: '/allowed/**' },
    // new URL(…) as Next turns it into an object: empty port and search mean "none".
    {
      protocol: 'https',
      hostname: '*.assets.example.org',
      port: '',
      pathname: '/photos/**',
      search: '',
    },
    // Next adds the http(s) assetPrefix so static imports served from it may be optimized.
    { protocol: 'https', hostname: 'static.example.com', port: '' },
  ],
  // Without the /_next/static/media patterns Next appends (the optimizer appends them too).
  localPatterns: [{ pathname: '/static/**', search: '' }],
  domains: ['legacy.example.net'],
};

let app: string;
let dir: string;
let upstream: FixtureUpstream;
let images: SampleImages;
const started: CliProcess[] = [];

beforeAll(async () => {
  app = await buildNextApp({
    'package.json': '{"private": true}\n',
    'next.config.mjs': NEXT_CONFIG,
    'pages/index.js': "export default function Home() { return 'hi'; }\n",
  });
  dir = await mkdtemp(join(tmpdir(), 'import-next-'));
  images = await makeSampleImages();
  upstream = await startFixtureUpstream(images);
}, 300_000);
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  await upstream?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const proc = runCli(args);
  started.push(proc);
  const { code } = await proc.exited();
  return { code, out: proc.stdout(), err: proc.stderr() };
}

describe('next-image import-next on a real next build', () => {
  it('prints spec.images with every key translated, and warns what it cannot carry', async () => {
    const { code, out, err } = await cli(['import-next', app]);
    expect(err.split('\n').filter(Boolean).sort()).toEqual(
      [
        'images.unoptimized is true: next/image links the original files and never calls /_next/image, so the optimizer gets no requests until you remove it',
        'images.domains is deprecated since Next.js 14; it is kept, but remotePatterns ({hostname: "…"}) says the same more precisely',
        `images.path is "/shop/_next/image" (basePath /shop): next/image requests go there; route that path to the optimizer's /_next/image (docs/nextjs.md)`,
      ]
        .map((w) => `next-image import-next: warning: ${w}`)
        .sort(),
    );
    expect(code).toBe(0);
    expect(parse(out)).toEqual({ images: EXPECTED_IMAGES });
  });

  it('prints a whole ImageOptimizer the schema accepts with --name, as JSON with -o json', async () => {
    const { code, out } = await cli([
      'import-next',
      join(app, '.next'),
      '--name',
      'shop',
      '-n',
      'web',
      '--fallback',
      'storefront',
      '-o',
      'json',
    ]);
    expect(code).toBe(0);
    const cr = JSON.parse(out) as unknown;
    expect(cr).toEqual({
      apiVersion: 'nextimage.dev/v1alpha1',
      kind: 'ImageOptimizer',
      metadata: { name: 'shop', namespace: 'web' },
      spec: { imageOptimizer: { fallback: 'storefront' }, images: EXPECTED_IMAGES },
    });
    expect(ImageOptimizerSchema.safeParse(cr).success).toBe(true);
  });

  it('tells the user to run next build where there is no build, exit 2', async () => {
    const { code, err } = await cli(['import-next', dir]);
    expect(code).toBe(2);
    expect(err).toContain('no Next.js build here (no .next/required-server-files.json)');
    expect(err).toContain('run `next build` in it first');
  });

  it('rejects unknown flags with the nearest one, and -n without --name, exit 2', async () => {
    const { code, err } = await cli(['import-next', app, '--formt', 'json']);
    expect(code).toBe(2);
    expect(err).toContain('unknown flag --formt; did you mean --format?');
    const orphan = await cli(['import-next', app, '-n', 'web']);
    expect(orphan.code).toBe(2);
    expect(orphan.err).toContain(
      '--namespace and --fallback shape a whole ImageOptimizer: add --name',
    );
  });
});

describe('next-image optimizer with next.imagesFrom', () => {
  it("answers /_next/image with the build's allowlist, sizes and formats", async () => {
    upstream.route('/allowed/photo.jpg', (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(images.jpeg);
    });
    const file = join(dir, 'optimizer.json');
    await writeFile(
      file,
      JSON.stringify({
        server: { hostname: '127.0.0.1', port: 0 },
        next: {
          imageOptimizer: { fallback: upstream.url },
          imagesFrom: relative(dir, app),
          // Explicit keys win over imported ones, key by key.
          images: { dangerouslyAllowLocalIP: true, minimumCacheTTL: 60 },
        },
      }),
    );
    const proc = runCli(['optimizer', '--config', file]);
    started.push(proc);
    const [, base] = await proc.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
    const get = async (url: string, w = 640, q = 80) => {
      const res = await request(
        `${base}/_next/image?url=${encodeURIComponent(url)}&w=${w}&q=${q}`,
        { headers: { accept: 'image/avif,image/webp,*/*' } },
      );
      const body = await res.body.text();
      return { status: res.statusCode, headers: res.headers, body };
    };

    const allowed = await get(`${upstream.url}/allowed/photo.jpg`);
    expect(allowed.status).toBe(200);
    expect(allowed.headers['content-type']).toBe('image/avif');
    expect(allowed.headers['content-disposition']).toMatch(/^inline;/);
    expect(allowed.headers['cache-control']).toContain('max-age=60,');

    expect(await get(`${upstream.url}/photo.jpg`)).toMatchObject({
      status: 400,
      body: '"url" parameter is not allowed',
    });
    expect(await get('/photo.jpg')).toMatchObject({
      status: 400,
      body: '"url" parameter is not allowed',
    });
    expect(await get(`${upstream.url}/allowed/photo.jpg`, 1080)).toMatchObject({
      status: 400,
      body: '"w" parameter (width) of 1080 is not allowed',
    });
    expect(await get(`${upstream.url}/allowed/photo.jpg`, 640, 75)).toMatchObject({
      status: 400,
      body: '"q" parameter (quality) of 75 is not allowed',
    });
    expect(proc.stdout()).toContain('next.images.minimumCacheTTL is set in');
    expect(proc.stdout()).toContain('images.unoptimized is true');
  });

  it('names next.imagesFrom when it points where there is no build, exit 2', async () => {
    const file = join(dir, 'broken.json');
    await writeFile(
      file,
      JSON.stringify({ next: { imageOptimizer: { fallback: upstream.url }, imagesFrom: '.' } }),
    );
    const { code, err } = await cli(['optimizer', '--config', file]);
    expect(code).toBe(2);
    expect(err).toContain('$.next.imagesFrom: no Next.js build here');
  });
});

describe('next-image dev --images-from', () => {
  it("serves with the build's sizes, qualities and formats, and prints examples they allow", async () => {
    const dev = runCli(['dev', '--port', '0', '--images-from', app]);
    started.push(dev);
    const [, absolute] = await dev.waitFor(/'(http:\/\/[^']+_next\/image\?url=http[^']+)'/, 30_000);
    // Next's default 1080 and 75 are not allowed by this build: the banner uses its own.
    expect(absolute).toMatch(/&w=1280&q=50$/);
    const ok = await request(absolute ?? '', { headers: { accept: 'image/avif,image/webp' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toBe('image/avif');
    await ok.body.dump();
    const wide = await request((absolute ?? '').replace('w=1280', 'w=1080'));
    expect(wide.statusCode).toBe(400);
    expect(await wide.body.text()).toBe('"w" parameter (width) of 1080 is not allowed');
    expect(dev.stderr()).toContain('next-image dev: warning: images.unoptimized is true');
  });
});
