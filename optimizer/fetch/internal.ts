import type { Dispatcher } from 'undici';
import type { Discovery } from '../../lib/discovery.ts';
import { ImageError, MESSAGES } from '../errors.ts';
import type { UpstreamImage } from '../types.ts';
import { internalAgent } from './agents.ts';
import type { HeadRule } from './body.ts';
import { errorCode, isConnectionError, markRetryable } from './fetch-errors.ts';
import {
  abortOutcome,
  openUpstreamSource,
  type ResponseRules,
  readUpstreamImage,
  type UpstreamSource,
} from './upstream-response.ts';

/**
 * Next's fetchInternalImage (spec statement 29) for relative sources, done as an HTTP GET to
 * the fallback application: no client header is forwarded (CVE-2025-57752), redirects are not
 * followed, `maximumResponseBody` applies (CVE-2026-44577). No SSRF guard: the fallback is the
 * operator's own application, named by config, never by the client.
 */

/** Options of one internal fetch. */
export interface InternalFetchOptions {
  /** `http://<app>.plt.local` or an absolute http(s) URL (a path prefix is kept). */
  fallback: URL;
  discovery: Discovery;
  maximumResponseBody: number;
  /** Aborts the fetch; a TimeoutError reason is answered 504, any other reason rethrown. */
  signal: AbortSignal;
}

/** The concrete URL of relative `href` on the fallback: `fallback + href`, then discovery. */
export function internalUrl(href: string, fallback: URL, discovery: Discovery): URL {
  // String concatenation as Platformatic does, so `href`'s query is kept verbatim.
  const base = fallback.href.replace(/\/+$/, '');
  return discovery.resolve(new URL(`${base}${href.startsWith('/') ? '' : '/'}${href}`));
}

/**
 * True when Next's router answers `href` with a 308 to its normalised form instead of serving
 * it: its path (the query does not count) holds a backslash or a double slash. Next's
 * localPatterns check reads `/\x/a.png` as host x and path `/a.png`, so such a url passes a
 * pattern for the path it does not name; Next's own internal request then meets the redirect.
 */
export function redirectedByNextRouter(href: string): boolean {
  const path = href.split('?', 1)[0] ?? '';
  return path.includes('\\') || path.includes('//');
}

/** Next's answer to an internal fetch that failed without a response: 500, upstream text. */
function failure(error: unknown): ImageError {
  const code = errorCode(error) === 'UNKNOWN_APP' ? 'UNKNOWN_APP' : 'INTERNAL_FETCH_FAILED';
  const wrapped = new ImageError(500, MESSAGES.upstreamInvalid, code, { cause: error });
  return isConnectionError(error) ? markRetryable(wrapped) : wrapped;
}

/** Fetches a relative source from the fallback application with Next's internal outcomes. */
export async function fetchInternalImage(
  href: string,
  options: InternalFetchOptions,
): Promise<UpstreamImage> {
  return await requestInternal(href, options, readUpstreamImage);
}

/** What an internal fetch answers for `error`: the abort's outcome, or Next's 500. */
function internalFailure(error: unknown, signal: AbortSignal): unknown {
  const aborted = abortOutcome(signal);
  if (aborted !== undefined) return aborted;
  return error instanceof ImageError ? error : failure(error);
}

/**
 * fetchInternalImage up to the first bytes of the body (until `head` is satisfied): the rest
 * is downloaded by the returned source's readAll(), or never (discard()).
 */
export async function openInternalImage(
  href: string,
  options: InternalFetchOptions,
  head: HeadRule,
): Promise<UpstreamSource> {
  return await requestInternal(href, options, (response, rules) =>
    openUpstreamSource(response, rules, head, internalFailure),
  );
}

async function requestInternal<T>(
  href: string,
  options: InternalFetchOptions,
  finish: (response: Dispatcher.ResponseData, rules: ResponseRules) => Promise<T>,
): Promise<T> {
  const { signal } = options;
  // Next's fetchInternalImage takes the 308 as "internal response is invalid", and a 3xx
  // becomes 500. Answered here without asking the fallback: a server that merges slashes
  // would serve `//x/a.png` as /x/a.png, a path the localPatterns never saw.
  if (redirectedByNextRouter(href)) {
    throw new ImageError(500, MESSAGES.internalInvalid, 'INTERNAL_UNNORMALIZED_PATH');
  }
  try {
    const target = internalUrl(href, options.fallback, options.discovery);
    const response = await internalAgent().request({
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      method: 'GET',
      headers: {},
      signal,
    });
    return await finish(response, {
      message: MESSAGES.internalInvalid,
      codePrefix: 'INTERNAL',
      maximumResponseBody: options.maximumResponseBody,
      signal,
    });
  } catch (error: unknown) {
    throw internalFailure(error, signal);
  }
}
