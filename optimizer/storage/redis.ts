import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CachedImage } from '../types.ts';
import { clusterFlight } from './cluster-flight.ts';
import { StorageUnavailableError } from './errors.ts';
import { MemoryStore } from './memory.ts';
import { createStorageMetrics, type StorageMetrics } from './metrics.ts';
import { KeyedNotifier } from './notifier.ts';
import { RedisConnection } from './redis-connection.ts';
import { deleteHref, readEntry, writeEntry } from './redis-entries.ts';
import { type RedisKeys, redisKeys } from './redis-keys.ts';
import { tryLease } from './redis-lease.ts';
import { LocalRevalidator, revalidateRetryDelay } from './revalidation.ts';
import { SingleFlight } from './single-flight.ts';
import type { ImageStore, StorageState } from './types.ts';

/** Tuning of the redis/valkey store, in one place. */
export const REDIS_STORE_DEFAULTS = {
  /** A lease lives this long unless renewed (every third of it); a dead holder is replaced after it. */
  leaseMs: 5_000,
  /** Waiters look at Redis this often when no message came (lost message, dead holder). */
  pollMs: 250,
  /** Entries stay in Redis this long past their expiry, to be served stale while revalidating. */
  staleTtlMs: 24 * 60 * 60 * 1000,
  /** A leader's client error is kept this long for waiters that missed its message. */
  failureTtlMs: 10_000,
} as const;

export interface RedisStoreOptions {
  url: string;
  prefix: string;
  /** Overrides the database in the URL. */
  db?: number;
  /** Bound of the in-process tier in front of Redis (0 = none). */
  memoryCacheBytes: number;
  logger: Logger;
  registry?: Registry;
  leaseMs?: number;
  pollMs?: number;
  staleTtlMs?: number;
  failureTtlMs?: number;
}

/**
 * A cache shared by every replica on one Redis/Valkey, with a bounded in-process tier in
 * front, cluster-wide single flight and stale-while-revalidate. Redis trouble never fails a
 * call: the store then serves from the in-process tier and lets callers do their own work.
 */
export class RedisStore implements ImageStore {
  readonly #memory: MemoryStore;
  readonly #connection: RedisConnection;
  readonly #keys: RedisKeys;
  readonly #notifier = new KeyedNotifier();
  readonly #flights = new SingleFlight<CachedImage>();
  readonly #localRevalidator = new LocalRevalidator();
  readonly #revalidating = new Set<string>();
  /** Entries this process wrote to Redis, so a flight leader does not write its result twice. */
  readonly #saved = new WeakSet<CachedImage>();
  readonly #metrics: StorageMetrics;
  readonly #logger: Logger;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #staleTtlMs: number;
  readonly #failureTtlMs: number;
  #destroyed = false;

