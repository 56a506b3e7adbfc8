/** A byte-bounded LRU map: inserting past `maxBytes` evicts the least recently used entries. */
export class ByteLru<V> {
  readonly #map = new Map<string, { value: V; bytes: number }>();
  readonly #maxBytes: number;
  readonly #onEvict: ((key: string, value: V) => void) | undefined;
  #bytes = 0;

  /** `onEvict` hears of entries pushed out by the bound (not of delete or replacement). */
  constructor(maxBytes: number, onEvict?: (key: string, value: V) => void) {
    this.#maxBytes = maxBytes;
    this.#onEvict = onEvict;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The value for `key`, marking it most recently used. */
  get(key: string): V | undefined {
    const hit = this.#map.get(key);
    if (hit === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, hit);
    return hit.value;
  }

  /** Stores `value`; an entry larger than the whole bound is not kept. */
  set(key: string, value: V, bytes: number): void {
    this.delete(key);
    if (bytes > this.#maxBytes) {
      this.#onEvict?.(key, value);
      return;
    }
    this.#map.set(key, { value, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#map) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#map.delete(oldest);
      this.#bytes -= entry.bytes;
      this.#onEvict?.(oldest, entry.value);
    }
  }

  delete(key: string): boolean {
    const hit = this.#map.get(key);
    if (hit === undefined) return false;
    this.#map.delete(key);
    this.#bytes -= hit.bytes;
    return true;
  }

  /** The value for `key` without marking it used. */
  peek(key: string): V | undefined {
    return this.#map.get(key)?.value;
  }

  /** Keys from least to most recently used. */
  keys(): IterableIterator<string> {
    return this.#map.keys();
  }
}
