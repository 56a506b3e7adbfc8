import { type ParsedUrlQuery, parse as parseQueryString } from 'node:querystring';
import { LRUCache } from 'lru-cache';
import type { ImagesConfig } from '../api/images-config.ts';
import { clampCacheSeconds } from './cache-ttl.ts';
import { negotiateMimeType } from './negotiate.ts';
import {
  effectiveLocalPatterns,
  hasLocalMatch,
  hasRemoteMatch,
  normalizeRemotePatterns,
  type RemotePattern,
} from './patterns.ts';
import type { ImageParams } from './types.ts';

/** Next.js's limit on the decoded `url` parameter. */
export const MAX_URL_LENGTH = 3072;

/** The parts of the images config that validation needs, precomputed once at start-up. */
export interface ValidationContext {
  images: ImagesConfig;
  /** The negotiated output type for an Accept header (memoized: clients send few distinct ones). */
  mimeFor: (accept: string | undefined) => string;
  sizes: number[];
  localPatterns: ReturnType<typeof effectiveLocalPatterns>;
  remotePatterns: RemotePattern[];
}

/** Precomputes what every request's validation needs. */
export function createValidationContext(images: ImagesConfig): ValidationContext {
  const negotiated = new LRUCache<string, string>({ max: 256 });
  return {
    images,
    mimeFor: (accept) => {
      const header = accept ?? '';
      let mimeType = negotiated.get(header);
      if (mimeType === undefined) {
        mimeType = negotiateMimeType(images.formats, header);
        negotiated.set(header, mimeType);
      }
      return mimeType;
    },
    sizes: [...images.deviceSizes, ...images.imageSizes].sort((a, b) => a - b),
    localPatterns: effectiveLocalPatterns(images.localPatterns),
    remotePatterns: normalizeRemotePatterns(images.remotePatterns),
  };
}

/** Query values as Next.js reads them (`url.parse(…, true)`): repeated keys → arrays, `+` → space. */
export function parseQuery(rawUrl: string): ParsedUrlQuery {
  const index = rawUrl.indexOf('?');
  return index === -1 ? {} : parseQueryString(rawUrl.slice(index + 1));
}

const STATIC_PREFIXES = ['/_next/static/media', '/_next/static/immutable/media'];

/**
 * Next.js 16's ImageOptimizerCache.validateParams: the first failing check wins, url checks
 * before w/q checks. Returns the params or the exact 400 message.
 */
export function validateParams(
  query: ParsedUrlQuery,
  ctx: ValidationContext,
  accept: string | undefined,
): ImageParams | { errorMessage: string } {
  const { url, w, q } = query;
  if (!url) return { errorMessage: '"url" parameter is required' };
  if (Array.isArray(url)) return { errorMessage: '"url" parameter cannot be an array' };
  if (url.length > MAX_URL_LENGTH) return { errorMessage: '"url" parameter is too long' };
  if (url.startsWith('//')) {
    return { errorMessage: '"url" parameter cannot be a protocol-relative URL (//)' };
  }

  let href: string;
  let isAbsolute: boolean;
  if (url.startsWith('/')) {
    href = url;
    isAbsolute = false;
    let decodedPathname: string;
    try {
      decodedPathname = decodeURIComponent(new URL(url, 'http://n').pathname);
    } catch {
      // Next.js throws here (→ 500); a malformed escape is the client's fault, so 400.
      return { errorMessage: '"url" parameter is invalid' };
    }
    if (/\/_next\/image($|\/)/.test(decodedPathname)) {
      return { errorMessage: '"url" parameter cannot be recursive' };
    }
    if (!hasLocalMatch(ctx.localPatterns, url))
      return { errorMessage: '"url" parameter is not allowed' };
  } else {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { errorMessage: '"url" parameter is invalid' };
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      return { errorMessage: '"url" parameter is invalid' };
    }
    if (!hasRemoteMatch(ctx.images.domains, ctx.remotePatterns, parsed)) {
      return { errorMessage: '"url" parameter is not allowed' };
    }
    href = parsed.toString();
    isAbsolute = true;
  }

  // Next 16's order: the syntax of w, then of q, then w's value and q's value (so
  // `w=16&q=101` is a width error and `w=0&q=x` a quality one).
  if (!w) return { errorMessage: '"w" parameter (width) is required' };
  if (Array.isArray(w)) return { errorMessage: '"w" parameter (width) cannot be an array' };
  if (!/^[0-9]+$/.test(w))
    return { errorMessage: '"w" parameter (width) must be an integer greater than 0' };
  if (!q) return { errorMessage: '"q" parameter (quality) is required' };
  if (Array.isArray(q)) return { errorMessage: '"q" parameter (quality) cannot be an array' };
  if (!/^[0-9]+$/.test(q)) {
    return { errorMessage: '"q" parameter (quality) must be an integer between 1 and 100' };
  }
  const width = Number.parseInt(w, 10);
  if (width <= 0 || Number.isNaN(width)) {
    return { errorMessage: '"w" parameter (width) must be an integer greater than 0' };
  }
  if (!ctx.sizes.includes(width))
    return { errorMessage: `"w" parameter (width) of ${width} is not allowed` };
  const quality = Number.parseInt(q, 10);
  if (Number.isNaN(quality) || quality < 1 || quality > 100) {
    return { errorMessage: '"q" parameter (quality) must be an integer between 1 and 100' };
  }
  if (!ctx.images.qualities.includes(quality)) {
    return { errorMessage: `"q" parameter (quality) of ${q} is not allowed` };
  }

  return {
    href,
    isAbsolute,
    isStatic: STATIC_PREFIXES.some((prefix) => href.startsWith(prefix)),
    width,
    quality,
    mimeType: ctx.mimeFor(accept),
    minimumCacheTTL: clampCacheSeconds(ctx.images.minimumCacheTTL),
  };
}
