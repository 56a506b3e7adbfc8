import type { KubernetesObject } from '@kubernetes/client-node';
import type { Applied } from './children.ts';
import { KubeApiError } from './errors.ts';
import { HTTP_ROUTE } from './kube/kinds.ts';
import type { PartState } from './status.ts';

// What routing modes httpRoute and ingress add to status: a clear reason when the cluster
// lacks the Gateway API, and what the Gateways that took the HTTPRoute say about it.

/** The failure a reconcile reports when applying failed. */
export function applyFailure(applied: Applied): { reason: string; message: string } {
  const object = applied.failedObject;
  const error = applied.error;
  if (
    object?.kind === HTTP_ROUTE.kind &&
    object.apiVersion === HTTP_ROUTE.apiVersion &&
    error instanceof KubeApiError &&
    error.status === 404
  )
    return {
      reason: 'GatewayAPIMissing',
      message:
        'routing.mode httpRoute needs the Gateway API (HTTPRoute, gateway.networking.k8s.io/v1), which this cluster does not serve: install its CRDs (standard channel, https://gateway-api.sigs.k8s.io/guides/#installing-gateway-api) or use routing.mode gateway or ingress',
    };
  return { reason: 'ApplyFailed', message: error?.message ?? 'apply failed' };
}

interface RouteCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}
interface RouteParentStatus {
  parentRef?: { name?: string; namespace?: string; sectionName?: string };
  conditions?: RouteCondition[];
}
export type ObservedRoute = KubernetesObject & { status?: { parents?: RouteParentStatus[] } };

const parentName = (p: RouteParentStatus): string => {
  const ref = p.parentRef ?? {};
  const name = ref.namespace === undefined ? (ref.name ?? '?') : `${ref.namespace}/${ref.name}`;
  return ref.sectionName === undefined ? name : `${name}/${ref.sectionName}`;
};

/**
 * The HTTPRoute as the Gateways report it. Accepted or ResolvedRefs False (a listener that
 * refuses the route, a missing frontend Service) cannot heal without a change: failed. No
 * parent status yet is not a failure: without a Gateway controller nobody writes one.
 */
export function routeState(route: ObservedRoute | undefined): PartState {
  const name = `HTTPRoute ${route?.metadata?.name ?? ''}`.trim();
  if (route === undefined) return { state: 'progressing', detail: `${name}: not created yet` };
  const generation = route.metadata?.generation ?? 0;
  const parents = route.status?.parents ?? [];
  const problems: string[] = [];
  let pending = false;
  let accepted = 0;
  for (const parent of parents) {
    const current = (parent.conditions ?? []).filter(
      (c) => (c.observedGeneration ?? generation) >= generation,
    );
    const bad = current.filter(
      (c) => (c.type === 'Accepted' || c.type === 'ResolvedRefs') && c.status === 'False',
    );
    for (const c of bad) {
      if (c.reason === 'Pending') pending = true;
      else problems.push(`${parentName(parent)}: ${c.type} ${c.reason ?? ''}: ${c.message ?? ''}`);
    }
    if (current.some((c) => c.type === 'Accepted' && c.status === 'True')) accepted += 1;
  }
  if (problems.length > 0)
    return {
      state: 'failed',
      reason: 'RouteNotAccepted',
      detail: `${name}: ${problems.join('; ')}`,
    };
  if (pending) return { state: 'progressing', detail: `${name}: pending at its Gateway` };
  return {
    state: 'available',
    detail:
      accepted > 0
        ? `${name}: accepted by ${accepted} of ${parents.length} parent(s)`
        : `${name}: no Gateway has reported on it yet`,
  };
}
