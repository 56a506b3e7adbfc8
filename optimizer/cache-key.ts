import { createHash } from 'node:crypto';

/** Next.js 16's image cache version. */
export const CACHE_VERSION = 4;

/** base64url(sha256(parts concatenated)) — Next.js's getHash. */
export function hash(parts: ReadonlyArray<string | number | Buffer>): string {
  const h = createHash('sha256');
  for (const part of parts) h.update(typeof part === 'number' ? String(part) : part);
  return h.digest('base64url');
}

/** Next.js's cache key: hash of version, href, width, quality and negotiated mime type. */
export function cacheKey(p: {
  href: string;
  width: number;
  quality: number;
  mimeType: string;
}): string {
  return hash([CACHE_VERSION, p.href, p.width, p.quality, p.mimeType]);
}