  constructor(options: RedisStoreOptions) {
    this.#logger = options.logger;
    this.#leaseMs = options.leaseMs ?? REDIS_STORE_DEFAULTS.leaseMs;
    this.#pollMs = options.pollMs ?? REDIS_STORE_DEFAULTS.pollMs;
    this.#staleTtlMs = options.staleTtlMs ?? REDIS_STORE_DEFAULTS.staleTtlMs;
    this.#failureTtlMs = options.failureTtlMs ?? REDIS_STORE_DEFAULTS.failureTtlMs;
    this.#memory = new MemoryStore(options.memoryCacheBytes);
    this.#keys = redisKeys(options.prefix);
    this.#connection = new RedisConnection({
      url: options.url,
      db: options.db,
      logger: options.logger,
      channels: {
        [this.#keys.flightChannel]: (message) => this.#onFlightEnded(message),
        [this.#keys.purgeChannel]: (message) => this.#onPurged(message),
      },
      // A purge published while we were cut off never reached us: forget the in-process tier
      // rather than serve something purged (Redis still has everything else).
      onMessagesMissed: () => {
        this.#logger.info(
          'pub/sub reconnected; clearing the in-process tier in case a purge was missed',
        );
        this.#memory.clear();
      },
    });
    this.#metrics = createStorageMetrics(options.registry, {
      type: 'redis',
      state: () => this.state(),
      memoryTierBytes: () => this.#memory.bytes,
    });
  }

  /** Bytes held by the in-process tier. */
  get memoryTierBytes(): number {
    return this.#memory.bytes;
  }

  async get(key: string): Promise<CachedImage | undefined> {
    const local = await this.#memory.get(key);
    if (local !== undefined && local.expireAt > Date.now()) return local;
    if (!this.#connection.ready) return local;
    try {
      const found = await readEntry(this.#connection.client, this.#keys, key);
      if (found === undefined) {
        // Gone from Redis (expired, purged, or Redis was emptied): the local copy goes too.
        if (local !== undefined) this.#memory.delete(key);
        return undefined;
      }
      await this.#memory.set(key, found.entry, found.href);
      return found.entry;
    } catch (error: unknown) {
      this.#connection.noteFailure(error);
      this.#metrics.failed('read');
      this.#logger.debug({ err: error, key }, 'redis read failed; using the in-process tier');
      return local;
    }
  }

  async set(key: string, entry: CachedImage, href: string): Promise<void> {
    if (entry.buffer.byteLength === 0) return;
    await this.#memory.set(key, entry, href);
    if (!this.#connection.ready || this.#destroyed) return;
    try {
      await writeEntry(this.#connection.client, this.#keys, key, entry, href, this.#staleTtlMs);
      this.#saved.add(entry);
    } catch (error: unknown) {
      this.#writeFailed(error, key, 'redis write failed; kept in the in-process tier only');
    }
  }

  singleFlight(
    key: string,
    produce: () => Promise<CachedImage>,
    signal: AbortSignal,
  ): Promise<CachedImage> {
    // One flight per key in this process; that flight coordinates with the other replicas.
    return this.#flights.run(
      key,
      (flightSignal) =>
        clusterFlight(key, produce, flightSignal, {
          connection: this.#connection,
          keys: this.#keys,
          notifier: this.#notifier,
          metrics: this.#metrics,
          leaseMs: this.#leaseMs,
          pollMs: this.#pollMs,
          failureTtlMs: this.#failureTtlMs,
          adopt: (k, entry, href) => void this.#memory.set(k, entry, href),
          ensureSaved: (k, entry) => this.#ensureSaved(k, entry),
          destroyed: () => this.#destroyed,
        }),
      signal,
    );
  }

  async revalidate(
    key: string,
    href: string,
    produce: () => Promise<CachedImage>,
  ): Promise<boolean> {
    if (this.#revalidating.has(key)) return false;
    if (!this.#connection.ready)
      return this.#localRevalidator.run(key, produce, (e) => this.set(key, e, href));
    this.#revalidating.add(key);
    try {
      let lease: Awaited<ReturnType<typeof tryLease>>;
      try {
        lease = await tryLease(
          this.#connection.client,
          this.#keys.revalidation(key),
          this.#leaseMs,
        );
      } catch {
        return await this.#localRevalidator.run(key, produce, (e) => this.set(key, e, href));
      }
      // Another replica revalidates, or one failed recently and holds the lease as a back-off.
      if (lease === undefined) return false;
      try {
        await this.set(key, await produce(), href);
        await lease.release();
        return true;
      } catch {
        await lease.holdFor(revalidateRetryDelay());
        return false;
      }
    } finally {
      this.#revalidating.delete(key);
    }
  }

  async purge(href: string): Promise<number> {
    const local = await this.#memory.purge(href);
    if (!this.#connection.ready) {
      this.#metrics.purged(local);
      throw new StorageUnavailableError(
        'redis is unreachable: only this replica was purged; retry when it is back',
      );
    }
    try {
      const removed = Math.max(await deleteHref(this.#connection.client, this.#keys, href), local);
      await this.#connection.client.publish(this.#keys.purgeChannel, JSON.stringify({ href }));
      this.#metrics.purged(removed);
      return removed;
    } catch (error: unknown) {
      this.#metrics.failed('purge');
      throw new StorageUnavailableError('redis failed during the purge; retry it', {
        cause: error,
      });
    }
  }

  state(): StorageState {
    return this.#connection.state();
  }

  async close(): Promise<void> {
    await this.#connection.close();
  }

  /** Drops the connections at once without releasing leases or telling waiters, as a crash would. */
  destroy(): void {
    this.#destroyed = true;
    this.#connection.destroy();
  }

  async #ensureSaved(key: string, entry: CachedImage): Promise<void> {
    if (this.#saved.has(entry) || !this.#connection.ready) return;
    // `produce` did not store its result: store it untagged so waiters can read it.
    try {
      await writeEntry(this.#connection.client, this.#keys, key, entry, '', this.#staleTtlMs);
    } catch (error: unknown) {
      this.#writeFailed(error, key, 'redis write of a flight result failed');
    }
  }

  /**
   * A write that did not land: counted and logged at warn, since the fleet now produces this
   * image again (while Redis is merely down, writes are skipped and never get here).
   */
  #writeFailed(error: unknown, key: string, message: string): void {
    this.#connection.noteFailure(error);
    this.#metrics.failed('write');
    this.#logger.warn({ err: error, key }, message);
  }

  #onFlightEnded(message: string): void {
    const key = parseField(message, 'k');
    if (key !== undefined) this.#notifier.notify(key);
  }

  #onPurged(message: string): void {
    const href = parseField(message, 'href');
    if (href !== undefined) void this.#memory.purge(href);
  }
}

/** A string field of a JSON object message; undefined for anything else. */
function parseField(message: string, field: string): string | undefined {
  try {
    const value = (JSON.parse(message) as Record<string, unknown>)[field];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
