import { createHash } from 'node:crypto';
import { ENTRY_FORMAT_VERSION } from './entry-format.ts';

/** Every Redis key and channel of one store, under its prefix and the entry format version. */
export interface RedisKeys {
  /** Hash: `m` = metadata JSON, `b` = image bytes. */
  entry(key: string): string;
  /** Set of entry keys made from one source url, for purges. */
  href(href: string): string;
  /** String: token of the replica producing `key` (SET NX PX, renewed while it works). */
  lease(key: string): string;
  /** String: token of the replica revalidating a stale `key`; kept 3–30 s after a failure. */
  revalidation(key: string): string;
  /** String: JSON of the client error a flight ended with, for waiters that missed the message. */
  failure(key: string): string;
  /** Channel: `{k, t}` when a flight for key k held by token t ends. */
  flightChannel: string;
  /** Channel: `{href}` when a source url is purged (drops it from in-process tiers). */
  purgeChannel: string;
}

/** The key layout for `prefix`; the version segment keeps formats of other releases apart. */
export function redisKeys(prefix: string): RedisKeys {
  const base = `${prefix}v${ENTRY_FORMAT_VERSION}:`;
  return {
    entry: (key) => `${base}e:${key}`,
    href: (href) => `${base}h:${createHash('sha256').update(href).digest('base64url')}`,
    lease: (key) => `${base}l:${key}`,
    revalidation: (key) => `${base}r:${key}`,
    failure: (key) => `${base}x:${key}`,
    flightChannel: `${base}flight`,
    purgeChannel: `${base}purge`,
  };
}
