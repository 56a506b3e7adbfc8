import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../lib/logger.ts';
import { KubeApiError } from './errors.ts';
import type { Caches } from './kube/caches.ts';
import { CHILD_KINDS, IMAGE_OPTIMIZER, SECRET } from './kube/kinds.ts';
import type { OperatorMetrics } from './metrics.ts';
import { WorkQueue } from './queue.ts';
import type { Reconciler } from './reconcile.ts';
import { referencedSecretNames } from './render/secret-refs.ts';

const CONTROLLER = 'imageoptimizer';

export interface ControllerOptions {
  caches: Caches;
  reconciler: Reconciler;
  metrics: OperatorMetrics;
  logger: Logger;
  workers: number;
  /** Every ImageOptimizer is reconciled again this often (0 = never), catching any missed event. */
  resyncSeconds: number;
}

const keyOf = (o: KubernetesObject): string =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/**
 * Turns informer events into queue keys and runs workers over the queue. Events are queued from
 * the moment the caches start (so a standby is warm); workers run only while `start` is active.
 */
export class Controller {
  readonly queue: WorkQueue;
  readonly #o: ControllerOptions;
  readonly #generations = new Map<string, number | undefined>();
  #workers: Array<Promise<void>> = [];
  #resync: NodeJS.Timeout | undefined;

  constructor(options: ControllerOptions) {
    this.#o = options;
    this.queue = new WorkQueue(options.metrics);
    for (const informer of options.caches.informersOf(IMAGE_OPTIMIZER)) {
      informer.on((event, object) => this.#onPrimary(event, object));
    }
    for (const kind of CHILD_KINDS) {
      for (const informer of options.caches.informersOf(kind)) {
        informer.on((_event, object) => this.#onChild(object));
        // A CRD installed after start (the Gateway API): retry every resource at once, not
        // when each one's failure backoff runs out.
        if (kind.optional === true) informer.onServed(() => this.resyncAll());
      }
    }
    // A Secret event wakes only the ImageOptimizers that reference that Secret.
    for (const informer of [
      ...options.caches.userSecretInformers,
      ...options.caches.informersOf(SECRET),
    ])
      informer.on((_event, object) => this.#onSecret(object));
  }

  #onSecret(secret: KubernetesObject): void {
    const namespace = secret.metadata?.namespace ?? '';
    const name = secret.metadata?.name ?? '';
    for (const informer of this.#o.caches.informersOf(IMAGE_OPTIMIZER)) {
      for (const cr of informer.list(namespace)) {
        const spec = (cr as KubernetesObject & { spec?: unknown }).spec;
        if (referencedSecretNames(spec).includes(name)) this.queue.add(keyOf(cr));
      }
    }
  }

  #onPrimary(event: string, object: KubernetesObject): void {
    const key = keyOf(object);
    if (event === 'delete') {
      this.#generations.delete(key);
      return; // garbage collection removes the children
    }
    // Our own status writes come back as updates; only a new generation (spec change) counts.
    const generation = object.metadata?.generation;
    if (event === 'update' && this.#generations.get(key) === generation) return;
    this.#generations.set(key, generation);
    this.queue.add(key);
  }

  #onChild(object: KubernetesObject): void {
    const owner = object.metadata?.ownerReferences?.find(
      (r) =>
        r.controller === true &&
        r.kind === IMAGE_OPTIMIZER.kind &&
        r.apiVersion === IMAGE_OPTIMIZER.apiVersion,
    );
    if (owner !== undefined) this.queue.add(`${object.metadata?.namespace ?? ''}/${owner.name}`);
  }

  /** Starts `workers` workers and the periodic resync. */
  start(): void {
    const { metrics, workers, resyncSeconds } = this.#o;
    metrics.maxConcurrentReconciles.set({ controller: CONTROLLER }, workers);
    metrics.activeWorkers.set({ controller: CONTROLLER }, 0);
    // As controller-runtime: every series exists from the start, so rate() and alerts see zeros.
    metrics.reconcileErrors.inc({ controller: CONTROLLER }, 0);
    for (const result of ['success', 'error', 'requeue', 'requeue_after'])
      metrics.reconcileTotal.inc({ controller: CONTROLLER, result }, 0);
    this.#workers = Array.from({ length: workers }, () => this.#work());
    if (resyncSeconds > 0) {
      this.#resync = setInterval(() => this.resyncAll(), resyncSeconds * 1000);
      this.#resync.unref();
    }
    this.resyncAll();
  }

  /** Queues every cached ImageOptimizer. */
  resyncAll(): void {
    for (const informer of this.#o.caches.informersOf(IMAGE_OPTIMIZER)) {
      for (const object of informer.list()) this.queue.add(keyOf(object));
    }
  }

  /** Stops handing out work and waits for reconciles in flight to finish. */
  async stop(): Promise<void> {
    clearInterval(this.#resync);
    this.queue.shutDown();
    await Promise.all(this.#workers);
  }

  async #work(): Promise<void> {
    const { metrics, reconciler, logger } = this.#o;
    const labels = { controller: CONTROLLER };
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const [namespace = '', name = ''] = key.split('/');
      metrics.activeWorkers.inc(labels);
      const end = metrics.reconcileTime.startTimer(labels);
      try {
        const result = await reconciler.reconcile(namespace, name);
        this.queue.forget(key);
        if (result.requeueAfterMs !== undefined) {
          metrics.reconcileTotal.inc({ ...labels, result: 'requeue_after' });
          this.queue.addAfter(key, result.requeueAfterMs);
        } else {
          metrics.reconcileTotal.inc({ ...labels, result: 'success' });
        }
      } catch (error: unknown) {
        metrics.reconcileTotal.inc({ ...labels, result: 'error' });
        metrics.reconcileErrors.inc(labels);
        const conflict = error instanceof KubeApiError && error.status === 409;
        // A conflict only means someone wrote first: retry soon, it is not a failure worth backing off for.
        logger[conflict ? 'debug' : 'warn'](
          {
            key,
            err: error instanceof Error ? error.message : String(error),
            failures: this.queue.failures(key) + 1,
          },
          'reconcile failed; retrying with backoff',
        );
        this.queue.addRateLimited(key);
      } finally {
        end();
        metrics.activeWorkers.dec(labels);
        this.queue.done(key);
      }
    }
  }
}
