import { describe, expect, it } from 'vitest';
import { NEXT_IMAGES_DEFAULTS } from '../api/images-config.ts';
import { translateNextImages } from './next-images.ts';

// The shapes below are what Next 16.4.6 writes into .next/required-server-files.json
// (test/data-plane/import-next.test.ts checks the whole path against a real build).
const BUILT_DEFAULTS = {
  ...NEXT_IMAGES_DEFAULTS,
  path: '/_next/image',
  loader: 'default',
  loaderFile: '',
  disableStaticImages: false,
  localPatterns: [{ pathname: '**', search: '' }],
  unoptimized: false,
  customCacheHandler: false,
};

describe('translateNextImages', () => {
  it("gives nothing and no warning for a build with Next's defaults", () => {
    expect(translateNextImages({ images: { ...BUILT_DEFAULTS } })).toEqual({
      images: {},
      warnings: [],
    });
  });

  it('keeps an explicit ** local pattern but drops the static-media ones Next appends', () => {
    const { images } = translateNextImages({
      images: {
        ...BUILT_DEFAULTS,
        localPatterns: [
          { pathname: '**', search: '' },
          { pathname: '/_next/static/media/**', search: '' },
          { pathname: '/_next/static/immutable/media/**', search: '' },
        ],
      },
    });
    expect(images).toEqual({ localPatterns: [{ pathname: '**', search: '' }] });
  });

  it('splits a URL string pattern as Next splits new URL(…): empty port and search stay', () => {
    const { images } = translateNextImages({
      images: { ...BUILT_DEFAULTS, remotePatterns: ['https://cdn.example.com/img/**'] },
    });
    expect(images.remotePatterns).toEqual([
      { protocol: 'https', hostname: 'cdn.example.com', port: '', pathname: '/img/**', search: '' },
    ]);
  });

  it.each([
    [
      { loader: 'custom', loaderFile: '/app/loader.js' },
      'images.loader is "custom" (loaderFile /app/loader.js)',
    ],
    [
      { loader: 'cloudinary', path: 'https://res.cloudinary.com/x/' },
      'images.loader is "cloudinary"',
    ],
    [
      { path: 'https://img.example.com/_next/image' },
      'images.path is "https://img.example.com/_next/image"',
    ],
    [{ customCacheHandler: true }, 'images.customCacheHandler is not translated'],
    [{ futureKey: 1 }, 'images.futureKey is not translated (unknown to next-image)'],
  ])('warns about %o', (extra, warning) => {
    const { warnings } = translateNextImages({ images: { ...BUILT_DEFAULTS, ...extra } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(warning);
  });

  it('names the basePath when it is why images.path moved', () => {
    const { warnings } = translateNextImages({
      images: { ...BUILT_DEFAULTS, path: '/docs/_next/image' },
      basePath: '/docs',
    });
    expect(warnings).toEqual([
      `images.path is "/docs/_next/image" (basePath /docs): next/image requests go there; route that path to the optimizer's /_next/image (docs/nextjs.md)`,
    ]);
  });
});
