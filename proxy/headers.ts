import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Hop-by-hop headers (RFC 9110 §7.6.1 and the legacy ones proxies still see). */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Header names listed in a Connection header, which are hop-by-hop too. */
function listedInConnection(value: string | string[] | number | undefined): string[] {
  if (value === undefined || typeof value === 'number') return [];
  const text = Array.isArray(value) ? value.join(',') : value;
  return text
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
}

/**
 * `headers` without hop-by-hop headers (nor those named in Connection, nor undefined values).
 * Returns the same object when there is nothing to drop: this runs twice per proxied request.
 * Names are lowercase, as Node and undici give them.
 */
export function stripHopByHop<H extends IncomingHttpHeaders | OutgoingHttpHeaders>(headers: H): H {
  const connection = headers.connection;
  const listed = connection === undefined ? undefined : listedInConnection(connection);
  let out: Record<string, unknown> | undefined;
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || headers[name] === undefined || listed?.includes(name) === true) {
      out ??= { ...headers };
      delete out[name];
    }
  }
  return (out ?? headers) as H;
}

/** What the gateway knows about the hop a request came in on. */
export interface IncomingHop {
  remoteAddress: string | undefined;
  /** "http" (the gateway does not terminate TLS itself). */
  protocol: string;
  /** The Host header the client sent. */
  host: string | undefined;
}

/**
 * Sets x-forwarded-for (appended to any chain the client sent), -proto and -host (this hop's,
 * unless `trust` keeps the ones an ingress in front of the gateway set) on `headers`, which it
 * changes in place (callers pass their own copy) and returns.
 */
export function withForwarded(
  headers: IncomingHttpHeaders,
  hop: IncomingHop,
  trust: boolean,
): IncomingHttpHeaders {
  const chain = headers['x-forwarded-for'];
  const prior = Array.isArray(chain) ? chain.join(', ') : chain;
  const client = hop.remoteAddress ?? 'unknown';
  headers['x-forwarded-for'] = prior !== undefined && prior !== '' ? `${prior}, ${client}` : client;
  if (!trust || headers['x-forwarded-proto'] === undefined)
    headers['x-forwarded-proto'] = hop.protocol;
  if ((!trust || headers['x-forwarded-host'] === undefined) && hop.host !== undefined) {
    headers['x-forwarded-host'] = hop.host;
  }
  return headers;
}

/**
 * Puts a relative redirect back under the gateway prefix, as @platformatic/gateway does: the
 * upstream's base path (often "") in `location` becomes the application's prefix, so
 * `/login` from an application mounted at `/shop` becomes `/shop/login`. Absolute URLs and
 * applications mounted at "/" are left alone. Changes `headers` in place.
 */
export function rewriteLocation<H extends IncomingHttpHeaders | OutgoingHttpHeaders>(
  headers: H,
  basePath: string,
  prefix: string,
): H {
  const location = headers.location;
  if (typeof location !== 'string' || prefix === '' || /^[a-z][a-z0-9+.-]*:/i.test(location))
    return headers;
  if (location.startsWith('//')) return headers;
  (headers as Record<string, unknown>).location = location.replace(basePath, prefix);
  return headers;
}
