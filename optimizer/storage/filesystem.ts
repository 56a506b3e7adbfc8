import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { sleep } from '../../lib/abortable.ts';
import type { CachedImage } from '../types.ts';
import { decodeEntryFile, ENTRY_FORMAT_VERSION, encodeEntryFile } from './entry-format.ts';
import { FILE_LOCK_DEFAULTS, type HeldFileLock, tryFileLock } from './file-lock.ts';
import { scanEntries } from './filesystem-scan.ts';
import { ByteLru } from './lru.ts';
import { MemoryStore } from './memory.ts';
import { createStorageMetrics, type StorageMetrics } from './metrics.ts';
import { LocalRevalidator } from './revalidation.ts';
import { SingleFlight } from './single-flight.ts';
import type { ImageStore, StorageState } from './types.ts';

export interface FilesystemStoreOptions {
  /** Cache directory; entries live under `<path>/v<format version>/`. */
  path: string;
  /** Bound of the files' total size in bytes; least recently used entries go first. */
  maxBytes: number;
  /** Bound of the in-process tier in front of the disk (0 = none). */
  memoryCacheBytes: number;
  logger: Logger;
  registry?: Registry;
  /** A flight's lock file older than this is taken over (its process died). */
  lockLeaseMs?: number;
  /** How often a process waiting on another's lock file looks for the result. */
  lockPollMs?: number;
}

/** What the index knows of one file. */
interface FileInfo {
  href: string;
  /** Last time the file's mtime was bumped to record use (throttled). */
  touchedAt: number;
}

/** Re-record use on disk at most this often per entry, so hits rarely cost a syscall. */
const TOUCH_INTERVAL_MS = 60_000;

/** File name for a cache key: the key itself when it is a safe name, else its hash. */
export function fileNameFor(key: string): string {
  return /^[\w-]{8,128}$/.test(key) ? key : createHash('sha256').update(key).digest('hex');
}

/**
 * Entries as files that survive restarts. Writes go to a temp file renamed into place, so a
 * crash never leaves a torn entry; a damaged or truncated file reads as a miss and is removed.
 * Sizes and use order are kept in memory (rebuilt by a scan at start) to bound the directory.
 */
export class FilesystemStore implements ImageStore {
  readonly #root: string;
  readonly #tmp: string;
  readonly #locks: string;
  readonly #lockLeaseMs: number;
  readonly #lockPollMs: number;
  readonly #logger: Logger;
  readonly #memory: MemoryStore;
  readonly #index: ByteLru<FileInfo>;
  readonly #byHref = new Map<string, Set<string>>();
  readonly #flights = new SingleFlight<CachedImage>();
  readonly #revalidator = new LocalRevalidator();
  readonly #madeDirs = new Set<string>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #metrics: StorageMetrics;
  readonly #ready: Promise<void>;
  #state: StorageState = 'ok';

