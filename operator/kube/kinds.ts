import { GROUP, PLURAL, VERSION } from '../../api/image-optimizer.ts';

/** A resource the operator reads or writes, with what its REST path needs. */
export interface ResourceKind {
  apiVersion: string;
  kind: string;
  plural: string;
  /**
   * The API may not be served (a CRD the cluster may lack, such as the Gateway API's): its
   * informer counts as synced, empty, while the API answers 404, and keeps looking for it.
   */
  optional?: boolean;
}

export const IMAGE_OPTIMIZER: ResourceKind = {
  apiVersion: `${GROUP}/${VERSION}`,
  kind: 'ImageOptimizer',
  plural: PLURAL,
};
export const LEASE: ResourceKind = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  plural: 'leases',
};
export const EVENT: ResourceKind = { apiVersion: 'v1', kind: 'Event', plural: 'events' };

export const SECRET: ResourceKind = { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' };
export const HTTP_ROUTE: ResourceKind = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  plural: 'httproutes',
  optional: true,
};

/** Every kind render can produce; the operator watches and prunes exactly these. */
export const CHILD_KINDS: readonly ResourceKind[] = [
  SECRET,
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets' },
  {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
  },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', plural: 'ingresses' },
  HTTP_ROUTE,
];

/**
 * Prometheus Operator kinds render produces when spec.monitoring asks. Not watched: their CRDs
 * may be absent, so they are applied and pruned with direct calls (operator/monitoring.ts).
 */
export const MONITORING_KINDS: readonly ResourceKind[] = [
  { apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor', plural: 'podmonitors' },
  { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', plural: 'prometheusrules' },
];

/** The kind entry for an object's apiVersion/kind; throws for kinds the operator does not know. */
export function kindOf(apiVersion: string | undefined, kind: string | undefined): ResourceKind {
  const found = [...CHILD_KINDS, ...MONITORING_KINDS, IMAGE_OPTIMIZER, LEASE, EVENT].find(
    (k) => k.apiVersion === apiVersion && k.kind === kind,
  );
  if (found === undefined) throw new TypeError(`unknown kind ${apiVersion}/${kind}`);
  return found;
}

/** The REST path of a collection (namespace undefined = all namespaces) or of one object. */
export function resourcePath(
  kind: ResourceKind,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const base = kind.apiVersion.includes('/')
    ? `/apis/${kind.apiVersion}`
    : `/api/${kind.apiVersion}`;
  let path =
    namespace === undefined
      ? `${base}/${kind.plural}`
      : `${base}/namespaces/${encodeURIComponent(namespace)}/${kind.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) path += `/${subresource}`;
  return path;
}
