import picomatch from 'picomatch';
import type { LocalPattern, RemotePatternInput } from '../api/images-config.ts';

/** A remote pattern in object form (Next.js turns URL patterns into these). */
export interface RemotePattern {
  protocol?: string;
  hostname: string;
  port?: string;
  pathname?: string;
  search?: string;
}

/** Next.js 16's effective local patterns: `[{pathname:'**', search:''}]` when none are set. */
export function effectiveLocalPatterns(configured: LocalPattern[] | undefined): LocalPattern[] {
  if (configured === undefined) return [{ pathname: '**', search: '' }];
  return [
    ...configured,
    { pathname: '/_next/static/media/**', search: '' },
    { pathname: '/_next/static/immutable/media/**', search: '' },
  ];
}

/** Remote patterns in object form; URL strings are split into their parts. */
export function normalizeRemotePatterns(patterns: RemotePatternInput[]): RemotePattern[] {
  return patterns.map((p) => {
    if (typeof p !== 'string') return p;
    const url = new URL(p);
    return {
      protocol: url.protocol.replace(/:$/, ''),
      hostname: url.hostname,
      ...(url.port !== '' ? { port: url.port } : {}),
      pathname: url.pathname,
      ...(url.search !== '' ? { search: url.search } : {}),
    };
  });
}

// Compiled globs are cached: patterns come from config, so the set is small and fixed.
const globCache = new Map<string, RegExp>();
function glob(pattern: string, dot: boolean): RegExp {
  const key = `${dot ? 1 : 0}:${pattern}`;
  let re = globCache.get(key);
  if (re === undefined) {
    re = picomatch.makeRe(pattern, { dot });
    globCache.set(key, re);
  }
  return re;
}

/** Next.js's matchLocalPattern: exact `search` when set, pathname glob with dot:true. */
function matchLocalPattern(pattern: LocalPattern, url: URL): boolean {
  if (pattern.search !== undefined && pattern.search !== url.search) return false;
  return glob(pattern.pathname ?? '**', true).test(url.pathname);
}

/** True when the relative `href` is allowed by the local patterns. */
export function hasLocalMatch(patterns: LocalPattern[], href: string): boolean {
  const url = new URL(href, 'http://n');
  return patterns.some((p) => matchLocalPattern(p, url));
}

/** Next.js's matchRemotePattern (hostname glob without dot, so `*` crosses dots). */
function matchRemotePattern(pattern: RemotePattern, url: URL): boolean {
  if (
    pattern.protocol !== undefined &&
    pattern.protocol.replace(/:$/, '') !== url.protocol.replace(/:$/, '')
  ) {
    return false;
  }
  if (pattern.port !== undefined && pattern.port !== url.port) return false;
  if (!glob(pattern.hostname, false).test(url.hostname)) return false;
  if (pattern.search !== undefined && pattern.search !== url.search) return false;
  return glob(pattern.pathname ?? '**', true).test(url.pathname);
}

/** True when `url` is allowed by `domains` or any remote pattern. */
export function hasRemoteMatch(domains: string[], patterns: RemotePattern[], url: URL): boolean {
  return domains.includes(url.hostname) || patterns.some((p) => matchRemotePattern(p, url));
}
