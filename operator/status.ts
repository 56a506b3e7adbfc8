import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { Condition, ImageOptimizerStatus } from '../api/image-optimizer.ts';
import { type ObservedRoute, routeState } from './routing-status.ts';

// Status as a pure function of what was observed: Ready, Progressing, Degraded, and the two
// conditions kstatus reads (Flux, `kubectl wait`, Config Sync, cli-utils): Reconciling (True
// while the current spec is being rolled out) and Stalled (True when it cannot get there
// without a change: an invalid spec, a failed apply, a Deployment past its deadline).

/** What reconcile saw, the input of computeStatus. */
export interface Observed {
  generation: number;
  optimizer?: V1Deployment | undefined;
  gateway?: V1Deployment | undefined;
  /** False in routing modes httpRoute and ingress, which run no gateway of ours (default true). */
  gatewayWanted?: boolean;
  /** Routing mode httpRoute: the HTTPRoute as applied (its status says what the Gateways think). */
  route?: ObservedRoute | undefined;
  routeWanted?: boolean;
  /** Present only when a managed Valkey is part of the desired state. */
  valkey?: V1Deployment | undefined;
  valkeyWanted: boolean;
  gatewayService?: V1Service | undefined;
  /** In-cluster DNS address of the gateway Service, used when it has no load balancer address. */
  gatewayDnsAddress: string;
  storage: string;
  selector: string;
  /** Set when applying failed or the spec could not be rendered. */
  failure?: { reason: string; message: string } | undefined;
  /** Advice that does not stop the rollout (secrets written inline): added to Ready's message. */
  warnings?: readonly string[] | undefined;
}

/** Ready's message with the warnings after it, so `kubectl describe` and Argo CD show them. */
function withWarnings(
  conditions: Condition[],
  warnings: readonly string[] | undefined,
): Condition[] {
  if (warnings === undefined || warnings.length === 0) return conditions;
  return conditions.map((c) =>
    c.type === 'Ready'
      ? { ...c, message: `${c.message}; warning: ${warnings.join('; warning: ')}` }
      : c,
  );
}

/** How one part (a Deployment, the HTTPRoute) is doing, for computeStatus. */
export type PartState = {
  state: 'available' | 'progressing' | 'failed';
  detail: string;
  /** The condition reason when this part fails (default DeploymentFailed). */
  reason?: string;
};
type DeploymentState = PartState;

/** Whether a Deployment has fully rolled out its current generation. */
export function deploymentState(name: string, d: V1Deployment | undefined): DeploymentState {
  if (d === undefined) return { state: 'progressing', detail: `${name}: not created yet` };
  const status = d.status ?? {};
  const conditions = status.conditions ?? [];
  const failed = conditions.find(
    (c) =>
      (c.type === 'Progressing' &&
        c.status === 'False' &&
        c.reason === 'ProgressDeadlineExceeded') ||
      (c.type === 'ReplicaFailure' && c.status === 'True'),
  );
  if (failed !== undefined)
    return {
      state: 'failed',
      detail: `${name}: ${failed.reason ?? failed.type}: ${failed.message ?? ''}`.trim(),
    };
  const desired = d.spec?.replicas ?? 1;
  const observed = status.observedGeneration ?? 0;
  if (observed < (d.metadata?.generation ?? 0))
    return { state: 'progressing', detail: `${name}: rollout not observed yet` };
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const total = status.replicas ?? 0;
  if (updated >= desired && available >= desired && total <= updated)
    return { state: 'available', detail: `${name}: ${available}/${desired} available` };
  return {
    state: 'progressing',
    detail: `${name}: ${available}/${desired} available, ${updated} updated`,
  };
}

function condition(
  type: string,
  status: Condition['status'],
  reason: string,
  message: string,
  generation: number,
  previous: Condition[] | undefined,
  now: string,
): Condition {
  const before = previous?.find((c) => c.type === type);
  // lastTransitionTime moves only when the status flips, as metav1.Condition requires.
  const lastTransitionTime =
    before !== undefined && before.status === status ? before.lastTransitionTime : now;
  return { type, status, observedGeneration: generation, lastTransitionTime, reason, message };
}

