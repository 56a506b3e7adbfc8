import { setTimeout as sleep } from 'node:timers/promises';
import type { PrewarmTarget } from './plan.ts';

/** What one request of a prewarm answered. */
export interface PrewarmResponse {
  status: number;
  /** X-Nextjs-Cache: HIT, MISS or STALE (absent for errors). */
  cache: string | undefined;
  retryAfter: string | undefined;
  bytes: number;
}

/** Sends one prewarm request; the CLI uses HTTP, the optimizer's admin route inject(). */
export type PrewarmFetch = (target: PrewarmTarget, signal: AbortSignal) => Promise<PrewarmResponse>;

/** Counts so far; `done` includes errors. */
export interface PrewarmProgress {
  total: number;
  done: number;
  hits: number;
  misses: number;
  stale: number;
  errors: number;
  /** 503/429 answers that were waited out and asked again. */
  retries: number;
  bytes: number;
}

/** One failed request, for the summary (first few only). */
export interface PrewarmFailure {
  path: string;
  accept: string;
  status: number | undefined;
  message: string;
}

export interface PrewarmSummary extends PrewarmProgress {
  elapsedMs: number;
  failures: PrewarmFailure[];
}

export interface PrewarmRunOptions {
  fetch: PrewarmFetch;
  /** Requests in flight at once. */
  concurrency: number;
  /** How often one request is asked again after 503/429 before it counts as an error. */
  retries: number;
  /** Longest Retry-After honoured (a longer one is cut to this), in ms. */
  maxRetryAfterMs: number;
  onProgress?: (progress: Readonly<PrewarmProgress>) => void;
  signal?: AbortSignal;
  /** Failures kept for the summary. */
  keepFailures?: number;
}

export const PREWARM_DEFAULTS = {
  concurrency: 4,
  retries: 5,
  maxRetryAfterMs: 30_000,
  /** When a 503/429 carries no usable Retry-After. */
  retryAfterMs: 1000,
} as const;

/** The counts of a prewarm that has not started. */
export function emptyProgress(total: number): PrewarmProgress {
  return { total, done: 0, hits: 0, misses: 0, stale: 0, errors: 0, retries: 0, bytes: 0 };
}

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Requests every target with bounded concurrency, waits out 503/429 as Retry-After says (up
 * to `retries` times), and counts hits, misses, errors and bytes.
 */
export async function runPrewarm(
  targets: readonly PrewarmTarget[],
  options: PrewarmRunOptions,
): Promise<PrewarmSummary> {
  const started = Date.now();
  const progress = emptyProgress(targets.length);
  const failures: PrewarmFailure[] = [];
  const keep = options.keepFailures ?? 20;
  const signal = options.signal ?? new AbortController().signal;
  let next = 0;

  const fail = (target: PrewarmTarget, status: number | undefined, message: string): void => {
    progress.errors++;
    if (failures.length < keep) failures.push({ ...target, status, message });
  };

  const one = async (target: PrewarmTarget): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      let response: PrewarmResponse;
      try {
        response = await options.fetch(target, signal);
      } catch (error: unknown) {
        if (signal.aborted) throw error;
        fail(target, undefined, error instanceof Error ? error.message : String(error));
        return;
      }
      progress.bytes += response.bytes;
      const busy = response.status === 503 || response.status === 429;
      if (busy && attempt < options.retries) {
        progress.retries++;
        const wait = retryAfterMs(response.retryAfter) ?? PREWARM_DEFAULTS.retryAfterMs;
        await sleep(Math.min(wait, options.maxRetryAfterMs), undefined, { signal });
        continue;
      }
      if (response.status !== 200) {
        fail(target, response.status, `answered ${response.status}`);
        return;
      }
      const cache = response.cache?.toUpperCase();
      if (cache === 'HIT') progress.hits++;
      else if (cache === 'STALE') progress.stale++;
      else progress.misses++;
      return;
    }
  };

  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      if (signal.aborted) return;
      const target = targets[next++] as PrewarmTarget;
      await one(target);
      progress.done++;
      options.onProgress?.(progress);
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency, targets.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return { ...progress, elapsedMs: Date.now() - started, failures };
}
