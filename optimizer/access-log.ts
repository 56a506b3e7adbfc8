import type { CacheResult } from './image-cache.ts';

/** Longest request url an access line carries; past it the url is cut and marked with "…". */
export const MAX_LOGGED_URL = 512;

/**
 * Stage timings of the one request that ran the job (a MISS), in milliseconds; each is unset
 * when the stage did not run (a HIT, a STALE answered from cache, a follower, a 400).
 */
export interface StageTimings {
  /** Waits for the memory budget (admission) and for a transform slot, summed. */
  queueMs?: number;
  /** Source fetch, all attempts, without the wait for memory (next_image_fetch_duration_seconds). */
  fetchMs?: number;
  /** The transform once it has a slot (sharp, or a child's round trip). */
  transformMs?: number;
}

/** What one `/_next/image` request leaves for its access line. */
export interface AccessRecord {
  cache?: CacheResult;
  timings?: StageTimings;
  /** Body bytes sent (0 for HEAD and 304). */
  bytes?: number;
  /** The error behind a 500, logged with the line. */
  err?: unknown;
}

/** The request url, cut to MAX_LOGGED_URL characters. */
export function loggedUrl(url: string): string {
  return url.length <= MAX_LOGGED_URL ? url : `${url.slice(0, MAX_LOGGED_URL)}…`;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** Fields of an access line (undefined ones are left out by pino). */
export function accessFields(
  reqId: string,
  method: string,
  url: string,
  status: number,
  contentType: unknown,
  totalMs: number,
  record: AccessRecord | undefined,
): Record<string, unknown> {
  const timings = record?.timings;
  return {
    reqId,
    method,
    url: loggedUrl(url),
    status,
    cache: record?.cache ?? 'none',
    queueMs: timings?.queueMs === undefined ? undefined : round(timings.queueMs),
    fetchMs: timings?.fetchMs === undefined ? undefined : round(timings.fetchMs),
    transformMs: timings?.transformMs === undefined ? undefined : round(timings.transformMs),
    totalMs: round(totalMs),
    bytes: record?.bytes ?? 0,
    contentType: typeof contentType === 'string' ? contentType : undefined,
    err: record?.err,
  };
}

/**
 * A W3C Server-Timing value: `cache;desc="HIT"`, then `queue`, `fetch`, `transform` (those that
 * ran) and `total`, durations in milliseconds.
 */
export function serverTiming(record: AccessRecord | undefined, totalMs: number): string {
  const parts = [`cache;desc="${record?.cache ?? 'none'}"`];
  const timings = record?.timings;
  if (timings?.queueMs !== undefined) parts.push(`queue;dur=${round(timings.queueMs)}`);
  if (timings?.fetchMs !== undefined) parts.push(`fetch;dur=${round(timings.fetchMs)}`);
  if (timings?.transformMs !== undefined) parts.push(`transform;dur=${round(timings.transformMs)}`);
  parts.push(`total;dur=${round(totalMs)}`);
  return parts.join(', ');
}
