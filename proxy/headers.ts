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

/** A copy of `headers` without hop-by-hop headers (nor those named in Connection). */
export function stripHopByHop<H extends IncomingHttpHeaders | OutgoingHttpHeaders>(headers: H): H {
  const drop = new Set([...HOP_BY_HOP, ...listedInConnection(headers.connection)]);
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !drop.has(name.toLowerCase())) out[name] = value;
  }
  return out as H;
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
 * Adds x-forwarded-for (appended to any chain the client sent), -proto and -host (this hop's,
 * unless `trust` keeps the ones an ingress in front of the gateway set).
 */
export function withForwarded(
  headers: IncomingHttpHeaders,
  hop: IncomingHop,
  trust: boolean,
): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = { ...headers };
  const chain = headers['x-forwarded-for'];
  const prior = Array.isArray(chain) ? chain.join(', ') : chain;
  const client = hop.remoteAddress ?? 'unknown';
  out['x-forwarded-for'] = prior !== undefined && prior !== '' ? `${prior}, ${client}` : client;
  if (!trust || headers['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = hop.protocol;
  if ((!trust || headers['x-forwarded-host'] === undefined) && hop.host !== undefined) {
    out['x-forwarded-host'] = hop.host;
  }
  return out;
}
