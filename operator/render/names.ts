import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, type ImageOptimizer, KIND } from '../../api/image-optimizer.ts';

// Names, labels and ports shared by every builder: one place, so the operator's pruning,
// the NetworkPolicy and the Services can never disagree about which pod is which.

/** `routing` labels the HTTPRoute or Ingress of routing modes httpRoute and ingress; it has no pods. */
export type Component = 'optimizer' | 'gateway' | 'valkey' | 'routing';

export const PORTS = { optimizer: 3000, gateway: 3042, gatewayAdmin: 3043, valkey: 6379 } as const;
export const CONFIG_DIR = '/etc/next-image';
export const CONFIG_HASH_ANNOTATION = 'nextimage.dev/config-hash';
export const MANAGED_BY = 'next-image-operator';
export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;
/** Label selector for every object the operator manages (its informers watch only these). */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY}`;

export interface ChildNames {
  optimizer: string;
  optimizerConfig: string;
  gateway: string;
  gatewayConfig: string;
  valkey: string;
  /** The HTTPRoute or Ingress: named like the resource itself. */
  route: string;
}

/** The names of one ImageOptimizer's children. */
export function childNames(cr: string): ChildNames {
  return {
    optimizer: `${cr}-optimizer`,
    optimizerConfig: `${cr}-optimizer-config`,
    gateway: `${cr}-gateway`,
    gatewayConfig: `${cr}-gateway-config`,
    valkey: `${cr}-valkey`,
    route: cr,
  };
}

/** Pod selector labels of one component. */
export function selectorLabels(cr: string, component: Component): Record<string, string> {
  return { [LABELS.name]: 'next-image', [LABELS.instance]: cr, [LABELS.component]: component };
}

/** Selector labels as a label-selector string (for `status.selector`). */
export function selectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** An owner reference to the CR; absent when the CR was never stored (`next-image render`). */
export function ownerReference(cr: ImageOptimizer): V1OwnerReference[] | undefined {
  const uid = cr.metadata.uid;
  if (uid === undefined) return undefined;
  return [
    {
      apiVersion: API_VERSION,
      kind: KIND,
      name: cr.metadata.name,
      uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
}

/** Metadata of a child object: name, namespace, labels, owner. */
export function childMeta(cr: ImageOptimizer, name: string, component: Component): V1ObjectMeta {
  const meta: V1ObjectMeta = { name };
  if (cr.metadata.namespace !== undefined) meta.namespace = cr.metadata.namespace;
  meta.labels = { ...selectorLabels(cr.metadata.name, component), [LABELS.managedBy]: MANAGED_BY };
  const owners = ownerReference(cr);
  if (owners !== undefined) meta.ownerReferences = owners;
  return meta;
}
