import { describe, expect, it } from 'vitest';
import { ImagesConfigSchema } from '../api/images-config.ts';
import { cacheKey } from './cache-key.ts';
import { createValidationContext, parseQuery, validateParams } from './params.ts';
import type { ImageParams } from './types.ts';

const defaults = createValidationContext(ImagesConfigSchema.parse({}));

function check(
  query: string,
  ctx = defaults,
  accept?: string,
): ImageParams | { errorMessage: string } {
  return validateParams(parseQuery(`/_next/image?${query}`), ctx, accept);
}

function message(query: string, ctx = defaults): string | undefined {
  const result = check(query, ctx);
  return 'errorMessage' in result ? result.errorMessage : undefined;
}

describe('validateParams (Next.js 16 statements 5–15)', () => {
  it.each([
    ['w=640&q=75', '"url" parameter is required'],
    ['url=&w=640&q=75', '"url" parameter is required'],
    ['url=/a.png&url=/b.png&w=640&q=75', '"url" parameter cannot be an array'],
    [`url=/${'a'.repeat(3072)}&w=640&q=75`, '"url" parameter is too long'],
    ['url=//evil.com/a.png&w=640&q=75', '"url" parameter cannot be a protocol-relative URL (//)'],
    ['url=/%2F/x&w=640&q=75', '"url" parameter cannot be a protocol-relative URL (//)'],
    ['url=/_next/image%3Furl%3D/a.png&w=640&q=75', '"url" parameter cannot be recursive'],
    ['url=/_next/image/&w=640&q=75', '"url" parameter cannot be recursive'],
    ['url=/foo/_next/image&w=640&q=75', '"url" parameter cannot be recursive'],
    ['url=/%255Fnext/image&w=640&q=75', '"url" parameter cannot be recursive'],
    ['url=/test.png%3Fv%3D1&w=640&q=75', '"url" parameter is not allowed'],
    ['url=ftp://example.com/a.png&w=640&q=75', '"url" parameter is invalid'],
    ['url=data:image/png;base64,AA&w=640&q=75', '"url" parameter is invalid'],
    ['url=test.png&w=640&q=75', '"url" parameter is invalid'],
    ['url=http://%5B::1&w=640&q=75', '"url" parameter is invalid'],
    ['url=https://example.com/a.png&w=640&q=75', '"url" parameter is not allowed'],
    ['url=/a.png&q=75', '"w" parameter (width) is required'],
    ['url=/a.png&w=&q=75', '"w" parameter (width) is required'],
    ['url=/a.png&w=640&w=750&q=75', '"w" parameter (width) cannot be an array'],
    ['url=/a.png&w=-1&q=75', '"w" parameter (width) must be an integer greater than 0'],
    ['url=/a.png&w=64.0&q=75', '"w" parameter (width) must be an integer greater than 0'],
    ['url=/a.png&w=+640&q=75', '"w" parameter (width) must be an integer greater than 0'],
    ['url=/a.png&w=100abc&q=75', '"w" parameter (width) must be an integer greater than 0'],
    ['url=/a.png&w=0&q=75', '"w" parameter (width) must be an integer greater than 0'],
    ['url=/a.png&w=640', '"q" parameter (quality) is required'],
    ['url=/a.png&w=640&q=75&q=80', '"q" parameter (quality) cannot be an array'],
    ['url=/a.png&w=640&q=0', '"q" parameter (quality) must be an integer between 1 and 100'],
    ['url=/a.png&w=640&q=101', '"q" parameter (quality) must be an integer between 1 and 100'],
    ['url=/a.png&w=640&q=7.5', '"q" parameter (quality) must be an integer between 1 and 100'],
    ['url=/a.png&w=641&q=75', '"w" parameter (width) of 641 is not allowed'],
    ['url=/a.png&w=16&q=75', '"w" parameter (width) of 16 is not allowed'],
    ['url=/a.png&w=640&q=80', '"q" parameter (quality) of 80 is not allowed'],
    ['url=/a.png&w=640&q=080', '"q" parameter (quality) of 080 is not allowed'],
    // Next 16's order: w's syntax, q's syntax, then w's value, then q's value.
    ['url=/a.png&w=16&q=101', '"w" parameter (width) of 16 is not allowed'],
    ['url=/a.png&w=641&q=0', '"w" parameter (width) of 641 is not allowed'],
    ['url=/a.png&w=0&q=x', '"q" parameter (quality) must be an integer between 1 and 100'],
    ['url=/a.png&w=0&q=101', '"w" parameter (width) must be an integer greater than 0'],
    ['url=/a.png&w=x', '"w" parameter (width) must be an integer greater than 0'],
    ['url=//x', '"url" parameter cannot be a protocol-relative URL (//)'],
  ])('%s → %s', (query, expected) => {
    expect(message(query)).toBe(expected);
  });

  it('accepts a local url with an empty query string but not with a query', () => {
    expect(message('url=/test.png%3F&w=640&q=75')).toBeUndefined();
    expect(message('url=/test.png%3Fv%3D1&w=640&q=75')).toBe('"url" parameter is not allowed');
  });

  it('decodes + as a space, as url.parse does', () => {
    const result = check('url=/a+b.png&w=640&q=75');
    expect(result).toMatchObject({ href: '/a b.png', isAbsolute: false });
  });

  it('treats leading zeros as the same numbers and the same cache key', () => {
    const a = check(
      'url=/a.png&w=0640&q=075',
      createValidationContext(ImagesConfigSchema.parse({ qualities: [75] })),
    );
    const b = check('url=/a.png&w=640&q=75');
    expect('errorMessage' in a).toBe(false);
    expect(cacheKey(a as ImageParams)).toBe(cacheKey(b as ImageParams));
  });

  it('normalizes absolute urls and matches remote patterns', () => {
    const ctx = createValidationContext(
      ImagesConfigSchema.parse({
        remotePatterns: [{ protocol: 'https', hostname: '*.example.com' }],
      }),
    );
    expect(check('url=HTTPS://a.b.example.com/x.png&w=640&q=75', ctx)).toMatchObject({
      href: 'https://a.b.example.com/x.png',
      isAbsolute: true,
    });
    expect(message('url=https://example.com/x.png&w=640&q=75', ctx)).toBe(
      '"url" parameter is not allowed',
    );
    expect(message('url=http://a.example.com/x.png&w=640&q=75', ctx)).toBe(
      '"url" parameter is not allowed',
    );
  });

  it('allows hosts listed in domains', () => {
    const ctx = createValidationContext(ImagesConfigSchema.parse({ domains: ['cdn.test'] }));
    expect(message('url=http://cdn.test/x.png&w=640&q=75', ctx)).toBeUndefined();
  });

  it('appends the static media patterns when localPatterns are set', () => {
    const ctx = createValidationContext(
      ImagesConfigSchema.parse({ localPatterns: [{ pathname: '/assets/**' }] }),
    );
    expect(message('url=/assets/a.png%3Fv%3D2&w=640&q=75', ctx)).toBeUndefined();
    expect(message('url=/other/a.png&w=640&q=75', ctx)).toBe('"url" parameter is not allowed');
    expect(check('url=/_next/static/media/a.png&w=640&q=75', ctx)).toMatchObject({
      isStatic: true,
    });
  });

  // Next 16 checks a local url against localPatterns as `new URL(url, 'http://n')` reads it:
  // dot segments resolved, `\` taken for `/`, so `/\x/…` is host x and path `/…`. Validation
  // here does the same; the internal fetch refuses what Next's router would redirect (`\`, `//`).
  it.each([
    ['/allowed/a.png', undefined],
    ['/\\x/allowed/a.png', undefined],
    ['/\\x/secret.png', '"url" parameter is not allowed'],
    ['/allowed\\..\\secret.png', '"url" parameter is not allowed'],
    ['/allowed/../secret.png', '"url" parameter is not allowed'],
    ['/allowed/./../secret.png', '"url" parameter is not allowed'],
    ['/secret/../allowed/a.png', undefined],
    ['/allowed/%2e%2e/secret.png', '"url" parameter is not allowed'],
    ['/allowed/%2E%2E/secret.png', '"url" parameter is not allowed'],
    ['/allowed%2F..%2Fsecret.png', '"url" parameter is not allowed'],
    ['/allowed%2fa.png', '"url" parameter is not allowed'],
    // An encoded slash separates nothing for the pattern (nor for Next's router): one segment.
    ['/allowed/..%2Fsecret.png', undefined],
    ['/%5Cx/allowed/a.png', '"url" parameter is not allowed'],
    ['/allowed//a.png', undefined],
    ['//x/allowed/a.png', '"url" parameter cannot be a protocol-relative URL (//)'],
    ['\\\\x/allowed/a.png', '"url" parameter is invalid'],
  ])('normalises local url %s as Next does against /allowed/** → %s', (url, expected) => {
    const ctx = createValidationContext(
      ImagesConfigSchema.parse({ localPatterns: [{ pathname: '/allowed/**' }] }),
    );
    expect(message(`url=${encodeURIComponent(url)}&w=640&q=75`, ctx)).toBe(expected);
  });

  it('accepts any quality listed in qualities and widths from imageSizes', () => {
    const ctx = createValidationContext(ImagesConfigSchema.parse({ qualities: [50, 90] }));
    expect(message('url=/a.png&w=32&q=90', ctx)).toBeUndefined();
    expect(message('url=/a.png&w=32&q=75', ctx)).toBe(
      '"q" parameter (quality) of 75 is not allowed',
    );
  });

  it.each([
    ['image/webp', ['image/webp'], 'image/webp'],
    ['*/*', ['image/webp'], ''],
    ['image/*', ['image/webp'], ''],
    ['image/avif', ['image/webp'], ''],
    ['image/webp;q=0', ['image/webp'], ''],
    ['IMAGE/WEBP', ['image/webp'], ''],
    ['image/webp;q=0.1,image/png', ['image/webp'], 'image/webp'],
    ['image/webp,image/avif', ['image/avif', 'image/webp'], 'image/avif'],
    ['image/avif;q=0.5,image/webp', ['image/avif', 'image/webp'], 'image/webp'],
    [undefined, ['image/webp'], ''],
  ])('negotiates Accept %s with formats %j → "%s"', (accept, formats, expected) => {
    const ctx = createValidationContext(ImagesConfigSchema.parse({ formats }));
    expect(check('url=/a.png&w=640&q=75', ctx, accept)).toMatchObject({ mimeType: expected });
  });
});

describe('cacheKey (statement 40)', () => {
  it('hashes "4" + href + width + quality + mimeType without separators', async () => {
    const { createHash } = await import('node:crypto');
    const expected = createHash('sha256').update('4/a.png64075image/webp').digest('base64url');
    expect(cacheKey({ href: '/a.png', width: 640, quality: 75, mimeType: 'image/webp' })).toBe(
      expected,
    );
  });
});
