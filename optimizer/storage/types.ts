import type { CachedImage } from '../types.ts';

/** Health of the storage backend, shown in /metrics and (optionally) /readyz. */
export type StorageState = 'ok' | 'degraded';

/**
 * Where finished images live and how work is shared. The memory store keeps both in-process;
 * the filesystem and redis/valkey stores share them across restarts and replicas.
 */
export interface ImageStore {
  /** The entry for a cache key, fresh or stale; undefined on a miss. Never throws for outages. */
  get(key: string): Promise<CachedImage | undefined>;
  /** Stores an entry; `href` tags it so `purge(href)` can find every variant. Never throws for outages. */
  set(key: string, entry: CachedImage, href: string): Promise<void>;
  /**
   * Runs `produce` once per key among all callers sharing this store (cluster-wide for
   * redis/valkey, across processes on one directory for filesystem); the others get its
   * result. `produce` should `set` its result: other replicas read it from the store (if it
   * does not, the redis store writes it untagged, so a purge by href cannot find it).
   * `signal` aborts this caller's wait only; the work goes on for the others.
   */
  singleFlight(
    key: string,
    produce: () => Promise<CachedImage>,
    signal: AbortSignal,
  ): Promise<CachedImage>;
  /**
   * Stale-while-revalidate: runs `produce` in the background and stores its result under `key`
   * (tagged `href`), unless another caller — on any replica for redis/valkey — is already
   * revalidating `key`, or its last revalidation failed less than 3–30 s ago (the stale entry
   * stays). Resolves true when this caller stored a fresh entry; never rejects.
   */
  revalidate(key: string, href: string, produce: () => Promise<CachedImage>): Promise<boolean>;
  /**
   * Removes every cached variant of one source url in every tier (on every replica for
   * redis/valkey); returns how many entries went. Throws StorageUnavailableError when the
   * shared tier cannot be reached, since a silent partial purge would mislead.
   */
  purge(href: string): Promise<number>;
  state(): StorageState;
  close(): Promise<void>;
}
