import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeApiError } from './errors.ts';
import type { Caches } from './kube/caches.ts';
import type { KubeClient } from './kube/client.ts';
import { CHILD_KINDS, kindOf, resourcePath } from './kube/kinds.ts';

/** The one field manager of the operator: it owns exactly the fields render produces. */
export const FIELD_MANAGER = 'next-image-operator';

const objectKey = (o: KubernetesObject): string => `${o.kind}/${o.metadata?.name}`;

/** The result of applying the desired objects. */
export interface Applied {
  /** The API server's answer per `Kind/name`: the freshest view of each child. */
  objects: Map<string, KubernetesObject>;
  /** Children that did not exist before (per the cache). */
  created: string[];
  /** The first failure, if any. */
  error?: Error;
  /** The object whose apply failed first. */
  failedObject?: KubernetesObject;
}

/**
 * Server-side applies every desired object with force (a hand edit of a field we own is taken
 * back). Applies run in parallel: objects only refer to each other by name.
 */
export async function applyChildren(
  client: KubeClient,
  caches: Caches,
  desired: readonly KubernetesObject[],
): Promise<Applied> {
  const applied: Applied = { objects: new Map(), created: [] };
  const results = await Promise.allSettled(
    desired.map(async (object) => {
      const ns = object.metadata?.namespace ?? 'default';
      const existed =
        caches.get(kindOf(object.apiVersion, object.kind), ns, object.metadata?.name ?? '') !==
        undefined;
      const answer = await applyOrReplace(client, caches, object, ns);
      applied.objects.set(objectKey(object), answer);
      if (!existed) applied.created.push(objectKey(object));
    }),
  );
  const index = results.findIndex((r) => r.status === 'rejected');
  const failed = results[index];
  if (failed?.status === 'rejected') {
    applied.error =
      failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    applied.failedObject = desired[index];
  }
  return applied;
}

/**
 * What the API server says when an apply changes a StatefulSet field that cannot change:
 * Kubernetes 1.37 names volumeClaimTemplates, older releases list the fields that may change.
 */
const IMMUTABLE_STATEFULSET =
  /spec\.volumeClaimTemplates: .*field is immutable|updates to statefulset spec for fields other than/s;

/**
 * Applies `object`; a StatefulSet of ours whose volumeClaimTemplates no longer match (the
 * persistence settings changed while it was being switched off and on) cannot be patched, so it
 * is deleted and created again. Only a StatefulSet this CR controls: anyone else's stays an error.
 */
async function applyOrReplace(
  client: KubeClient,
  caches: Caches,
  object: KubernetesObject,
  ns: string,
): Promise<KubernetesObject> {
  try {
    return await client.apply(object, FIELD_MANAGER);
  } catch (error: unknown) {
    const owner = object.metadata?.ownerReferences?.find((r) => r.controller === true)?.uid;
    const kind = kindOf(object.apiVersion, object.kind);
    const current = caches.get<KubernetesObject>(kind, ns, object.metadata?.name ?? '');
    const ours = current?.metadata?.ownerReferences?.some(
      (r) => r.controller === true && r.uid === owner,
    );
    if (
      object.kind !== 'StatefulSet' ||
      !(error instanceof KubeApiError && error.status === 422) ||
      !IMMUTABLE_STATEFULSET.test(error.message) ||
      owner === undefined ||
      ours !== true
    )
      throw error;
    await client.delete(resourcePath(kind, ns, object.metadata?.name), current?.metadata?.uid);
    return await client.apply(object, FIELD_MANAGER);
  }
}

/** Deletes children of `ownerUid` that the desired state no longer has; returns their `Kind/name`s. */
export async function pruneChildren(
  client: KubeClient,
  caches: Caches,
  namespace: string,
  ownerUid: string,
  desired: readonly KubernetesObject[],
): Promise<string[]> {
  const keep = new Set(desired.map(objectKey));
  const stale: Array<{ key: string; path: string; uid: string | undefined }> = [];
  for (const kind of CHILD_KINDS) {
    for (const object of caches.list(kind, namespace)) {
      const owned = object.metadata?.ownerReferences?.some(
        (r) => r.controller === true && r.uid === ownerUid,
      );
      const key = `${kind.kind}/${object.metadata?.name}`;
      if (owned && !keep.has(key)) {
        stale.push({
          key,
          path: resourcePath(kind, namespace, object.metadata?.name),
          uid: object.metadata?.uid,
        });
      }
    }
  }
  await Promise.all(stale.map((s) => client.delete(s.path, s.uid)));
  return stale.map((s) => s.key);
}
