import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../lib/logger.ts';
import { MANAGED_SELECTOR } from '../render/names.ts';
import type { KubeClient } from './client.ts';
import { Informer } from './informer.ts';
import { CHILD_KINDS, IMAGE_OPTIMIZER, type ResourceKind, resourcePath } from './kinds.ts';

const keyOf = (kind: ResourceKind): string => `${kind.apiVersion}/${kind.kind}`;

/**
 * The informers of the operator: ImageOptimizers and every child kind (only objects carrying
 * the managed-by label), across all namespaces or one informer per watched namespace.
 */
export class Caches {
  readonly #byKind = new Map<string, Map<string, Informer<KubernetesObject>>>();
  readonly #namespaces: readonly string[];

  constructor(kc: KubeConfig, client: KubeClient, namespaces: readonly string[], logger: Logger) {
    this.#namespaces = namespaces;
    const scopes = namespaces.length === 0 ? [undefined] : namespaces;
    for (const kind of [IMAGE_OPTIMIZER, ...CHILD_KINDS]) {
      const perNs = new Map<string, Informer<KubernetesObject>>();
      const selector = kind === IMAGE_OPTIMIZER ? undefined : MANAGED_SELECTOR;
      for (const ns of scopes) {
        const name = `${kind.plural}${ns === undefined ? '' : `@${ns}`}`;
        perNs.set(
          ns ?? '*',
          new Informer(name, kc, client, resourcePath(kind, ns), selector, logger, kind.optional),
        );
      }
      this.#byKind.set(keyOf(kind), perNs);
    }
  }

  /** Every informer, for starting, stopping and /readyz. */
  get informers(): Array<Informer<KubernetesObject>> {
    return [...this.#byKind.values()].flatMap((m) => [...m.values()]);
  }

  /** The informers of one kind. */
  informersOf(kind: ResourceKind): Array<Informer<KubernetesObject>> {
    return [...(this.#byKind.get(keyOf(kind))?.values() ?? [])];
  }

  #informer(kind: ResourceKind, namespace: string): Informer<KubernetesObject> | undefined {
    const perNs = this.#byKind.get(keyOf(kind));
    return this.#namespaces.length === 0 ? perNs?.get('*') : perNs?.get(namespace);
  }

  /** One cached object. */
  get<T extends KubernetesObject>(
    kind: ResourceKind,
    namespace: string,
    name: string,
  ): T | undefined {
    return this.#informer(kind, namespace)?.get(name, namespace) as T | undefined;
  }

  /** Cached objects of a kind in one namespace. */
  list<T extends KubernetesObject>(kind: ResourceKind, namespace: string): readonly T[] {
    return (this.#informer(kind, namespace)?.list(namespace) ?? []) as readonly T[];
  }

  /** True when every informer has listed at least once. */
  get synced(): boolean {
    return this.informers.every((i) => i.synced);
  }

  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}
