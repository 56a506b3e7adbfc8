import { connection } from 'next/server';

/**
 * The CDN's origin (scheme://host[:port]) from CDN_ORIGIN, read per request: the namespace,
 * and so the host, is known only when the pod runs.
 */
export async function cdnOrigin() {
  await connection();
  return (process.env.CDN_ORIGIN ?? 'http://cdn').replace(/\/+$/, '');
}

/** A host the ImageOptimizer's remotePatterns do not allow (BLOCKED_ORIGIN overrides it). */
export async function blockedOrigin() {
  await connection();
  return (process.env.BLOCKED_ORIGIN ?? 'http://blocked.example.com').replace(/\/+$/, '');
}