  constructor(options: FilesystemStoreOptions) {
    this.#root = join(options.path, `v${ENTRY_FORMAT_VERSION}`);
    this.#tmp = join(this.#root, 'tmp');
    this.#locks = join(this.#root, 'locks');
    this.#lockLeaseMs = options.lockLeaseMs ?? FILE_LOCK_DEFAULTS.leaseMs;
    this.#lockPollMs = options.lockPollMs ?? FILE_LOCK_DEFAULTS.pollMs;
    this.#logger = options.logger;
    this.#memory = new MemoryStore(options.memoryCacheBytes);
    this.#index = new ByteLru<FileInfo>(options.maxBytes, (name, info) =>
      this.#evicted(name, info),
    );
    this.#metrics = createStorageMetrics(options.registry, {
      type: 'filesystem',
      state: () => this.state(),
      memoryTierBytes: () => this.#memory.bytes,
    });
    this.#ready = this.#scan().catch((error: unknown) => this.#failed(error, 'scan'));
  }

  /** Resolves once the start-up scan has rebuilt the index. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Total size of the files in the cache. */
  get diskBytes(): number {
    return this.#index.bytes;
  }

  get entries(): number {
    return this.#index.size;
  }

  async get(key: string): Promise<CachedImage | undefined> {
    await this.#ready;
    const name = fileNameFor(key);
    const inMemory = await this.#memory.get(name);
    if (inMemory !== undefined && this.#index.peek(name) !== undefined) {
      this.#used(name);
      return inMemory;
    }
    return this.#readDisk(name);
  }

  async set(key: string, entry: CachedImage, href: string): Promise<void> {
    if (entry.buffer.byteLength === 0) return;
    await this.#ready;
    const name = fileNameFor(key);
    await this.#memory.set(name, entry, href);
    const write = this.#write(name, entry, href);
    this.#pending.add(write);
    try {
      await write;
    } finally {
      this.#pending.delete(write);
    }
  }

  singleFlight(
    key: string,
    produce: () => Promise<CachedImage>,
    signal: AbortSignal,
  ): Promise<CachedImage> {
    // One flight per key in this process; a lock file extends it to processes sharing the directory.
    return this.#flights.run(key, (flight) => this.#lockedFlight(key, produce, flight), signal);
  }

  revalidate(key: string, href: string, produce: () => Promise<CachedImage>): Promise<boolean> {
    return this.#revalidator.run(key, produce, (entry) => this.set(key, entry, href));
  }

  async purge(href: string): Promise<number> {
    await this.#ready;
    const names = [...(this.#byHref.get(href) ?? [])];
    for (const name of names) this.#forget(name);
    await Promise.all(names.map((name) => unlink(this.#pathOf(name)).catch(() => undefined)));
    const inMemory = await this.#memory.purge(href);
    const removed = Math.max(names.length, inMemory);
    this.#metrics.purged(removed);
    return removed;
  }

  state(): StorageState {
    return this.#state;
  }

  async close(): Promise<void> {
    await this.#ready;
    await Promise.allSettled([...this.#pending]);
  }

  /** Reads an entry file, bypassing the in-process tier; a damaged file is removed. */
  async #readDisk(name: string): Promise<CachedImage | undefined> {
    let file: Buffer;
    try {
      file = await readFile(this.#pathOf(name));
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.#failed(error, 'read');
      this.#forget(name);
      this.#memory.delete(name);
      return undefined;
    }
    const decoded = decodeEntryFile(file);
    if (decoded === undefined) {
      this.#logger.warn({ file: this.#pathOf(name) }, 'removing a damaged filesystem cache entry');
      this.#forget(name);
      this.#memory.delete(name);
      await unlink(this.#pathOf(name)).catch(() => undefined);
      return undefined;
    }
    this.#ok();
    // Another process sharing the directory may have written it: adopt it into the index.
    if (this.#index.peek(name) === undefined)
      this.#remember(name, decoded.href, file.byteLength, Date.now());
    this.#used(name);
    await this.#memory.set(name, decoded.entry, decoded.href);
    return decoded.entry;
  }

  async #lockedFlight(
    key: string,
    produce: () => Promise<CachedImage>,
    signal: AbortSignal,
  ): Promise<CachedImage> {
    await this.#ready;
    const name = fileNameFor(key);
    const lockPath = join(this.#locks, `${name}.lock`);
    const before = await this.#readDisk(name);
    if (before !== undefined && before.expireAt > Date.now()) return before;
    // A result is one written since the flight began: fresh, or unlike the entry seen first.
    const landed = async (): Promise<CachedImage | undefined> => {
      const now = await this.#readDisk(name);
      if (now === undefined) return undefined;
      const changed =
        before === undefined || now.etag !== before.etag || now.expireAt !== before.expireAt;
      return changed || now.expireAt > Date.now() ? now : undefined;
    };
    for (;;) {
      signal.throwIfAborted();
      let lock: HeldFileLock | undefined;
      try {
        await this.#ensureDir(this.#locks);
        lock = await tryFileLock(lockPath, this.#lockLeaseMs);
      } catch (error: unknown) {
        this.#failed(error, 'lock');
        return produce();
      }
      if (lock !== undefined) {
        try {
          return (await landed()) ?? (await produce());
        } finally {
          await lock.release();
        }
      }
      await sleep(this.#lockPollMs, signal);
      const result = await landed();
      if (result !== undefined) return result;
    }
  }

  async #write(name: string, entry: CachedImage, href: string): Promise<void> {
    const data = encodeEntryFile(entry, href);
    const temp = join(this.#tmp, `${randomUUID()}.tmp`);
    try {
      await this.#writeAtomically(temp, name, data).catch(async (error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        // Someone removed our directories (a cache wipe): make them again, once.
        this.#madeDirs.clear();
        await this.#writeAtomically(temp, name, data);
      });
    } catch (error: unknown) {
      this.#failed(error, 'write');
      await unlink(temp).catch(() => undefined);
      return;
    }
    this.#ok();
    this.#remember(name, href, data.byteLength, Date.now());
  }

  async #writeAtomically(temp: string, name: string, data: Buffer): Promise<void> {
    await this.#ensureDir(this.#tmp);
    await this.#ensureDir(this.#shardOf(name));
    await writeFile(temp, data);
    await rename(temp, this.#pathOf(name));
  }

  #remember(name: string, href: string, bytes: number, touchedAt: number): void {
    this.#forget(name);
    let names = this.#byHref.get(href);
    if (names === undefined) {
      names = new Set();
      this.#byHref.set(href, names);
    }
    names.add(name);
    this.#index.set(name, { href, touchedAt }, bytes);
  }

  /** Drops `name` from the index (not from disk). */
  #forget(name: string): void {
    const info = this.#index.peek(name);
    if (info === undefined) return;
    this.#index.delete(name);
    this.#unlinkHref(name, info.href);
  }

  #unlinkHref(name: string, href: string): void {
    const names = this.#byHref.get(href);
    names?.delete(name);
    if (names?.size === 0) this.#byHref.delete(href);
  }

  /** The size bound pushed `name` out: remove its file and its in-memory copy. */
  #evicted(name: string, info: FileInfo): void {
    this.#unlinkHref(name, info.href);
    this.#memory.delete(name);
    const removal = unlink(this.#pathOf(name)).catch(() => undefined);
    this.#pending.add(removal);
    void removal.finally(() => this.#pending.delete(removal));
  }

  /** Marks `name` used in memory and, now and then, on disk (its mtime orders the next scan). */
  #used(name: string): void {
    const info = this.#index.get(name);
    if (info === undefined) return;
    const now = Date.now();
    if (now - info.touchedAt < TOUCH_INTERVAL_MS) return;
    info.touchedAt = now;
    const seconds = now / 1000;
    void utimes(this.#pathOf(name), seconds, seconds).catch(() => undefined);
  }

  async #scan(): Promise<void> {
    // Temp files are leftovers of writes a crash interrupted: never entries.
    await rm(this.#tmp, { recursive: true, force: true });
    await mkdir(this.#tmp, { recursive: true });
    const found = await scanEntries(this.#root, this.#logger, (error) =>
      this.#failed(error, 'scan'),
    );
    for (const f of found) this.#remember(f.name, f.href, f.bytes, f.mtimeMs);
    this.#logger.debug(
      { entries: this.#index.size, bytes: this.#index.bytes },
      'filesystem cache scanned',
    );
  }

  async #ensureDir(dir: string): Promise<void> {
    if (this.#madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.#madeDirs.add(dir);
  }

  #shardOf(name: string): string {
    return join(this.#root, name.slice(0, 2));
  }

  #pathOf(name: string): string {
    return join(this.#shardOf(name), name);
  }

  #failed(error: unknown, operation: string): void {
    if (this.#state === 'degraded') return;
    this.#state = 'degraded';
    this.#logger.warn(
      { err: error, operation, dir: this.#root },
      'filesystem cache failing; serving without it',
    );
  }

  #ok(): void {
    if (this.#state === 'ok') return;
    this.#state = 'ok';
    this.#logger.info({ dir: this.#root }, 'filesystem cache working again');
  }
}
