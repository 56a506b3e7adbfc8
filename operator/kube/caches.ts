import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../lib/logger.ts';
import { LABELS, MANAGED_BY, MANAGED_SELECTOR } from '../render/names.ts';
import type { KubeClient } from './client.ts';
import { Informer } from './informer.ts';
import { CHILD_KINDS, IMAGE_OPTIMIZER, type ResourceKind, resourcePath, SECRET } from './kinds.ts';

/**
 * The user's Secrets an ImageOptimizer may reference: every Secret not managed by us (ours are
 * in the SECRET child cache already), in the watched namespaces only.
 */
const UNMANAGED_SELECTOR = `${LABELS.managedBy}!=${MANAGED_BY}`;
/** Secrets no ImageOptimizer can use, left out of the cache: Helm keeps whole releases in these. */
const UNUSABLE_SECRET_TYPES = 'type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token';

const keyOf = (kind: ResourceKind): string => `${kind.apiVersion}/${kind.kind}`;

/**
 * The informers of the operator: ImageOptimizers and every child kind (only objects carrying
 * the managed-by label), across all namespaces or one informer per watched namespace.
 */
export class Caches {
  readonly #byKind = new Map<string, Map<string, Informer<KubernetesObject>>>();
  /** Secrets not managed by the operator, per namespace ('*' = all): referenced-Secret lookups. */
  readonly #userSecrets = new Map<string, Informer<KubernetesObject>>();
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
          new Informer(name, kc, client, resourcePath(kind, ns), selector, logger, {
            optional: kind.optional,
          }),
        );
      }
      this.#byKind.set(keyOf(kind), perNs);
    }
    for (const ns of scopes) {
      const name = `user-secrets${ns === undefined ? '' : `@${ns}`}`;
      const path = resourcePath(SECRET, ns);
      this.#userSecrets.set(
        ns ?? '*',
        new Informer(name, kc, client, path, UNMANAGED_SELECTOR, logger, {
          fieldSelector: UNUSABLE_SECRET_TYPES,
        }),
      );
    }
  }

  /** The informers of Secrets the operator does not manage (referenced by ImageOptimizers). */
  get userSecretInformers(): Array<Informer<KubernetesObject>> {
    return [...this.#userSecrets.values()];
  }

  /** A Secret by name, whoever manages it: a user's, or one of ours. */
  secret<T extends KubernetesObject>(namespace: string, name: string): T | undefined {
    const users = this.#userSecrets.get(this.#namespaces.length === 0 ? '*' : namespace);
    return (users?.get(name, namespace) ?? this.get(SECRET, namespace, name)) as T | undefined;
  }

  /** Every informer, for starting, stopping and /readyz. */
  get informers(): Array<Informer<KubernetesObject>> {
    return [
      ...[...this.#byKind.values()].flatMap((m) => [...m.values()]),
      ...this.#userSecrets.values(),
    ];
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
