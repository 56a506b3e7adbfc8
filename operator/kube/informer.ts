import { type KubeConfig, type KubernetesObject, ListWatch, Watch } from '@kubernetes/client-node';
import type { Logger } from '../../lib/logger.ts';
import { KubeApiError } from '../errors.ts';
import type { KubeClient } from './client.ts';

export type InformerEvent = 'add' | 'update' | 'delete';
export type InformerHandler<T> = (event: InformerEvent, object: T) => void;

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;

/**
 * A list+watch cache of one resource (one namespace or all). client-node's ListWatch re-lists
 * on 410 Gone by itself but stops for good on any other error; this wrapper restarts it with
 * jittered exponential backoff, so a watch never stalls silently, and reports whether it has
 * listed at least once (for /readyz).
 */
export class Informer<T extends KubernetesObject> {
  readonly name: string;
  readonly #lw: ListWatch<T>;
  readonly #logger: Logger;
  readonly #handlers: Array<InformerHandler<T>> = [];
  #synced = false;
  #stopped = true;
  #failures = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #onSynced: Array<() => void> = [];
  #lastEventAt = 0;
  #absent = false;
  readonly #onServed: Array<() => void> = [];

  constructor(
    name: string,
    kc: KubeConfig,
    client: KubeClient,
    path: string,
    labelSelector: string | undefined,
    logger: Logger,
    options: { fieldSelector?: string; optional?: boolean } = {},
  ) {
    this.name = name;
    this.#logger = logger.child({ informer: name });
    const { fieldSelector, optional = false } = options;
    const listFn = async () => {
      const list = await client
        .list<T>(path, labelSelector, fieldSelector)
        .catch((err: unknown) => {
          // An optional API that is not served holds no objects: synced and empty, and the
          // backoff below keeps listing, so installing its CRD later is noticed.
          if (optional && err instanceof KubeApiError && err.status === 404) this.#markAbsent();
          throw err;
        });
      if (this.#absent) {
        this.#absent = false;
        this.#logger.info('API served now');
        for (const handler of this.#onServed) handler();
      }
      return { apiVersion: 'v1', kind: 'List', items: list.items, metadata: list.metadata ?? {} };
    };
    this.#lw = new ListWatch<T>(path, new Watch(kc), listFn, false, labelSelector, fieldSelector);
    this.#lw.on('add', (o) => this.#emit('add', o));
    this.#lw.on('update', (o) => this.#emit('update', o));
    this.#lw.on('delete', (o) => this.#emit('delete', o));
    this.#lw.on('error', (err: unknown) => this.#onError(err));
  }

  /** Registers a handler for add/update/delete. */
  on(handler: InformerHandler<T>): void {
    this.#handlers.push(handler);
  }

  /** Starts listing and watching; resolves once the first list has been cached. */
  start(): Promise<void> {
    this.#stopped = false;
    const synced = this.#synced
      ? Promise.resolve()
      : new Promise<void>((resolve) => this.#onSynced.push(resolve));
    void this.#run();
    return synced;
  }

  /** Stops watching; the cache keeps its content and its resourceVersion for a later start(). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    await this.#lw.stop();
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** Registers a handler for an optional API that was absent and is served now (its CRD arrived). */
  onServed(handler: () => void): void {
    this.#onServed.push(handler);
  }

  /** True while an optional API answers 404 (its CRD is not installed). */
  get absent(): boolean {
    return this.#absent;
  }

  #markAbsent(): void {
    if (!this.#absent)
      this.#logger.info('API not served (CRD not installed?); looking again later');
    this.#absent = true;
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#onSynced.splice(0)) resolve();
    }
  }

  /** Milliseconds since the last add/update/delete (Infinity before the first). */
  get idleMs(): number {
    return this.#lastEventAt === 0 ? Number.POSITIVE_INFINITY : Date.now() - this.#lastEventAt;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#lw.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.#lw.list(namespace);
  }

  async #run(): Promise<void> {
    let failed = false;
    const markFailed = (): void => {
      failed = true;
    };
    this.#lw.on('error', markFailed);
    try {
      await this.#lw.start();
    } finally {
      this.#lw.off('error', markFailed);
    }
    if (failed || this.#stopped) return;
    this.#failures = 0;
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#onSynced.splice(0)) resolve();
      this.#logger.debug('synced');
    }
  }

  #emit(event: InformerEvent, object: T): void {
    this.#lastEventAt = Date.now();
    for (const handler of this.#handlers) handler(event, object);
  }

  #onError(err: unknown): void {
    if (this.#stopped || this.#restartTimer !== undefined) return;
    const delay =
      Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.#failures) * (0.5 + Math.random() / 2);
    this.#failures += 1;
    const message = err instanceof Error ? err.message : String(err);
    this.#logger[this.#absent ? 'debug' : 'warn'](
      { err: message, retryInMs: Math.round(delay), failures: this.#failures },
      'list/watch failed; restarting',
    );
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (!this.#stopped) void this.#run();
    }, delay);
  }
}
