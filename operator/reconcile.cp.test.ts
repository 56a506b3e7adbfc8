import type {
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { GatewayConfigSchema } from '../api/gateway-config.ts';
import { OptimizerConfigSchema } from '../api/optimizer-config.ts';
import { CONFIG_HASH_ANNOTATION } from './render/names.ts';
import {
  type CrObject,
  conditionOf,
  createCr,
  crPath,
  eventually,
  imageOptimizer,
  patchSpec,
  waitReady,
} from './test-support/control-plane.ts';
import { crdTestBed, operatorForFile } from './test-support/test-bed.ts';

const { namespace, kc, client } = await crdTestBed('reconcile');
const operator = operatorForFile(kc, namespace);

const path = (kind: string, name: string): string =>
  ({
    Deployment: `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`,
    Service: `/api/v1/namespaces/${namespace}/services/${name}`,
    Secret: `/api/v1/namespaces/${namespace}/secrets/${name}`,
    ConfigMap: `/api/v1/namespaces/${namespace}/configmaps/${name}`,
    NetworkPolicy: `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies/${name}`,
  })[kind] ?? '';
const get = <T>(kind: string, name: string): Promise<T | undefined> =>
  client.get<T>(path(kind, name));
const exists = async (kind: string, name: string): Promise<true | undefined> =>
  (await get(kind, name)) === undefined ? undefined : true;
const gone = async (kind: string, name: string): Promise<true | undefined> =>
  (await get(kind, name)) === undefined ? true : undefined;

async function optimizerConfig(
  cr: string,
): Promise<ReturnType<typeof OptimizerConfigSchema.parse>> {
  const secret = await get<V1Secret>('Secret', `${cr}-optimizer-config`);
  return OptimizerConfigSchema.parse(
    JSON.parse(Buffer.from(secret?.data?.['optimizer.json'] ?? '', 'base64').toString()),
  );
}
const configHash = async (name: string): Promise<string | undefined> =>
  (await get<V1Deployment>('Deployment', name))?.spec?.template.metadata?.annotations?.[
    CONFIG_HASH_ANNOTATION
  ];

describe('the operator against a real control plane', () => {
  it('turns an ImageOptimizer into its children, owned by it, with valid configs', async () => {
    const cr = await createCr(
      client,
      imageOptimizer(namespace, 'shop', { imageOptimizer: { fallback: 'frontend' } }),
    );
    for (const [kind, name] of [
      ['Secret', 'shop-optimizer-config'],
      ['Service', 'shop-optimizer'],
      ['Deployment', 'shop-optimizer'],
      ['ConfigMap', 'shop-gateway-config'],
      ['Service', 'shop-gateway'],
      ['Deployment', 'shop-gateway'],
    ] as const) {
      const child = await eventually(() => get<KubernetesObject>(kind, name), `${kind}/${name}`);
      expect(child.metadata?.ownerReferences).toEqual([
        {
          apiVersion: 'nextimage.dev/v1alpha1',
          kind: 'ImageOptimizer',
          name: 'shop',
          uid: cr.metadata?.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
    const config = await optimizerConfig('shop');
    expect(config.discovery).toEqual({ namespace, clusterDomain: 'cluster.local' });
    expect(config.next.imageOptimizer.storage).toEqual({ type: 'memory' });
    const gw = await get<V1ConfigMap>('ConfigMap', 'shop-gateway-config');
    GatewayConfigSchema.parse(JSON.parse(gw?.data?.['gateway.json'] ?? ''));
    expect(await get('Deployment', 'shop-valkey')).toBeUndefined();
  });

  it('reports Progressing until the Deployments are available, then Ready with observedGeneration', async () => {
    const progressing = await eventually(async () => {
      const cr = await client.get<CrObject>(crPath(namespace, 'shop'));
      return conditionOf(cr, 'Progressing')?.status === 'True' ? cr : undefined;
    }, 'Progressing=True');
    expect(conditionOf(progressing, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'RollingOut',
    });
    const ready = await waitReady(client, namespace, 'shop');
    expect(ready.status).toMatchObject({
      observedGeneration: 1,
      replicas: 1,
      readyReplicas: 1,
      storage: 'memory',
      gatewayAddress: `http://shop-gateway.${namespace}.svc.cluster.local`,
    });
    expect(conditionOf(ready, 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'Complete',
    });
    expect(conditionOf(ready, 'Degraded')).toMatchObject({ status: 'False' });
    expect(conditionOf(ready, 'Reconciling')).toMatchObject({
      status: 'False',
      reason: 'Complete',
    });
    expect(conditionOf(ready, 'Stalled')).toMatchObject({ status: 'False' });
  });

  it('applies a spec change and rolls only the optimizer pods through the config hash', async () => {
    const [optBefore, gwBefore] = [
      await configHash('shop-optimizer'),
      await configHash('shop-gateway'),
    ];
    await patchSpec(client, namespace, 'shop', { imageOptimizer: { timeout: 5000 } });
    await eventually(
      async () => ((await configHash('shop-optimizer')) !== optBefore ? true : undefined),
      'a new optimizer config hash',
    );
    expect((await optimizerConfig('shop')).next.imageOptimizer.timeout).toBe(5000);
    expect(await configHash('shop-gateway')).toBe(gwBefore);
    const ready = await waitReady(client, namespace, 'shop');
    expect(ready.status?.observedGeneration).toBe(2);
  });

  it('restores a child deleted by hand', async () => {
    const before = await get<V1Service>('Service', 'shop-optimizer');
    await client.delete(path('Service', 'shop-optimizer'));
    const restored = await eventually(async () => {
      const svc = await get<V1Service>('Service', 'shop-optimizer');
      return svc !== undefined && svc.metadata?.uid !== before?.metadata?.uid ? svc : undefined;
    }, 'the Service to come back');
    expect(restored.spec?.ports?.[0]?.port).toBe(3000);
  });

  it('takes back a field edited by hand', async () => {
    await client.request(
      'PATCH',
      path('Deployment', 'shop-gateway'),
      {
        spec: {
          template: { spec: { containers: [{ name: 'gateway', image: 'evil.example/x:1' }] } },
        },
      },
      'application/strategic-merge-patch+json',
    );
    await eventually(async () => {
      const d = await get<V1Deployment>('Deployment', 'shop-gateway');
      return d?.spec?.template.spec?.containers[0]?.image === 'example.test/next-image:test'
        ? true
        : undefined;
    }, 'the image to be restored');
  });

  it('provisions Valkey when scaled to 3 without storage, keeps its password, and removes it when back to 1', async () => {
    await patchSpec(client, namespace, 'shop', { optimizer: { replicas: 3 } });
    for (const kind of ['Secret', 'Service', 'Deployment', 'NetworkPolicy'])
      await eventually(() => exists(kind, 'shop-valkey'), `${kind}/shop-valkey`);
    const secret = await get<V1Secret>('Secret', 'shop-valkey');
    const password = Buffer.from(secret?.data?.password ?? '', 'base64').toString();
    expect(password.length).toBeGreaterThanOrEqual(32);
    const storage = await eventually(async () => {
      const s = (await optimizerConfig('shop')).next.imageOptimizer.storage;
      return s.type === 'valkey' ? s : undefined;
    }, 'the optimizer config to point at Valkey');
    expect(storage).toMatchObject({
      url: `redis://:${password}@shop-valkey.${namespace}.svc.cluster.local:6379`,
    });
    const ready = await waitReady(client, namespace, 'shop');
    expect(ready.status).toMatchObject({
      replicas: 3,
      readyReplicas: 3,
      storage: 'valkey (managed)',
    });

    // Another spec change re-renders everything: the password must survive it.
    await patchSpec(client, namespace, 'shop', { imageOptimizer: { maxAttempts: 2 } });
    await waitReady(client, namespace, 'shop');
    const again = await get<V1Secret>('Secret', 'shop-valkey');
    expect(Buffer.from(again?.data?.password ?? '', 'base64').toString()).toBe(password);

    await patchSpec(client, namespace, 'shop', { optimizer: { replicas: 1 } });
    for (const kind of ['Secret', 'Service', 'Deployment', 'NetworkPolicy'])
      await eventually(() => gone(kind, 'shop-valkey'), `${kind}/shop-valkey to be pruned`);
    expect((await optimizerConfig('shop')).next.imageOptimizer.storage).toEqual({ type: 'memory' });
  });

  it('creates an HPA instead of setting replicas when autoscaling is asked', async () => {
    await patchSpec(client, namespace, 'shop', {
      optimizer: { autoscaling: { minReplicas: 2, maxReplicas: 4 } },
    });
    await eventually(
      () =>
        client.get(
          `/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers/shop-optimizer`,
        ),
      'the HPA',
    );
    const d = await get<
      V1Deployment & {
        metadata: { managedFields?: Array<{ manager?: string; fieldsV1?: unknown }> };
      }
    >('Deployment', 'shop-optimizer');
    const ours = d?.metadata.managedFields?.find((f) => f.manager === 'next-image-operator');
    expect(JSON.stringify(ours?.fieldsV1)).not.toContain('"f:replicas"');
  });

  it('records Events on the ImageOptimizer', async () => {
    const events = await client.list<{ reason?: string; involvedObject?: { name?: string } }>(
      `/api/v1/namespaces/${namespace}/events`,
    );
    const reasons = new Set(
      events.items.filter((e) => e.involvedObject?.name === 'shop').map((e) => e.reason),
    );
    expect([...reasons]).toEqual(expect.arrayContaining(['Created', 'Ready', 'Deleted']));
  });

  it('exposes controller-runtime metrics and readiness', async () => {
    const metrics = await (await fetch(`${operator().metrics.url}/metrics`)).text();
    expect(metrics).toMatch(
      /controller_runtime_reconcile_total\{controller="imageoptimizer",result="success"\} [1-9]/,
    );
    expect(metrics).toContain('workqueue_depth');
    expect((await fetch(`${operator().health.url}/readyz`)).status).toBe(200);
  });

  // The garbage collector learns about a new CRD at its 30-s discovery resync, so on a fresh
  // control plane the first collection of ImageOptimizer children may take up to a minute.
  it('lets garbage collection remove every child when the ImageOptimizer is deleted', {
    timeout: 120_000,
  }, async () => {
    await client.delete(crPath(namespace, 'shop'));
    for (const [kind, name] of [
      ['Deployment', 'shop-optimizer'],
      ['Deployment', 'shop-gateway'],
      ['Service', 'shop-gateway'],
      ['ConfigMap', 'shop-gateway-config'],
      ['Secret', 'shop-optimizer-config'],
    ] as const) {
      await eventually(() => gone(kind, name), `${kind}/${name} to be collected`, 100_000);
    }
  });
});
