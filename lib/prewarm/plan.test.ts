import { describe, expect, it } from 'vitest';
import { ImagesConfigSchema } from '../../api/images-config.ts';
import {
  closestQuality,
  decodeEntities,
  imagePathsInHtml,
  invalidSources,
  loaderPath,
  parseSourceList,
  planSources,
  sitemapLocations,
} from './plan.ts';

const NEXT_DEFAULTS = ImagesConfigSchema.parse({});

describe('the URLs next/image would request', () => {
  // Expected strings written from next@16.4.6 shared/lib/image-loader.js (defaultLoader).
  it.each([
    ['/photos/a.jpg', 640, 75, undefined, '/_next/image?url=%2Fphotos%2Fa.jpg&w=640&q=75'],
    [
      'https://cdn.example.com/a b.png?v=1',
      1080,
      90,
      undefined,
      '/_next/image?url=https%3A%2F%2Fcdn.example.com%2Fa%20b.png%3Fv%3D1&w=1080&q=90',
    ],
    ['/a.jpg', 32, 75, 'dpl_123', '/_next/image?url=%2Fa.jpg&w=32&q=75&dpl=dpl_123'],
    [
      'https://x.test/a.jpg',
      32,
      75,
      'dpl_123',
      '/_next/image?url=https%3A%2F%2Fx.test%2Fa.jpg&w=32&q=75',
    ],
  ])('%s w=%i q=%i dpl=%s → %s', (src, w, q, dpl, expected) => {
    expect(loaderPath(src, w, q, dpl)).toBe(expected);
  });

  it('maps a quality to the closest configured one, as findClosestQuality does', () => {
    expect(closestQuality(75, [50, 80, 100])).toBe(80);
    expect(closestQuality(75, [])).toBe(75);
    expect(closestQuality(65, [60, 70])).toBe(60);
  });

  it('requests every width of the config for each format, smallest first', () => {
    const targets = planSources(['/a.jpg'], {
      ...NEXT_DEFAULTS,
      formats: ['image/avif', 'image/webp'],
    });
    expect(targets).toHaveLength(15 * 2);
    expect(targets[0]).toEqual({
      path: '/_next/image?url=%2Fa.jpg&w=32&q=75',
      accept: 'image/avif',
    });
    expect(targets[1]).toEqual({
      path: '/_next/image?url=%2Fa.jpg&w=32&q=75',
      accept: 'image/webp',
    });
    expect(targets.at(-1)?.path).toBe('/_next/image?url=%2Fa.jpg&w=3840&q=75');
  });

  it('takes --widths, --qualities and --accept over the config, without duplicates', () => {
    const targets = planSources(
      ['/a.jpg', '/a.jpg'],
      { ...NEXT_DEFAULTS, qualities: [60, 90] },
      {
        widths: [1080, 640, 640],
        qualities: [75, 95, 88],
        accept: ['image/webp'],
      },
    );
    expect(targets.map((t) => t.path)).toEqual([
      '/_next/image?url=%2Fa.jpg&w=640&q=60',
      '/_next/image?url=%2Fa.jpg&w=640&q=90',
      '/_next/image?url=%2Fa.jpg&w=1080&q=60',
      '/_next/image?url=%2Fa.jpg&w=1080&q=90',
    ]);
  });
});

describe('reading sources, sitemaps and pages', () => {
  it('reads one source a line, skipping blanks and comments, and names the unusable ones', () => {
    const sources = parseSourceList(
      '/a.jpg\r\n\n  # hero images\nhttps://cdn.test/b.png\n//cdn/x\nftp://x/y\nc.jpg\n',
    );
    expect(sources).toEqual(['/a.jpg', 'https://cdn.test/b.png', '//cdn/x', 'ftp://x/y', 'c.jpg']);
    expect(invalidSources(sources)).toEqual(['//cdn/x', 'ftp://x/y', 'c.jpg']);
  });

  it('reads a sitemap and a sitemap index', () => {
    const urlset = `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc> https://shop.test/p/1?a=1&amp;b=2 </loc><lastmod>2026-01-01</lastmod></url>
      <url><loc>https://shop.test/p/2</loc></url></urlset>`;
    expect(sitemapLocations(urlset)).toEqual({
      index: false,
      urls: ['https://shop.test/p/1?a=1&b=2', 'https://shop.test/p/2'],
    });
    const index =
      '<sitemapindex><sitemap><loc>https://shop.test/s1.xml</loc></sitemap></sitemapindex>';
    expect(sitemapLocations(index)).toEqual({ index: true, urls: ['https://shop.test/s1.xml'] });
  });

  it('takes every /_next/image URL of src, srcset and preload imagesrcset, on the same origin only', () => {
    const html = `<img srcSet="/_next/image?url=%2Fa.jpg&amp;w=640&amp;q=75 1x, /_next/image?url=%2Fa.jpg&amp;w=1080&amp;q=75 2x" src="/_next/image?url=%2Fa.jpg&amp;w=1080&amp;q=75">
      <link rel="preload" as="image" imageSrcSet="/_next/image?url=%2Fhero.jpg&amp;w=3840&amp;q=75 3840w" />
      <img src='http://gw.test/_next/image?url=%2Fb.jpg&amp;w=32&amp;q=75'>
      <img src="https://elsewhere.test/_next/image?url=%2Fc.jpg&amp;w=32&amp;q=75">
      <img src="/photos/plain.jpg"><a href="/_next/image">no url</a>`;
    expect(imagePathsInHtml(html, 'http://gw.test')).toEqual([
      '/_next/image?url=%2Fa.jpg&w=640&q=75',
      '/_next/image?url=%2Fa.jpg&w=1080&q=75',
      '/_next/image?url=%2Fhero.jpg&w=3840&q=75',
      '/_next/image?url=%2Fb.jpg&w=32&q=75',
    ]);
  });

  it('decodes XML entities and numeric references', () => {
    expect(decodeEntities('a&amp;b&#38;c&#x26;d&lt;&unknown;')).toBe('a&b&c&d<&unknown;');
  });
});
