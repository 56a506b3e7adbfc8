/**
 * How long a result may live, in one place. One year is the ceiling HTTP caches have long used
 * for "never expires" (RFC 2616 §14.21). Without a ceiling an upstream `max-age` of 31 digits
 * became `max-age=1e+30` on the wire and an expiry Redis refuses (PEXPIRE takes a 64-bit integer
 * of milliseconds), so the entry never expired.
 */
export const MAX_CACHE_SECONDS = 31_536_000;

/** `seconds` as whole seconds within 0..MAX_CACHE_SECONDS (NaN and negatives → 0). */
export function clampCacheSeconds(seconds: number): number {
  if (!(seconds > 0)) return 0;
  return Math.min(Math.floor(seconds), MAX_CACHE_SECONDS);
}
