import dns from 'node:dns';
import { isIP } from 'node:net';
import { abortable } from '../../lib/abortable.ts';
import { ImageError, MESSAGES } from '../errors.ts';
import { isPublicUnicast } from './address-policy.ts';
import { DnsLookupError } from './fetch-errors.ts';

/**
 * The SSRF guard of spec statement 31: resolve a hostname once, refuse it when ANY address is
 * not allowed, and hand back the checked addresses so the caller connects to exactly those
 * (agents.ts dispatches to the address itself, which is what defeats DNS rebinding).
 */

/** One resolved address. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a hostname to all its addresses (dns.lookup with `all: true` by default). */
export type LookupFn = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** How to resolve and judge a host. */
export interface GuardOptions {
  /** Next's `images.dangerouslyAllowLocalIP`: resolve and pin, but skip the address check. */
  dangerouslyAllowLocalIP: boolean;
  /** Injectable resolver (tests map names to loopback without touching DNS). */
  lookup?: LookupFn;
  /** Injectable policy; defaults to isPublicUnicast. */
  isAllowedAddress?: (address: string) => boolean;
  /** Stops waiting for a slow resolver. */
  signal?: AbortSignal;
}

/** Next's resolver call: every address, only families this host can reach. */
export const systemLookup: LookupFn = (hostname) =>
  dns.promises.lookup(hostname, { all: true, hints: dns.ADDRCONFIG });

/** A URL hostname without IPv6 brackets. */
export function bareHostname(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** All addresses of `hostname`; IP literals as is. DNS failures throw DnsLookupError. */
export async function resolveHost(
  hostname: string,
  lookup: LookupFn = systemLookup,
  signal?: AbortSignal,
): Promise<ResolvedAddress[]> {
  const host = bareHostname(hostname);
  const family = isIP(host);
  if (family !== 0) return [{ address: host, family }];
  let addresses: readonly ResolvedAddress[];
  try {
    addresses = await abortable(lookup(host), signal);
  } catch (error: unknown) {
    if (signal?.aborted && error === signal.reason) throw error;
    throw new DnsLookupError(host, { cause: error });
  }
  if (addresses.length === 0) throw new DnsLookupError(host);
  return addresses.map(({ address, family }) => ({ address, family }));
}

/**
 * Resolves `hostname` and returns its addresses when every one is allowed; otherwise throws
 * ImageError 400 `"url" parameter is not allowed` (the same text as a pattern miss).
 */
export async function guardHost(
  hostname: string,
  options: GuardOptions,
): Promise<ResolvedAddress[]> {
  const addresses = await resolveHost(hostname, options.lookup, options.signal);
  if (options.dangerouslyAllowLocalIP) return addresses;
  const isAllowed = options.isAllowedAddress ?? isPublicUnicast;
  const refused = addresses.find(({ address }) => !isAllowed(address));
  if (refused !== undefined) {
    throw new ImageError(400, MESSAGES.notAllowed, 'UPSTREAM_NOT_ALLOWED', {
      cause: new Error(`${bareHostname(hostname)} resolves to ${refused.address}, not public`),
    });
  }
  return addresses;
}