function gatewayAddress(o: Observed): string {
  const ingress = o.gatewayService?.status?.loadBalancer?.ingress?.[0];
  const port = o.gatewayService?.spec?.ports?.[0]?.port;
  const host = ingress?.hostname ?? ingress?.ip;
  if (host !== undefined)
    return port === undefined || port === 80 ? `http://${host}` : `http://${host}:${port}`;
  return o.gatewayDnsAddress;
}

/** The status for what was observed; `previous` keeps lastTransitionTime of unchanged conditions. */
export function computeStatus(
  o: Observed,
  previous: ImageOptimizerStatus | undefined,
  now: Date,
): ImageOptimizerStatus {
  const at = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const prev = previous?.conditions;
  const gatewayWanted = o.gatewayWanted !== false;
  const parts: PartState[] = [];
  if (gatewayWanted) parts.push(deploymentState('gateway', o.gateway));
  parts.push(deploymentState('optimizer', o.optimizer));
  if (o.valkeyWanted) parts.push(deploymentState('valkey', o.valkey));
  if (o.routeWanted === true) parts.push(routeState(o.route));
  const failed = parts.filter((p) => p.state === 'failed');
  const waiting = parts.filter((p) => p.state === 'progressing');

  let conditions: Condition[];
  const c = (
    type: string,
    status: Condition['status'],
    reason: string,
    message: string,
  ): Condition => condition(type, status, reason, message, o.generation, prev, at);
  if (o.failure !== undefined) {
    conditions = [
      c('Ready', 'False', o.failure.reason, o.failure.message),
      c('Progressing', 'False', o.failure.reason, o.failure.message),
      c('Degraded', 'True', o.failure.reason, o.failure.message),
      c('Reconciling', 'False', o.failure.reason, 'stopped: see Stalled'),
      c('Stalled', 'True', o.failure.reason, o.failure.message),
    ];
  } else if (failed.length > 0) {
    const message = failed.map((p) => p.detail).join('; ');
    const reason = failed[0]?.reason ?? 'DeploymentFailed';
    conditions = [
      c('Ready', 'False', reason, message),
      c('Progressing', 'False', reason, message),
      c('Degraded', 'True', reason, message),
      c('Reconciling', 'False', reason, 'stopped: see Stalled'),
      c('Stalled', 'True', reason, message),
    ];
  } else if (waiting.length > 0) {
    const message = waiting.map((p) => p.detail).join('; ');
    conditions = [
      c('Ready', 'False', 'RollingOut', message),
      c('Progressing', 'True', 'RollingOut', message),
      c('Degraded', 'False', 'AsExpected', 'no failures'),
      c('Reconciling', 'True', 'RollingOut', message),
      c('Stalled', 'False', 'AsExpected', 'no failures'),
    ];
  } else {
    const message = parts.map((p) => p.detail).join('; ');
    conditions = [
      c('Ready', 'True', 'Available', message),
      c('Progressing', 'False', 'Complete', 'all rolled out'),
      c('Degraded', 'False', 'AsExpected', 'no failures'),
      c('Reconciling', 'False', 'Complete', 'all rolled out'),
      c('Stalled', 'False', 'AsExpected', 'no failures'),
    ];
  }
  const readyReplicas = o.optimizer?.status?.readyReplicas ?? 0;
  const status: ImageOptimizerStatus = {
    observedGeneration: o.generation,
    conditions: withWarnings(conditions, o.warnings),
    replicas: o.optimizer?.status?.replicas ?? 0,
    readyReplicas,
    optimizerReplicas: `${readyReplicas}/${o.optimizer?.spec?.replicas ?? 0}`,
    selector: o.selector,
    storage: o.storage,
  };
  if (gatewayWanted) {
    status.gatewayAddress = gatewayAddress(o);
    status.gatewayReadyReplicas = o.gateway?.status?.readyReplicas ?? 0;
  }
  return status;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

/** True when two statuses say the same thing (key order and undefined fields aside). */
export function sameStatus(
  a: ImageOptimizerStatus | undefined,
  b: ImageOptimizerStatus | undefined,
): boolean {
  return JSON.stringify(canonical(a ?? {})) === JSON.stringify(canonical(b ?? {}));
}
