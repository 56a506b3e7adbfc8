import { randomBytes } from 'node:crypto';
import type { CachedImage } from '../../types.ts';

/** A cache entry of `bytes` random bytes (tests only). */
export function testEntry(bytes = 1024, overrides: Partial<CachedImage> = {}): CachedImage {
  const buffer = randomBytes(bytes);
  return {
    buffer,
    extension: 'webp',
    etag: buffer.subarray(0, 8).toString('base64url'),
    upstreamEtag: 'up-etag',
    maxAge: 60,
    expireAt: Date.now() + 60_000,
    ...overrides,
  };
}
