import type { Logger } from '../lib/logger.ts';
import { JobTimeoutError } from './errors.ts';
import { budgetSignal } from './pipeline.ts';
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
  readonly #revalidating = new Set<string>();

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

  /** The image for `key`, with Next's X-Nextjs-Cache value. `signal` bounds this caller's wait. */
  async get(
    key: string,
    href: string,
    produce: Producer,
    signal: AbortSignal,
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
      signal,
    );
    return { entry, result: 'MISS' };
  }

  /** Runs a job within the `timeout` budget and stores its result; a failed job is not cached. */
  async #produceAndStore(
    key: string,
    href: string,
    produce: Producer,
    previous?: CachedImage,
  ): Promise<CachedImage> {
    const signal = budgetSignal(this.#timeoutMs);
    let entry: ImageEntry;
    try {
      entry = await produce(signal, previous);
    } catch (error: unknown) {
      if (signal.aborted && !(error instanceof JobTimeoutError))
        throw new JobTimeoutError({ cause: error });
      throw error;
    }
    const cached: CachedImage = {
      ...entry,
      expireAt: Date.now() + Math.max(entry.maxAge, this.#minimumCacheTTL) * 1000,
    };
    await this.#store.set(key, cached, href);
    return cached;
  }

  #revalidate(key: string, href: string, produce: Producer, stale: CachedImage): void {
    if (this.#revalidating.has(key)) return;
    this.#revalidating.add(key);
    const detached = new AbortController().signal;
    this.#store
      .singleFlight(key, () => this.#produceAndStore(key, href, produce, stale), detached)
      .catch(async (error: unknown) => {
        // Keep serving the stale bytes; try again in 3–30 s, as Next.js does.
        this.#logger.warn({ href, err: error }, 'revalidation failed; keeping the stale entry');
        const retryIn = 3000 + Math.floor(Math.random() * 27_000);
        await this.#store.set(key, { ...stale, expireAt: Date.now() + retryIn }, href);
      })
      .finally(() => this.#revalidating.delete(key));
  }
}
