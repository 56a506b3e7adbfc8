import type { CachedImage } from '../types.ts';

/** Next.js re-arms a failed revalidation after 3–30 s; the same window applies here. */
export const REVALIDATE_RETRY_MIN_MS = 3_000;
export const REVALIDATE_RETRY_MAX_MS = 30_000;

/** A random delay in Next.js's re-arm window, so replicas do not retry in step. */
export function revalidateRetryDelay(random: () => number = Math.random): number {
  return (
    REVALIDATE_RETRY_MIN_MS +
    Math.floor(random() * (REVALIDATE_RETRY_MAX_MS - REVALIDATE_RETRY_MIN_MS))
  );
}

/**
 * In-process stale-while-revalidate coordination: one revalidation per key at a time, and
 * none for a key whose last revalidation failed less than the re-arm delay ago.
 */
export class LocalRevalidator {
  readonly #running = new Set<string>();
  readonly #retryAt = new Map<string, number>();

  /** True when a revalidation of `key` may start now. */
  canStart(key: string, now = Date.now()): boolean {
    if (this.#running.has(key)) return false;
    const retryAt = this.#retryAt.get(key);
    return retryAt === undefined || retryAt <= now;
  }

  /**
   * Runs `produce` then `save` unless `key` is already being revalidated or backing off.
   * Resolves true when a fresh entry was saved; never rejects.
   */
  async run(
    key: string,
    produce: () => Promise<CachedImage>,
    save: (entry: CachedImage) => Promise<void>,
  ): Promise<boolean> {
    if (!this.canStart(key)) return false;
    this.#running.add(key);
    try {
      await save(await produce());
      this.#retryAt.delete(key);
      return true;
    } catch {
      this.#prune();
      this.#retryAt.set(key, Date.now() + revalidateRetryDelay());
      return false;
    } finally {
      this.#running.delete(key);
    }
  }

  /** Forgets back-offs that ran out, so failing keys do not accumulate forever. */
  #prune(): void {
    const now = Date.now();
    for (const [key, at] of this.#retryAt) if (at <= now) this.#retryAt.delete(key);
  }
}
