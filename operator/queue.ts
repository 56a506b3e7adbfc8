import type { OperatorMetrics } from './metrics.ts';

/**
 * Retry pacing, as controller-runtime's default rate limiter: per key, 5 ms doubling to 1000 s;
 * overall, a token bucket of 10 retries per second with a burst of 100 — the larger delay wins.
 */
export const BACKOFF = { baseMs: 5, maxMs: 1_000_000, qps: 10, burst: 100 } as const;

/** A token bucket that hands out reservations: the delay until a token is available. */
class TokenBucket {
  #tokens: number = BACKOFF.burst;
  #at = Date.now();

  reserve(): number {
    const now = Date.now();
    this.#tokens = Math.min(BACKOFF.burst, this.#tokens + ((now - this.#at) / 1000) * BACKOFF.qps);
    this.#at = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / BACKOFF.qps) * 1000);
  }
}

/**
 * A client-go style work queue of keys (`namespace/name`): a key waiting is queued once however
 * often it is added; a key being processed is not handed out again until `done`, and if it was
 * added meanwhile it is queued again then. So one reconcile per key at a time, and no lost
 * updates.
 */
export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #addedAt = new Map<string, number>();
  readonly #startedAt = new Map<string, number>();
  readonly #delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #failures = new Map<string, number>();
  readonly #bucket = new TokenBucket();
  readonly #waiters: Array<(key: string | undefined) => void> = [];
  readonly #metrics: OperatorMetrics | undefined;
  readonly #labels = { name: 'imageoptimizer', controller: 'imageoptimizer' };
  #shuttingDown = false;

  constructor(metrics?: OperatorMetrics) {
    this.#metrics = metrics;
  }

  /** Queues `key` unless it is already waiting. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#metrics?.queueAdds.inc(this.#labels);
    this.#dirty.add(key);
    this.#addedAt.set(key, performance.now());
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  /** Queues `key` after `ms`; an earlier pending schedule for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending !== undefined && pending.at <= at) return;
    if (pending !== undefined) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.#delayed.set(key, { at, timer });
  }

  /** Queues `key` after its backoff (doubling per failure until `forget`, and at most 10/s overall). */
  addRateLimited(key: string): void {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    this.#metrics?.queueRetries.inc(this.#labels);
    const perKey = Math.min(BACKOFF.maxMs, BACKOFF.baseMs * 2 ** failures);
    this.addAfter(key, Math.max(perKey, this.#bucket.reserve()));
  }

  /** Clears the failure count of `key` (after a success). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Failures since the last forget. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The next key to process, or undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    // After shutdown nothing more is handed out, even if keys wait: they belong to whoever
    // leads next, and a stopping replica must not act on them.
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key !== undefined) return Promise.resolve(this.#take(key));
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks `key` processed; re-queues it if it was added while being processed. */
  done(key: string): void {
    this.#processing.delete(key);
    const started = this.#startedAt.get(key);
    this.#startedAt.delete(key);
    if (started !== undefined)
      this.#metrics?.workDuration.observe(this.#labels, (performance.now() - started) / 1000);
    if (this.#dirty.has(key)) this.#push(key);
  }

  /** Keys waiting (not counting delayed ones). */
  get length(): number {
    return this.#queue.length;
  }

  /** Keys being processed right now. */
  get inFlight(): number {
    return this.#processing.size;
  }

  /** Stops handing out keys (queued ones stay unprocessed); waiting `get` calls resolve with undefined. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const { timer } of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  #push(key: string): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter(this.#take(key));
      return;
    }
    this.#queue.push(key);
    this.#metrics?.queueDepth.set(this.#labels, this.#queue.length);
  }

  #take(key: string): string {
    this.#dirty.delete(key);
    this.#processing.add(key);
    const added = this.#addedAt.get(key);
    this.#addedAt.delete(key);
    if (added !== undefined)
      this.#metrics?.queueDuration.observe(this.#labels, (performance.now() - added) / 1000);
    this.#startedAt.set(key, performance.now());
    this.#metrics?.queueDepth.set(this.#labels, this.#queue.length);
    return key;
  }
}
