import type {
  KubernetesObject,
  V1Deployment,
  V1PersistentVolumeClaim,
  V1Pod,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMMUTABLE_MESSAGE } from '../api/valkey-persistence.ts';
import { KubeApiError } from './errors.ts';
import {
  type CrObject,
  conditionOf,
  crPath,
  eventually,
  imageOptimizer,
  markPodsReady,
  patchSpec,
  waitReady,
} from './test-support/control-plane.ts';
import { everyFieldSpec, everyPodSetting } from './test-support/every-pod-setting.ts';
import { crdTestBed, operatorForFile } from './test-support/test-bed.ts';

// Issue 12 items 1, 3 and 4 on a real API server: a CR using every new field applies
// server-side with nothing pruned, and the operator's children — and the pods the Deployment
// and StatefulSet controllers make from them — are accepted in a namespace that enforces the
// restricted Pod Security Standard. Turning Valkey persistence on and off leaves no orphan.

const { namespace, kc, client } = await crdTestBed('podsettings');
operatorForFile(kc, namespace);
const PRIORITY_CLASS = `web-critical`;
const api = (group: string, resource: string, name?: string): string =>
  `${group === '' ? '/api/v1' : `/apis/${group}`}/namespaces/${namespace}/${resource}${name === undefined ? '' : `/${name}`}`;
const get = <T>(group: string, resource: string, name: string): Promise<T | undefined> =>
  client.get<T>(api(group, resource, name));

beforeAll(async () => {
  await client.request(
    'PATCH',
    `/api/v1/namespaces/${namespace}`,
    { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
    'application/merge-patch+json',
  );
  // The pods name these; the ServiceAccount and Priority admission plugins refuse pods without them.
  for (const component of ['optimizer', 'gateway', 'valkey'])
    await client.request('POST', api('', 'serviceaccounts'), {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: `image-${component}` },
    });
  await client
    .request('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: PRIORITY_CLASS },
      value: 1000,
    })
    .catch((error: unknown) => {
      if (!(error instanceof KubeApiError && error.status === 409)) throw error;
    });
});
afterAll(async () => {
  await client.delete(`/apis/scheduling.k8s.io/v1/priorityclasses/${PRIORITY_CLASS}`);
});

