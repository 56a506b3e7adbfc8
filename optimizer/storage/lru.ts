import { LRUCache } from 'lru-cache';

/**
 * A byte-bounded LRU map on lru-cache (`maxSize` + per-entry size). What it adds, and why it is
 * not lru-cache alone: a bound of 0 bytes (`optimizer.memoryCacheBytes: 0` turns the memory
 * tier off; lru-cache refuses a zero maxSize), and `onEvict` also hears of an entry too large
 * to keep at all (the filesystem store must then delete the file it just wrote), which
 * lru-cache drops without telling its dispose hook.
 */
export class ByteLru<V extends object> {
  readonly #cache: LRUCache<string, V> | undefined;
  readonly #maxBytes: number;
  readonly #onEvict: ((key: string, value: V) => void) | undefined;

  /** `onEvict` hears of entries pushed out by the bound (not of delete or replacement). */
  constructor(maxBytes: number, onEvict?: (key: string, value: V) => void) {
    this.#maxBytes = maxBytes;
    this.#onEvict = onEvict;
    this.#cache =
      maxBytes > 0
        ? new LRUCache<string, V>({
            maxSize: maxBytes,
            dispose: (value, key, reason) => {
              if (reason === 'evict') this.#onEvict?.(key, value);
            },
          })
        : undefined;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  get bytes(): number {
    return this.#cache?.calculatedSize ?? 0;
  }

  get size(): number {
    return this.#cache?.size ?? 0;
  }

  /** The value for `key`, marking it most recently used. */
  get(key: string): V | undefined {
    return this.#cache?.get(key);
  }

  /** Stores `value`; an entry larger than the whole bound is not kept (and counts as evicted). */
  set(key: string, value: V, bytes: number): void {
    if (this.#cache === undefined || bytes > this.#maxBytes) {
      this.#cache?.delete(key);
      this.#onEvict?.(key, value);
      return;
    }
    this.#cache.set(key, value, { size: Math.max(1, bytes) });
  }

  delete(key: string): boolean {
    return this.#cache?.delete(key) ?? false;
  }

  /** The value for `key` without marking it used. */
  peek(key: string): V | undefined {
    return this.#cache?.peek(key);
  }

  /** Keys from least to most recently used. */
  keys(): IterableIterator<string> {
    return this.#cache?.rkeys() ?? [][Symbol.iterator]();
  }
}
