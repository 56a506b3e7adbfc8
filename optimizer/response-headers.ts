import { clampCacheSeconds } from './cache-ttl.ts';
import { extensionFor } from './image/index.ts';

/**
 * Next.js 16's getMaxAge: s-maxage, else max-age (a present but unparsable s-maxage wins and
 * reads as 0, as in Next), surrounding quotes removed, read with parseInt (so `1e30` is 1);
 * then clamped to 0..MAX_CACHE_SECONDS, where Next would pass a negative or huge value on.
 */
export function maxAgeFromCacheControl(header: string | null): number {
  if (!header) return 0;
  const directives = new Map<string, string>();
  for (const part of header.split(',')) {
    const [rawKey = '', rawValue] = part.trim().split('=', 2);
    directives.set(rawKey.toLowerCase(), rawValue ?? '');
  }
  let value = directives.get('s-maxage') || directives.get('max-age') || '';
  if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  return clampCacheSeconds(Number.parseInt(value, 10));
}

/** Cache-Control of a 200: a year and immutable for static media, else maxAge + must-revalidate. */
export function cacheControl(isStatic: boolean, maxAge: number): string {
  return isStatic
    ? 'public, max-age=315360000, immutable'
    : `public, max-age=${maxAge}, must-revalidate`;
}

/** Next.js's file name: last path segment without query, cut at its first dot, plus the type's extension. */
export function fileName(href: string, contentType: string): string {
  const [withoutQuery = ''] = href.split('?', 1);
  const last = withoutQuery.split('/').pop();
  const extension = extensionFor(contentType);
  if (!last || !extension) return 'image.bin';
  const [name] = last.split('.', 1);
  return `${name}.${extension}`;
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/** Content-Disposition as the `content-disposition` package renders it. */
export function contentDisposition(type: 'attachment' | 'inline', name: string): string {
  // latin1 names stay inline; anything wider gets an ASCII fallback plus RFC 5987 filename*.
  if (!/[^\x20-\x7e\xa0-\xff]/.test(name)) return `${type}; filename=${quote(name)}`;
  const fallback = name.replace(/[^\x20-\x7e\xa0-\xff]/g, '?');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${type}; filename=${quote(fallback)}; filename*=UTF-8''${encoded}`;
}

/**
 * The `fresh` algorithm Next.js uses for 304s: If-None-Match (`*`, a list, W/ prefixes) against
 * the unquoted ETag; `Cache-Control: no-cache` and If-Modified-Since alone are never fresh.
 */
export function isFresh(
  headers: { 'if-none-match'?: string; 'if-modified-since'?: string; 'cache-control'?: string },
  etag: string,
): boolean {
  const noneMatch = headers['if-none-match'];
  const modifiedSince = headers['if-modified-since'];
  if (!noneMatch && !modifiedSince) return false;
  const requestCacheControl = headers['cache-control'];
  if (requestCacheControl && /(?:^|,)\s*?no-cache\s*?(?:,|$)/.test(requestCacheControl))
    return false;
  if (noneMatch && noneMatch !== '*') {
    const matches = noneMatch
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
    const hit = matches.some((m) => m === etag || m === `W/${etag}` || `W/${m}` === etag);
    if (!hit) return false;
  }
  // We send no Last-Modified, so If-Modified-Since can never make a response fresh.
  if (modifiedSince) return false;
  return true;
}

const COMPRESSIBLE = new Set([
  'image/svg+xml',
  'image/x-icon',
  'image/bmp',
  'image/vnd.microsoft.icon',
]);

/** Types Next.js's `compress` gzips (and so varies on Accept-Encoding). */
export function isCompressible(contentType: string): boolean {
  return COMPRESSIBLE.has(contentType);
}
