import type { Logger } from '../lib/logger.ts';
import { clampCacheSeconds } from './cache-ttl.ts';
import { JobTimeoutError } from './errors.ts';
import { budgetSignal } from './job-budget.ts';
import type { ImageStore } from './storage/types.ts';
import type { CachedImage, ImageEntry } from './types.ts';

export type CacheResult = 'HIT' | 'MISS' | 'STALE';

/** How an image is produced for a key; `previous` is the stale entry on revalidation. */
export type Producer = (signal: AbortSignal, previous?: CachedImage) => Promise<ImageEntry>;

/**
 * Next.js's response-cache semantics over an ImageStore: fresh → HIT; expired → STALE now and
 * one background revalidation; missing → MISS, produced once per key however many ask.
 */
export class ImageCache {
  readonly #store: ImageStore;
  readonly #timeoutMs: number;
  readonly #minimumCacheTTL: number;
  readonly #logger: Logger;

  constructor(opts: {
    store: ImageStore;
    timeoutMs: number;
    minimumCacheTTL: number;
    logger: Logger;
  }) {
    this.#store = opts.store;
    this.#timeoutMs = opts.timeoutMs;
    this.#minimumCacheTTL = opts.minimumCacheTTL;
    this.#logger = opts.logger;
  }

  /**
   * The image for `key`, with Next's X-Nextjs-Cache value. `waitSignal` bounds this caller's
   * wait on a miss; it is asked for only then.
   */
  async get(
    key: string,
    href: string,
    produce: Producer,
    waitSignal: () => AbortSignal,
  ): Promise<{ entry: CachedImage; result: CacheResult }> {
    const cached = await this.#store.get(key);
    if (cached !== undefined) {
      if (Date.now() <= cached.expireAt) return { entry: cached, result: 'HIT' };
      this.#revalidate(key, href, produce, cached);
      return { entry: cached, result: 'STALE' };
    }
    const entry = await this.#store.singleFlight(
      key,
      () => this.#produceAndStore(key, href, produce),
      waitSignal(),
    );
    return { entry, result: 'MISS' };
  }

  /** Runs a job within the `timeout` budget; a failed job is not cached. */
  async #produce(produce: Producer, previous?: CachedImage): Promise<CachedImage> {
    const signal = budgetSignal(this.#timeoutMs);
    let entry: ImageEntry;
    try {
      entry = await produce(signal, previous);
    } catch (error: unknown) {
      if (signal.aborted && !(error instanceof JobTimeoutError)) {
        throw new JobTimeoutError({ cause: error });
      }
      throw error;
    }
    const ttl = clampCacheSeconds(Math.max(entry.maxAge, this.#minimumCacheTTL));
    return { ...entry, expireAt: Date.now() + ttl * 1000 };
  }

  async #produceAndStore(key: string, href: string, produce: Producer): Promise<CachedImage> {
    const cached = await this.#produce(produce);
    await this.#store.set(key, cached, href);
    return cached;
  }

  /**
   * One background revalidation per key (across replicas for shared stores); while it runs,
   * and for 3–30 s after it failed, everyone keeps getting the stale entry.
   */
  #revalidate(key: string, href: string, produce: Producer, stale: CachedImage): void {
    void this.#store.revalidate(key, href, async () => {
      try {
        return await this.#produce(produce, stale);
      } catch (error: unknown) {
        this.#logger.warn({ href, err: error }, 'revalidation failed; keeping the stale entry');
        throw error;
      }
    });
  }
}
