import type { CachedImage } from '../types.ts';
import { ByteLru } from './lru.ts';
import { LocalRevalidator } from './revalidation.ts';
import { SingleFlight } from './single-flight.ts';
import type { ImageStore, StorageState } from './types.ts';

/** Bytes an entry costs in memory: its image plus a small fixed overhead for metadata. */
function entryBytes(entry: CachedImage): number {
  return entry.buffer.byteLength + 256;
}

/** The default store: an in-process LRU bounded in bytes, with in-process single flight. */
export class MemoryStore implements ImageStore {
  readonly #lru: ByteLru<{ entry: CachedImage; href: string }>;
  readonly #flights = new SingleFlight<CachedImage>();
  readonly #revalidator = new LocalRevalidator();

  constructor(maxBytes: number) {
    this.#lru = new ByteLru(maxBytes);
  }

  get bytes(): number {
    return this.#lru.bytes;
  }

  async get(key: string): Promise<CachedImage | undefined> {
    return this.#lru.get(key)?.entry;
  }

  async set(key: string, entry: CachedImage, href: string): Promise<void> {
    if (entry.buffer.byteLength === 0) return;
    this.#lru.set(key, { entry, href }, entryBytes(entry));
  }

  singleFlight(
    key: string,
    produce: () => Promise<CachedImage>,
    signal: AbortSignal,
  ): Promise<CachedImage> {
    return this.#flights.run(key, produce, signal);
  }

  revalidate(key: string, href: string, produce: () => Promise<CachedImage>): Promise<boolean> {
    return this.#revalidator.run(key, produce, (entry) => this.set(key, entry, href));
  }

  async purge(href: string): Promise<number> {
    let removed = 0;
    for (const key of [...this.#lru.keys()]) {
      const hit = this.#lru.peek(key);
      if (hit !== undefined && hit.href === href && this.#lru.delete(key)) removed++;
    }
    return removed;
  }

  /** Drops every entry. */
  clear(): void {
    for (const key of [...this.#lru.keys()]) this.#lru.delete(key);
  }

  /** Drops one key (used when a shared tier says the entry is gone or replaced). */
  delete(key: string): boolean {
    return this.#lru.delete(key);
  }

  state(): StorageState {
    return 'ok';
  }

  async close(): Promise<void> {}
}
