import type { KubernetesObject } from '@kubernetes/client-node';
import { FIELD_MANAGER } from './children.ts';
import { KubeApiError } from './errors.ts';
import type { KubeClient } from './kube/client.ts';
import { MONITORING_KINDS, type ResourceKind, resourcePath } from './kube/kinds.ts';
import { LABELS, MANAGED_SELECTOR } from './render/names.ts';

// PodMonitor and PrometheusRule children. Their CRDs belong to the Prometheus Operator and may
// be missing, so they have no informers (an informer on a missing resource never syncs, and
// the operator would never become ready): they are applied and listed with direct calls, and a
// missing CRD is a status reason, not an error, while the CR asks for none of them.

/** The Ready=False reason when spec.monitoring asks for objects whose CRDs are not installed. */
export const PROMETHEUS_OPERATOR_MISSING = 'PrometheusOperatorMissing';

/** True for the kinds this module applies (render's PodMonitor and PrometheusRule). */
export function isMonitoringObject(o: KubernetesObject): boolean {
  return MONITORING_KINDS.some((k) => k.apiVersion === o.apiVersion && k.kind === o.kind);
}

/** A 404 on a collection path: the API server does not serve that resource (CRD absent). */
const notServed = (error: unknown): boolean =>
  error instanceof KubeApiError && error.status === 404;

/** The outcome of applying the monitoring objects. */
export interface MonitoringApplied {
  /** `Kind/name` of each object applied. */
  applied: string[];
  /** Set when the CR asks for a kind whose CRD is not installed. */
  missing?: { reason: string; message: string };
}

/** Server-side applies the monitoring objects; a kind the API server lacks is reported, not thrown. */
export async function applyMonitoring(
  client: KubeClient,
  desired: readonly KubernetesObject[],
): Promise<MonitoringApplied> {
  const result: MonitoringApplied = { applied: [] };
  const lacking: string[] = [];
  for (const object of desired) {
    try {
      await client.apply(object, FIELD_MANAGER);
      result.applied.push(`${object.kind}/${object.metadata?.name}`);
    } catch (error: unknown) {
      if (!notServed(error)) throw error;
      lacking.push(`${object.kind} (${object.apiVersion})`);
    }
  }
  if (lacking.length > 0)
    result.missing = {
      reason: PROMETHEUS_OPERATOR_MISSING,
      message: `spec.monitoring asks for ${lacking.join(' and ')}, but the cluster does not serve it: install the Prometheus Operator CRDs (monitoring.coreos.com), or set spec.monitoring.podMonitor.enabled and spec.monitoring.prometheusRule.enabled to false`,
    };
  return result;
}

/** Lists this CR's monitoring objects of one kind; none when the kind is not served. */
async function listOwned(
  client: KubeClient,
  kind: ResourceKind,
  namespace: string,
  crName: string,
): Promise<KubernetesObject[]> {
  try {
    const selector = `${MANAGED_SELECTOR},${LABELS.instance}=${crName}`;
    return (await client.list<KubernetesObject>(resourcePath(kind, namespace), selector)).items;
  } catch (error: unknown) {
    if (notServed(error)) return [];
    throw error;
  }
}

/** Deletes monitoring objects owned by the CR that the desired state no longer has. */
export async function pruneMonitoring(
  client: KubeClient,
  namespace: string,
  crName: string,
  ownerUid: string,
  desired: readonly KubernetesObject[],
): Promise<string[]> {
  const keep = new Set(desired.map((o) => `${o.kind}/${o.metadata?.name}`));
  const deleted: string[] = [];
  for (const kind of MONITORING_KINDS) {
    for (const object of await listOwned(client, kind, namespace, crName)) {
      const key = `${kind.kind}/${object.metadata?.name}`;
      const owned = object.metadata?.ownerReferences?.some(
        (r) => r.controller === true && r.uid === ownerUid,
      );
      if (!owned || keep.has(key)) continue;
      await client.delete(
        resourcePath(kind, namespace, object.metadata?.name),
        object.metadata?.uid,
      );
      deleted.push(key);
    }
  }
  return deleted;
}
