import { describe, expect, it } from 'vitest';
import {
  cacheControl,
  contentDisposition,
  fileName,
  isFresh,
  maxAgeFromCacheControl,
} from './response-headers.ts';

describe('maxAgeFromCacheControl (statement 36)', () => {
  it.each([
    ['max-age=3600', 3600],
    ['s-maxage=7200,max-age=10', 7200],
    ['max-age=10, s-maxage=7200', 7200],
    ['public, max-age="600"', 600],
    ['MAX-AGE=60', 60],
    ['max-age=60.9', 60],
    ['max-age=abc', 0],
    ['no-store', 0],
    ['', 0],
    [null, 0],
    // Next reads the value with parseInt: an exponent is cut at the "e".
    ['public, max-age=1e30', 1],
    // s-maxage wins whenever it is there, even as 0 or as garbage (Next's `||` on strings).
    ['s-maxage=0, max-age=600', 0],
    ['s-maxage=abc, max-age=600', 0],
    ['s-maxage=, max-age=600', 600],
    // A quote on one side only is not stripped, so parseInt fails, as in Next.
    ['max-age="600', 0],
    // Clamped where Next would pass it on: never negative, never past one year.
    ['max-age=-5', 0],
    ['max-age=31536001', 31_536_000],
    ['max-age=9007199254740993', 31_536_000],
    ['public, max-age=1000000000000000000000000000000', 31_536_000],
  ])('%s → %i', (header, expected) => {
    expect(maxAgeFromCacheControl(header)).toBe(expected);
  });
});

describe('fileName and Content-Disposition (statement 37)', () => {
  it.each([
    ['/test.jpg', 'image/webp', 'test.webp'],
    ['/test.jpg', 'image/jpeg', 'test.jpeg'],
    ['/a/b/photo.final.png?x=1', 'image/png', 'photo.png'],
    ['https://example.com/dir/', 'image/png', 'image.bin'],
    ['/x.png', 'application/unknown', 'image.bin'],
  ])('%s as %s → %s', (href, type, expected) => {
    expect(fileName(href, type)).toBe(expected);
  });

  it('quotes latin1 names inline and adds filename* for wider ones', () => {
    expect(contentDisposition('attachment', 'test.webp')).toBe('attachment; filename="test.webp"');
    expect(contentDisposition('inline', 'caf\u00e9.webp')).toBe(
      'inline; filename="caf\u00e9.webp"',
    );
    expect(contentDisposition('attachment', '\u732b.webp')).toBe(
      `attachment; filename="?.webp"; filename*=UTF-8''%E7%8C%AB.webp`,
    );
  });

  it('uses a year and immutable for static media', () => {
    expect(cacheControl(true, 60)).toBe('public, max-age=315360000, immutable');
    expect(cacheControl(false, 60)).toBe('public, max-age=60, must-revalidate');
  });
});

describe('isFresh (statement 39)', () => {
  const etag = 'abc123';
  it.each([
    [{ 'if-none-match': 'abc123' }, true],
    [{ 'if-none-match': 'W/abc123' }, true],
    [{ 'if-none-match': 'x, abc123' }, true],
    [{ 'if-none-match': '*' }, true],
    [{ 'if-none-match': '"abc123"' }, false],
    [{ 'if-none-match': 'abc123', 'cache-control': 'no-cache' }, false],
    [{ 'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT' }, false],
    [{}, false],
  ])('%j → %s', (headers, expected) => {
    expect(isFresh(headers, etag)).toBe(expected);
  });
});