describe('every pod setting, persistent Valkey and the HA gateway on a real control plane', () => {
  it('applies server-side with every field kept (the CRD schema holds them all)', async () => {
    const every = everyFieldSpec();
    const cr = imageOptimizer(namespace, 'shop', {
      ...every,
      imageOptimizer: { fallback: 'frontend', ...every.imageOptimizer },
    });
    const stored = await client.apply<CrObject>(cr, 'pod-settings-test');
    const spec = stored.spec as unknown as Record<string, Record<string, unknown>>;
    // Pruning would drop what the schema does not declare; nothing may be missing.
    expect(spec.optimizer?.pod).toEqual(everyPodSetting('optimizer'));
    expect(spec.gateway?.pod).toEqual(everyPodSetting('gateway'));
    expect(spec.valkey?.pod).toEqual(everyPodSetting('valkey'));
    expect(spec.valkey?.persistence).toEqual((every.valkey as Record<string, unknown>).persistence);
    expect(spec.gateway?.autoscaling).toEqual(
      (every.gateway as Record<string, unknown>).autoscaling,
    );
  });

  it('reconciles it: every child is accepted and its pods are admitted under restricted', async () => {
    const ready = await waitReady(client, namespace, 'shop', 60_000);
    expect(conditionOf(ready, 'Stalled')?.status).toBe('False');
    const optimizer = await get<V1Deployment>('apps/v1', 'deployments', 'shop-optimizer');
    expect(optimizer?.spec?.template.spec).toMatchObject({
      priorityClassName: PRIORITY_CLASS,
      serviceAccountName: 'image-optimizer',
      terminationGracePeriodSeconds: 45,
      topologySpreadConstraints: everyPodSetting('optimizer').topologySpreadConstraints,
    });
    expect(await get('autoscaling/v2', 'horizontalpodautoscalers', 'shop-gateway')).toBeDefined();
    expect(await get('policy/v1', 'poddisruptionbudgets', 'shop-gateway')).toBeDefined();
    expect(await get('policy/v1', 'poddisruptionbudgets', 'shop-optimizer')).toBeDefined();
    expect(await get('apps/v1', 'deployments', 'shop-valkey')).toBeUndefined();
    const sts = await get<V1StatefulSet>('apps/v1', 'statefulsets', 'shop-valkey');
    expect(sts?.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests).toEqual({
      storage: '2Gi',
    });
    // The controllers made the pods, so admission (restricted, ServiceAccount, Priority) took them.
    const pods = await client.list<V1Pod>(api('', 'pods'));
    const components = pods.items.map((p) => p.metadata?.labels?.['app.kubernetes.io/component']);
    expect(components.filter((c) => c === 'optimizer')).toHaveLength(3);
    // The HPA owns the gateway's replicas (no HPA controller runs here, so the Deployment's 1).
    expect(components.filter((c) => c === 'gateway').length).toBeGreaterThanOrEqual(1);
    const gateway = await get<V1Deployment>('apps/v1', 'deployments', 'shop-gateway');
    const managers = gateway?.metadata?.managedFields?.filter((f) =>
      JSON.stringify(f.fieldsV1).includes('"f:replicas"'),
    );
    expect(managers?.map((m) => m.manager)).not.toContain('next-image-operator');
    expect(components.filter((c) => c === 'valkey')).toHaveLength(1);
    const claim = await get<V1PersistentVolumeClaim>(
      '',
      'persistentvolumeclaims',
      'data-shop-valkey-0',
    );
    expect(claim?.spec?.storageClassName).toBe('fast-ssd');
  }, 90_000);

  it('turns persistence off and on again, leaving no StatefulSet, claim or Deployment behind', async () => {
    await patchSpec(client, namespace, 'shop', { valkey: { persistence: { enabled: false } } });
    await eventually(
      async () =>
        (await get('apps/v1', 'statefulsets', 'shop-valkey')) === undefined &&
        (await get('apps/v1', 'deployments', 'shop-valkey')) !== undefined
          ? true
          : undefined,
      'the Valkey StatefulSet to give way to a Deployment',
    );
    // The claim goes with its StatefulSet (retention whenDeleted: Delete, then garbage
    // collection). Its kubernetes.io/pvc-protection finalizer is lifted by a controller this
    // tier does not run, so "deleted" here is "being deleted".
    await eventually(async () => {
      const claim = await get<V1PersistentVolumeClaim>(
        '',
        'persistentvolumeclaims',
        'data-shop-valkey-0',
      );
      return claim === undefined || claim.metadata?.deletionTimestamp !== undefined
        ? true
        : undefined;
    }, 'the Valkey claim to be deleted');
    await waitReady(client, namespace, 'shop', 60_000);

    await patchSpec(client, namespace, 'shop', { valkey: { persistence: { enabled: true } } });
    await eventually(
      async () =>
        (await get('apps/v1', 'deployments', 'shop-valkey')) === undefined &&
        (await get('apps/v1', 'statefulsets', 'shop-valkey')) !== undefined
          ? true
          : undefined,
      'the Valkey Deployment to give way to a StatefulSet',
    );
    await markPodsReady(client, namespace);
  }, 150_000);

  it('refuses a new claim size while persistence is on, and takes it with persistence off', async () => {
    const message = await patchSpec(client, namespace, 'shop', {
      valkey: { persistence: { size: '3Gi' } },
    }).then(
      () => 'accepted',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    expect(message).toContain(IMMUTABLE_MESSAGE);
    await patchSpec(client, namespace, 'shop', {
      valkey: { persistence: { enabled: false, size: '3Gi' } },
    });
    await patchSpec(client, namespace, 'shop', { valkey: { persistence: { enabled: true } } });
    await eventually(async () => {
      const sts = await get<V1StatefulSet>('apps/v1', 'statefulsets', 'shop-valkey');
      return sts?.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.storage === '3Gi'
        ? true
        : undefined;
    }, 'a StatefulSet with the new claim size');
  }, 90_000);

  it('replaces its own StatefulSet whose claim template no longer matches (immutable on the server)', async () => {
    // The state two quick edits can leave (persistence off and on with a new size before the
    // operator saw the first): a StatefulSet of ours with another claim size. Made here by
    // swapping in a 1Gi copy; the operator may recreate it first, then try again.
    const path = api('apps/v1', 'statefulsets');
    for (let attempt = 0; ; attempt++) {
      const current = await get<V1StatefulSet>('apps/v1', 'statefulsets', 'shop-valkey');
      if (current?.spec === undefined) continue;
      const claim = current.spec.volumeClaimTemplates?.[0];
      const stale: V1StatefulSet = {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: {
          name: 'shop-valkey',
          labels: current.metadata?.labels ?? {},
          ownerReferences: current.metadata?.ownerReferences ?? [],
        },
        spec: {
          ...current.spec,
          volumeClaimTemplates: [
            {
              metadata: claim?.metadata ?? {},
              spec: { ...claim?.spec, resources: { requests: { storage: '1Gi' } } },
            },
          ],
        },
      };
      await client.delete(`${path}/shop-valkey`, current.metadata?.uid);
      const made = await client.request('POST', path, stale).then(
        () => true,
        (error: unknown) => {
          if (error instanceof KubeApiError && error.status === 409 && attempt < 20) return false;
          throw error;
        },
      );
      if (made) break;
    }
    await eventually(async () => {
      const sts = await get<V1StatefulSet>('apps/v1', 'statefulsets', 'shop-valkey');
      return sts?.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.storage === '3Gi'
        ? true
        : undefined;
    }, 'the operator to replace the 1Gi StatefulSet with its own');
    // Not Ready here: the old claim keeps its kubernetes.io/pvc-protection finalizer (its
    // controller does not run in this tier), so the new pod waits. But nothing is failing.
    await eventually(async () => {
      const cr = await client.get<CrObject>(crPath(namespace, 'shop'));
      return conditionOf(cr, 'Ready')?.reason === 'ApplyFailed' ? undefined : true;
    }, 'the ApplyFailed condition to clear');
  }, 120_000);

  it('publishes Kubernetes descriptions for the pod settings, which kubectl explain reads', async () => {
    type Node = { description?: string; properties?: Record<string, Node>; items?: Node };
    const doc = await eventually(async () => {
      const d = await client.get<{ components: { schemas: Record<string, Node> } }>(
        '/openapi/v3/apis/nextimage.dev/v1alpha1',
      );
      return d?.components.schemas['dev.nextimage.v1alpha1.ImageOptimizer'] === undefined
        ? undefined
        : d;
    }, 'the CRD in the published OpenAPI');
    const at = (node: Node | undefined, path: string): Node | undefined =>
      path
        .split('.')
        .reduce<Node | undefined>(
          (n, key) => (key === '[]' ? n?.items : n?.properties?.[key]),
          node,
        );
    const root = doc.components.schemas['dev.nextimage.v1alpha1.ImageOptimizer'];
    for (const path of [
      'spec.optimizer.pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution',
      'spec.gateway.pod.tolerations.[].tolerationSeconds',
      'spec.valkey.pod.topologySpreadConstraints.[].whenUnsatisfiable',
      'spec.optimizer.pod.env.[].valueFrom.secretKeyRef.key',
      'spec.valkey.persistence.size',
      'spec.gateway.autoscaling',
    ])
      expect(at(root, path)?.description, path).toMatch(/\w{3,}/);
  });

  it('is refused by the API server itself for what zod refuses', async () => {
    const refusal = (spec: object): Promise<string> =>
      client
        .apply<KubernetesObject>(
          imageOptimizer(namespace, 'bad', { imageOptimizer: { fallback: 'frontend' }, ...spec }),
          'pod-settings-test',
        )
        .then(
          () => 'accepted',
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        );
    expect(
      await refusal({ optimizer: { pod: { containerSecurityContext: { privileged: true } } } }),
    ).toContain('spec.optimizer.pod.containerSecurityContext.privileged: Unsupported value: true');
    expect(
      await refusal({ gateway: { pod: { labels: { 'app.kubernetes.io/instance': 'x' } } } }),
    ).toContain('pod.labels must not set the selector labels');
    expect(
      await refusal({ valkey: { pod: { env: [{ name: 'NEXT_IMAGE_X', value: '1' }] } } }),
    ).toContain('pod.env must not set NEXT_IMAGE_*');
    const long = await client
      .apply<KubernetesObject>(
        imageOptimizer(namespace, 'a'.repeat(46), {
          imageOptimizer: { fallback: 'frontend' },
          valkey: { persistence: { enabled: true } },
        }),
        'pod-settings-test',
      )
      .then(
        () => 'accepted',
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
    expect(long).toContain('metadata.name must be at most 45 characters');
    expect(await client.get(crPath(namespace, 'bad'))).toBeUndefined();
  });
});
