import { GROUP, PLURAL } from '../api/image-optimizer.ts';
import { CHILD_KINDS, MONITORING_KINDS } from './kube/kinds.ts';

// The RBAC the operator needs, as data: the Helm chart renders its ClusterRole/Role from these
// rules, and the control-plane test runs the operator with exactly these rules.

/** One rbac.authorization.k8s.io/v1 PolicyRule. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const groupOf = (apiVersion: string): string =>
  apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';

function childRules(): PolicyRule[] {
  const byGroup = new Map<string, string[]>();
  for (const kind of [...CHILD_KINDS, ...MONITORING_KINDS]) {
    const group = groupOf(kind.apiVersion);
    byGroup.set(group, [...(byGroup.get(group) ?? []), kind.plural]);
  }
  return [...byGroup.entries()].map(([group, resources]) => ({
    apiGroups: [group],
    resources,
    // No update: children are written with server-side apply (patch) only.
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  }));
}

/**
 * What the operator needs in every namespace it manages: a ClusterRole for a cluster-wide
 * install, or the same rules in a Role per namespace for a namespaced install.
 */
export const OPERATOR_RULES: readonly PolicyRule[] = [
  // Read the CRs; never write their spec.
  { apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ['get', 'patch', 'update'] },
  // blockOwnerDeletion on children needs this where OwnerReferencesPermissionEnforcement is on.
  { apiGroups: [GROUP], resources: [`${PLURAL}/finalizers`], verbs: ['update'] },
  ...childRules(),
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

/**
 * What secure metrics need (cluster-scoped, so always in a ClusterRole): asking the API server
 * who a scraper's token belongs to and whether that user may GET /metrics.
 */
export const METRICS_AUTH_RULES: readonly PolicyRule[] = [
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
];

/** What a scraper (Prometheus's ServiceAccount) needs: GET on the non-resource URL /metrics. */
export const METRICS_READER_RULES: ReadonlyArray<{ nonResourceURLs: string[]; verbs: string[] }> = [
  { nonResourceURLs: ['/metrics'], verbs: ['get'] },
];

/** What leader election needs, in a Role in the operator's own namespace. */
export const LEADER_ELECTION_RULES: readonly PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

/** A ClusterRole object with OPERATOR_RULES (for tests and plain-manifest installs). */
export function operatorClusterRole(name: string): Record<string, unknown> {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name },
    rules: OPERATOR_RULES,
  };
}

/** A Role object with LEADER_ELECTION_RULES in `namespace`. */
export function leaderElectionRole(name: string, namespace: string): Record<string, unknown> {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name, namespace },
    rules: LEADER_ELECTION_RULES,
  };
}
