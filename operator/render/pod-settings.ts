import type {
  V1Container,
  V1PodSecurityContext,
  V1PodTemplateSpec,
  V1SecurityContext,
  V1TopologySpreadConstraint,
} from '@kubernetes/client-node';
import type { PodSettings } from '../../api/image-optimizer.ts';

// `spec.<workload>.pod` laid over a pod template the operator built. What the operator needs
// wins: its labels (the selectors), its annotations (the config hash), its env, and a
// securityContext within the restricted standard (the schema already rejected the rest; the
// capabilities drop stays ALL whatever is given).

/** Node and zone: spread optimizer and gateway replicas, never refusing to schedule. */
export const SPREAD_TOPOLOGY_KEYS = ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'];

/** The default spread of a workload's pods: soft (ScheduleAnyway), max skew 1, per node and zone. */
export function defaultSpread(labels: Record<string, string>): V1TopologySpreadConstraint[] {
  return SPREAD_TOPOLOGY_KEYS.map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: { ...labels } },
    // Count only pods of the same ReplicaSet, so a rollout's old pods do not skew the new ones.
    matchLabelKeys: ['pod-template-hash'],
  }));
}

export interface PodDefaults {
  /** Selector labels to spread by default; without them there is no default spread. */
  spreadLabels?: Record<string, string>;
}

function container(c: V1Container, pod: PodSettings): V1Container {
  const out: V1Container = { ...c };
  const own = new Set((c.env ?? []).map((e) => e.name));
  const env = [...(c.env ?? []), ...(pod.env ?? []).filter((e) => !own.has(e.name))];
  if (env.length > 0) out.env = env;
  if (pod.envFrom !== undefined && pod.envFrom.length > 0) out.envFrom = pod.envFrom;
  const user = pod.containerSecurityContext;
  if (user !== undefined) {
    const { capabilities, ...rest } = user;
    const merged: V1SecurityContext = { ...c.securityContext, ...(rest as V1SecurityContext) };
    merged.capabilities = {
      drop: ['ALL'],
      ...(capabilities?.add === undefined ? {} : { add: [...capabilities.add] }),
    };
    out.securityContext = merged;
  }
  return out;
}

/** The template with `pod` applied; `template` itself is left as it was. */
export function withPodSettings(
  template: V1PodTemplateSpec,
  pod: PodSettings | undefined,
  defaults: PodDefaults = {},
): V1PodTemplateSpec {
  const spec = template.spec;
  if (spec === undefined) return template;
  const metadata = { ...template.metadata };
  if (pod?.labels !== undefined) metadata.labels = { ...pod.labels, ...metadata.labels };
  if (pod?.annotations !== undefined)
    metadata.annotations = { ...pod.annotations, ...metadata.annotations };
  const out = { ...spec };
  if (pod?.serviceAccountName !== undefined) out.serviceAccountName = pod.serviceAccountName;
  if (pod?.imagePullSecrets !== undefined) out.imagePullSecrets = pod.imagePullSecrets;
  if (pod?.priorityClassName !== undefined) out.priorityClassName = pod.priorityClassName;
  if (pod?.terminationGracePeriodSeconds !== undefined)
    out.terminationGracePeriodSeconds = pod.terminationGracePeriodSeconds;
  if (pod?.nodeSelector !== undefined) out.nodeSelector = pod.nodeSelector;
  if (pod?.tolerations !== undefined) out.tolerations = pod.tolerations;
  if (pod?.affinity !== undefined) out.affinity = pod.affinity;
  const spread =
    pod?.topologySpreadConstraints ??
    (defaults.spreadLabels === undefined ? undefined : defaultSpread(defaults.spreadLabels));
  if (spread !== undefined && spread.length > 0) out.topologySpreadConstraints = spread;
  if (pod?.securityContext !== undefined)
    out.securityContext = {
      ...spec.securityContext,
      ...(pod.securityContext as V1PodSecurityContext),
    };
  if (pod !== undefined) out.containers = spec.containers.map((c) => container(c, pod));
  return { metadata, spec: out };
}
