import { abortable, isTimeoutReason, sleep } from '../../lib/abortable.ts';
import { ImageError, isRetryable, MESSAGES } from '../errors.ts';
import type { UpstreamImage } from '../types.ts';
import { isConnectionError, markRetryable } from './fetch-errors.ts';

/**
 * Platformatic's `maxAttempts` done the way the issue asks: only failures a retry can fix are
 * retried (connection errors, 5xx, 429, one attempt's timeout), with exponential backoff and
 * full jitter, all inside the job's budget (`signal`). The final error is the last attempt's,
 * unchanged, so the client gets exactly Next's answer.
 */

/** Next's single-fetch timeout (statement 34). */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 7000;
export const DEFAULT_BASE_DELAY_MS = 100;
export const DEFAULT_MAX_DELAY_MS = 2000;

/** What onRetry is told before each backoff. */
export interface RetryInfo {
  /** 1-based number of the attempt that just failed. */
  attempt: number;
  error: unknown;
  delayMs: number;
}

/** Options of fetchWithRetries. */
export interface RetryOptions {
  /** Total attempts (Platformatic's maxAttempts); values below 1 mean 1. */
  maxAttempts: number;
  /** The job's budget: when it aborts, everything stops and its reason is thrown. */
  signal: AbortSignal;
  /** One attempt's timeout, also bounded by `signal`. Default 7000 ms. */
  attemptTimeoutMs?: number;
  onRetry?: (info: RetryInfo) => void;
  /** [0, 1) source for the jitter; injectable for deterministic tests. */
  random?: () => number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Epoch ms when the budget ends: a backoff that would reach it gives up with the last error. */
  deadline?: number;
}

/** Full-jitter backoff before retry number `retry` (1-based): random × min(cap, base·2^(retry−1)). */
export function backoffDelay(
  retry: number,
  random: () => number,
  baseMs: number,
  capMs: number,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** True when another attempt may succeed. */
export function shouldRetry(error: unknown): boolean {
  return isRetryable(error) || isConnectionError(error);
}

/** Runs one attempt under its own timeout, linked to the job's signal. */
async function runAttempt<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  parent: AbortSignal,
  timeoutMs: number,
): Promise<T> {
  const controller = new AbortController();
  const onParentAbort = (): void => controller.abort(parent.reason);
  parent.addEventListener('abort', onParentAbort, { once: true });
  const timer = setTimeout(() => {
    controller.abort(
      new DOMException(`fetch attempt timed out after ${timeoutMs} ms`, 'TimeoutError'),
    );
  }, timeoutMs);
  try {
    // abortable(): an attempt that ignores its signal still cannot outlive it.
    return await abortable(attempt(controller.signal), controller.signal);
  } catch (error: unknown) {
    const timedOut = !parent.aborted && isTimeoutReason(controller.signal.reason);
    if (timedOut && !(error instanceof ImageError && error.statusCode === 504)) {
      throw markRetryable(
        new ImageError(504, MESSAGES.upstreamTimeout, 'UPSTREAM_TIMEOUT', { cause: error }),
      );
    }
    // Whatever the failure, nothing of this attempt may keep a connection open.
    controller.abort(error);
    throw error;
  } finally {
    clearTimeout(timer);
    parent.removeEventListener('abort', onParentAbort);
  }
}

/**
 * Runs `attempt` up to `maxAttempts` times, retrying only retryable failures with backoff.
 * Rejects with `signal.reason` once the budget aborts (the in-flight attempt is aborted too).
 */
export async function fetchWithRetries<T = UpstreamImage>(
  attempt: (signal: AbortSignal) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { signal } = options;
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts));
  const timeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
  const random = options.random ?? Math.random;
  for (let number = 1; ; number += 1) {
    if (signal.aborted) throw signal.reason;
    let failure: unknown;
    try {
      return await runAttempt(attempt, signal, timeoutMs);
    } catch (error: unknown) {
      failure = error;
    }
    if (signal.aborted) throw signal.reason;
    if (number >= maxAttempts || !shouldRetry(failure)) throw failure;
    const delayMs = backoffDelay(
      number,
      random,
      options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS,
      options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
    );
    // Sleeping into the budget's end would only turn a real answer into a 504.
    if (options.deadline !== undefined && Date.now() + delayMs >= options.deadline) throw failure;
    options.onRetry?.({ attempt: number, error: failure, delayMs });
    await sleep(delayMs, signal);
  }
}
