import { join } from 'node:path';
import {
  ApiException,
  CoreV1Api,
  type V1Pod,
  type V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { examplePods, variantPods } from '../../operator/test-support/rendered-pods.ts';
import { testKubeConfig } from '../control-plane/test-cluster.ts';
import {
  restrictedViolations,
  writableMounts,
  writableRootFilesystems,
} from '../support/pod-security.ts';
import { CHART, type Manifest, only, template } from './helm.ts';

// Issue 11 §3: every pod the chart and the operator create is admitted where the restricted
// Pod Security Standard is enforced. The chart's operator Deployment is checked with the
// same pure checker as the rendered pods; then the real PodSecurity admission of the
// kube-apiserver judges every pod template, created as a Pod with dryRun=All.

const core = testKubeConfig().makeApiClient(CoreV1Api);

/** A namespace enforcing restricted:latest, deleted after this file. */
async function restrictedNamespace(): Promise<string> {
  const created = await core.createNamespace({
    body: {
      metadata: {
        generateName: 'pss-',
        labels: {
          'next-image.test/owner': 'vitest',
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    },
  });
  const name = created.metadata?.name;
  if (name === undefined) throw new Error('the apiserver returned a namespace without a name');
  afterAll(async () => {
    await core.deleteNamespace({ name }).catch(() => undefined);
  });
  return name;
}

const namespace = await restrictedNamespace();

/** The ServiceAccount admission wants the pod's account to exist; the controller may be late. */
async function ensureServiceAccount(name: string): Promise<void> {
  try {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
  }
}

/** Creates a Pod from `pod` with dryRun=All: every admission runs, nothing is stored. */
async function dryRunPod(name: string, pod: V1PodTemplateSpec): Promise<V1Pod> {
  const spec = pod.spec;
  if (spec === undefined) throw new Error(`${name}: a pod template without spec`);
  await ensureServiceAccount(spec.serviceAccountName ?? 'default');
  return core.createNamespacedPod({
    namespace,
    dryRun: 'All',
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `pss-${Math.random().toString(36).slice(2, 10)}`,
        namespace,
        labels: pod.metadata?.labels ?? {},
        annotations: pod.metadata?.annotations ?? {},
      },
      spec,
    },
  });
}

/** The pod template of the chart's operator Deployment. */
function operatorPod(manifests: Manifest[]): V1PodTemplateSpec {
  return (only(manifests, 'Deployment') as unknown as { spec: { template: V1PodTemplateSpec } })
    .spec.template;
}

const CHART_VALUES: Array<[string, string[]]> = [
  ['default values', []],
  ['two replicas with leader election', ['--set', 'operator.replicas=2']],
  ['ci/ha-values.yaml', ['-f', join(CHART, 'ci', 'ha-values.yaml')]],
];

describe('the chart: the operator Deployment under the restricted standard', () => {
  it.each(CHART_VALUES)('passes the checker with %s, writing only to /tmp', async (_n, args) => {
    const pod = operatorPod(await template('pss', namespace, args));
    expect(restrictedViolations(pod).map((v) => v.message)).toEqual([]);
    expect(writableRootFilesystems(pod)).toEqual([]);
    expect(writableMounts(pod)).toEqual(['operator:/tmp']);
  });

  it.each(CHART_VALUES)(
    'is admitted by the real PodSecurity admission with %s',
    async (_n, args) => {
      const pod = operatorPod(await template('pss', namespace, args));
      const created = await dryRunPod('chart operator', pod);
      expect(created.metadata?.namespace).toBe(namespace);
    },
  );
});

describe('the operator: every rendered pod in a namespace enforcing restricted', () => {
  it('admits every pod of examples/ and of every storage and replica variant', async () => {
    const pods = [...(await examplePods()), ...variantPods()];
    expect(pods.length).toBeGreaterThan(10);
    const refused: string[] = [];
    for (const [where, pod] of pods) {
      await dryRunPod(where, pod).catch((error: unknown) => {
        refused.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
      });
    }
    expect(refused).toEqual([]);
  });

  it('refuses a pod that breaks the standard, naming what it breaks', async () => {
    const [[, good] = ['', {}]] = variantPods();
    const bad = structuredClone(good);
    const container = bad.spec?.containers[0];
    if (container === undefined) throw new Error('no container to break');
    container.securityContext = { ...container.securityContext, allowPrivilegeEscalation: true };
    const refusal = await dryRunPod('bad', bad).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(ApiException);
    const apiError = refusal as ApiException<unknown>;
    expect(apiError.code).toBe(403);
    // The Status comes back as the exception's body (a JSON string); its message is the
    // admission's own text.
    const body = typeof apiError.body === 'string' ? apiError.body : JSON.stringify(apiError.body);
    const status = JSON.parse(body) as { message?: string };
    expect(status.message).toMatch(
      /violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false/,
    );
    // The pure checker agrees with the admission.
    expect(restrictedViolations(bad).map((v) => v.check)).toEqual(['allowPrivilegeEscalation']);
  });
});
