import type { Dispatcher } from 'undici';
import { ImageError, MESSAGES } from '../errors.ts';
import type { UpstreamImage } from '../types.ts';
import { externalAgent } from './agents.ts';
import type { HeadRule } from './body.ts';
import { guardHost, type LookupFn } from './dns-guard.ts';
import {
  isConnectFailure,
  isConnectionError,
  UnsupportedProtocolError,
  UpstreamConnectionError,
} from './fetch-errors.ts';
import {
  abortOutcome,
  discardBody,
  headerValue,
  openUpstreamSource,
  type ResponseRules,
  readUpstreamImage,
  type UpstreamSource,
} from './upstream-response.ts';

/**
 * Next 16's fetchExternalImage (spec statements 30–34) for absolute sources: Next's exact
 * request headers, the SSRF guard and address pinning at every hop, manual redirects bounded
 * by `maximumRedirects`, content decoding, and `maximumResponseBody` enforced while streaming.
 * One attempt; timeouts and retries are the caller's (retry.ts).
 */

/** Next's `images` limits that shape an external fetch. */
export interface FetchLimits {
  maximumResponseBody: number;
  maximumRedirects: number;
  dangerouslyAllowLocalIP: boolean;
}

/** Options of one external fetch. */
export interface ExternalFetchOptions extends FetchLimits {
  /** Aborts the fetch; a TimeoutError reason is answered 504, any other reason rethrown. */
  signal: AbortSignal;
  /** Resolver override (tests); defaults to dns.lookup(all). */
  lookup?: LookupFn;
  /** Address policy override (tests); defaults to isPublicUnicast. */
  isAllowedAddress?: (address: string) => boolean;
}

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Exactly the headers Next 16 sends upstream (plus Host); nothing from the client. */
export function upstreamRequestHeaders(url: URL): Record<string, string> {
  return {
    host: url.host,
    accept: '*/*',
    'accept-language': '*',
    'sec-fetch-mode': 'cors',
    'user-agent': 'node',
    'accept-encoding': url.protocol === 'https:' ? 'br, gzip, deflate' : 'gzip, deflate',
  };
}

/** Sends one GET to a checked address of `url`'s host, trying the next one if a connect fails. */
async function requestOnce(
  url: URL,
  options: ExternalFetchOptions,
): Promise<Dispatcher.ResponseData> {
  const addresses = await guardHost(url.hostname, options);
  const port = url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80';
  let lastError: unknown;
  for (const { address, family } of addresses) {
    // The origin is the checked address itself: the pool, the socket and the guard agree.
    const origin = `${url.protocol}//${family === 6 ? `[${address}]` : address}:${port}`;
    try {
      return await externalAgent().request({
        origin,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: upstreamRequestHeaders(url),
        signal: options.signal,
      });
    } catch (error: unknown) {
      if (!isConnectFailure(error) || options.signal.aborted) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

/** The parsed Location of a redirect response, or undefined when it is not one to follow. */
function redirectTarget(response: Dispatcher.ResponseData, current: URL): URL | undefined {
  if (!REDIRECT_STATUSES.has(response.statusCode)) return undefined;
  const location = headerValue(response.headers, 'location');
  if (location === null) return undefined;
  try {
    return new URL(location, current);
  } catch {
    return undefined;
  }
}

/** Follows redirects from `hop.url`, which always names the host being talked to (for errors). */
async function fetchFollowingRedirects<T>(
  hop: { url: URL },
  options: ExternalFetchOptions,
  finish: (response: Dispatcher.ResponseData, rules: ResponseRules) => Promise<T>,
): Promise<T> {
  let url = hop.url;
  for (let redirectsLeft = options.maximumRedirects; ; redirectsLeft -= 1) {
    const response = await requestOnce(url, options);
    const next = redirectTarget(response, url);
    if (next === undefined) {
      return await finish(response, {
        message: MESSAGES.upstreamInvalid,
        codePrefix: 'UPSTREAM',
        maximumResponseBody: options.maximumResponseBody,
        signal: options.signal,
      });
    }
    discardBody(response.body);
    if (redirectsLeft <= 0) {
      throw new ImageError(508, MESSAGES.upstreamInvalid, 'UPSTREAM_TOO_MANY_REDIRECTS');
    }
    // fetch cannot follow other schemes either; Next answers that with a plain 500.
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new UnsupportedProtocolError(next);
    }
    url = next;
    hop.url = next;
  }
}

/**
 * Fetches an absolute http(s) source like Next 16. Rejects with an ImageError carrying Next's
 * status and text, a DnsLookupError / UpstreamConnectionError (Next: 500), or the signal's
 * reason when aborted for anything but a timeout.
 */
export async function fetchExternalImage(
  href: string,
  options: ExternalFetchOptions,
): Promise<UpstreamImage> {
  const hop = { url: new URL(href) };
  try {
    return await fetchFollowingRedirects(hop, options, readUpstreamImage);
  } catch (error: unknown) {
    throw externalFailure(error, options.signal, hop.url);
  }
}

/** What an external fetch answers for `error`: the abort's outcome, a connection error, or it. */
function externalFailure(error: unknown, signal: AbortSignal, url: URL): unknown {
  const aborted = abortOutcome(signal);
  if (aborted !== undefined) return aborted;
  if (isConnectionError(error)) return new UpstreamConnectionError(url.host, error);
  return error;
}

/**
 * fetchExternalImage up to the first bytes of the body (until `head` is satisfied): the rest
 * is downloaded by the returned source's readAll(), or never (discard()).
 */
export async function openExternalImage(
  href: string,
  options: ExternalFetchOptions,
  head: HeadRule,
): Promise<UpstreamSource> {
  const hop = { url: new URL(href) };
  const mapError = (error: unknown, signal: AbortSignal): unknown =>
    externalFailure(error, signal, hop.url);
  try {
    return await fetchFollowingRedirects(hop, options, (response, rules) =>
      openUpstreamSource(response, rules, head, mapError),
    );
  } catch (error: unknown) {
    throw externalFailure(error, options.signal, hop.url);
  }
}
