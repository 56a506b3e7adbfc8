import type { KubeConfig, KubernetesObject, V1Pod } from '@kubernetes/client-node';
import {
  API_VERSION,
  type ImageOptimizerSpecInput,
  type ImageOptimizerStatus,
  KIND,
} from '../../api/image-optimizer.ts';
import { createLogger } from '../../lib/logger.ts';
import { eventually } from '../../test/control-plane/wait-for.ts';
import { OPERATOR_DEFAULTS, type OperatorConfig } from '../config.ts';
import { buildCrd } from '../crd/crd.ts';
import { KubeClient } from '../kube/client.ts';
import { IMAGE_OPTIMIZER, resourcePath } from '../kube/kinds.ts';
import { type RunningOperator, startOperator } from '../manager.ts';

// Helpers for the operator's control-plane tests (operator/*.cp.test.ts) and its benchmark.

export type CrObject = KubernetesObject & {
  spec: ImageOptimizerSpecInput;
  status?: ImageOptimizerStatus;
};

/** Installs (or updates) the generated CRD and waits until it is Established. */
export async function installCrd(client: KubeClient): Promise<void> {
  const crd = buildCrd() as KubernetesObject;
  const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata?.name}`;
  await client.request(
    'PATCH',
    `${path}?fieldManager=next-image-tests&force=true`,
    crd,
    'application/apply-patch+yaml',
  );
  await eventually(async () => {
    const got = await client.get<{
      status?: { conditions?: Array<{ type: string; status: string }> };
    }>(path);
    return got?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
      ? true
      : undefined;
  }, 'the CRD to be Established');
}

/** An ImageOptimizer object. */
export function imageOptimizer(
  namespace: string,
  name: string,
  spec: ImageOptimizerSpecInput,
): CrObject {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace }, spec };
}

export const crPath = (namespace: string, name?: string): string =>
  resourcePath(IMAGE_OPTIMIZER, namespace, name);

/** Creates an ImageOptimizer (POST). */
export function createCr(client: KubeClient, cr: CrObject): Promise<CrObject> {
  return client.request<CrObject>('POST', crPath(cr.metadata?.namespace ?? 'default'), cr);
}

/** Merge-patches an ImageOptimizer's spec. */
export function patchSpec(
  client: KubeClient,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<CrObject> {
  return client.request<CrObject>(
    'PATCH',
    crPath(namespace, name),
    { spec },
    'application/merge-patch+json',
  );
}

/**
 * No kubelet runs here, so pods stay Pending: mark every pod of `namespace` Running and Ready,
 * and the ReplicaSet and Deployment controllers then report the Deployments available.
 */
export async function markPodsReady(client: KubeClient, namespace: string): Promise<number> {
  const pods = await client.list<V1Pod>(`/api/v1/namespaces/${namespace}/pods`);
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  let marked = 0;
  for (const pod of pods.items) {
    if (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const status = {
      phase: 'Running',
      conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
        type,
        status: 'True',
        lastTransitionTime: now,
      })),
    };
    await client
      .request(
        'PATCH',
        `/api/v1/namespaces/${namespace}/pods/${pod.metadata?.name}/status`,
        { status },
        'application/merge-patch+json',
      )
      .catch(() => undefined); // the pod may be gone already (a rollout replaced it)
    marked += 1;
  }
  return marked;
}

/** The CR's condition `type`, or undefined. */
export function conditionOf(
  cr: CrObject | undefined,
  type: string,
): { status: string; reason: string; message: string } | undefined {
  return cr?.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the CR is Ready for its current generation, marking pods ready meanwhile. */
export function waitReady(
  client: KubeClient,
  namespace: string,
  name: string,
  timeoutMs = 45_000,
): Promise<CrObject> {
  return eventually(
    async () => {
      await markPodsReady(client, namespace);
      const cr = await client.get<CrObject>(crPath(namespace, name));
      const ready =
        conditionOf(cr, 'Ready')?.status === 'True' &&
        cr?.status?.observedGeneration === cr?.metadata?.generation;
      return ready ? cr : undefined;
    },
    `${namespace}/${name} to be Ready`,
    timeoutMs,
  );
}

/** Operator settings for tests: one namespace, loopback, any free ports, no leader election. */
export function testOperatorConfig(
  namespaces: string[],
  overrides: Partial<OperatorConfig> = {},
): OperatorConfig {
  return {
    namespaces,
    image: 'example.test/next-image:test',
    valkeyImage: 'example.test/valkey:test',
    clusterDomain: OPERATOR_DEFAULTS.clusterDomain,
    bindAddress: '127.0.0.1',
    metricsPort: 0,
    // Plain HTTP for tests that read metrics; metrics-auth.cp.test.ts covers the secure mode.
    metricsSecure: false,
    healthPort: 0,
    workers: 4,
    resyncSeconds: 0,
    leaderElection: false,
    leaseNamespace: namespaces[0] ?? 'default',
    leaseName: 'next-image-operator',
    identity: `test-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
    leaseDurationSeconds: OPERATOR_DEFAULTS.leaseDurationSeconds,
    renewDeadlineSeconds: OPERATOR_DEFAULTS.renewDeadlineSeconds,
    retryPeriodSeconds: OPERATOR_DEFAULTS.retryPeriodSeconds,
    logLevel: 'error',
    ...overrides,
  };
}

/** Starts an in-process operator. */
export function startTestOperator(
  kc: KubeConfig,
  config: OperatorConfig,
): Promise<RunningOperator> {
  return startOperator(config, kc, createLogger('next-image-operator-test', config.logLevel));
}

export { eventually, KubeClient };
