import { resolve } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../test/control-plane/control-plane.ts';
import { installCrds } from '../test/control-plane/crds.ts';
import { controlPlane } from '../test/control-plane/test-cluster.ts';
import { HTTP_ROUTE, resourcePath } from './kube/kinds.ts';
import type { RunningOperator } from './manager.ts';
import {
  type CrObject,
  conditionOf,
  createCr,
  crPath,
  eventually,
  imageOptimizer,
  installCrd,
  KubeClient,
  startTestOperator,
  testOperatorConfig,
} from './test-support/control-plane.ts';

// A cluster without the Gateway API: a private control plane (the shared one has its CRDs).
// The operator must start and serve routing modes gateway and ingress; mode httpRoute stalls
// with a reason saying what to install, deletes nothing, and recovers once the CRDs arrive.
// No kube-controller-manager: Deployments never roll out here, which these tests do not need.

const GATEWAY_API_CRDS = resolve(
  import.meta.dirname,
  '../test/control-plane/crds/gateway-api-v1.3.0-standard.yaml',
);
const namespace = 'default';
let cp: ControlPlane | undefined;
let operator: RunningOperator | undefined;
let client: KubeClient;

beforeAll(async () => {
  cp = await startControlPlane({
    binDir: controlPlane().binDir,
    controllerManager: false,
    log: () => undefined,
  });
  client = new KubeClient(cp.kubeConfig);
  await installCrd(client);
  operator = await startTestOperator(cp.kubeConfig, testOperatorConfig([namespace]));
});
afterAll(async () => {
  await operator?.stop();
  await cp?.stop();
});

const cr = (name: string): Promise<CrObject | undefined> =>
  client.get<CrObject>(crPath(namespace, name));
const exists = async (path: string): Promise<true | undefined> =>
  (await client.get(path)) === undefined ? undefined : true;

describe('a cluster without the Gateway API CRDs', () => {
  it('starts the operator: every informer synced, the HTTPRoute one empty', async () => {
    const ready = await eventually(async () => {
      const res = await fetch(`${operator?.health.url}/readyz`);
      return res.status === 200 ? res.text() : undefined;
    }, '/readyz to answer 200');
    expect(ready).toBe('ok');
    const routeInformers = operator?.caches.informersOf(HTTP_ROUTE) ?? [];
    expect(routeInformers.map((i) => i.absent)).toEqual([true]);
  });

  it.each(['gateway', 'ingress'] as const)('reconciles routing mode %s', async (mode) => {
    await createCr(
      client,
      imageOptimizer(namespace, `shop-${mode}`, {
        imageOptimizer: { fallback: 'frontend' },
        routing: { mode },
      }),
    );
    const rolling = await eventually(async () => {
      const got = await cr(`shop-${mode}`);
      return conditionOf(got, 'Reconciling')?.status === 'True' ? got : undefined;
    }, `shop-${mode} to be rolling out`);
    expect(conditionOf(rolling, 'Stalled')?.status).toBe('False');
    const child =
      mode === 'gateway'
        ? `/apis/apps/v1/namespaces/${namespace}/deployments/shop-gateway-gateway`
        : `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses/shop-ingress`;
    expect(await exists(child)).toBe(true);
  });

  it('stalls routing mode httpRoute with a reason saying to install the Gateway API, deleting nothing', async () => {
    await createCr(
      client,
      imageOptimizer(namespace, 'shop', {
        imageOptimizer: { fallback: 'frontend' },
        routing: { mode: 'httpRoute', httpRoute: { parentRefs: [{ name: 'public' }] } },
      }),
    );
    const stalled = await eventually(async () => {
      const got = await cr('shop');
      return conditionOf(got, 'Stalled')?.status === 'True' ? got : undefined;
    }, 'shop to be Stalled');
    expect(conditionOf(stalled, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'GatewayAPIMissing',
    });
    expect(conditionOf(stalled, 'Stalled')?.message).toContain('install its CRDs');
    expect(stalled.status?.conditions?.every((c) => c.observedGeneration === 1)).toBe(true);
    // The rest of the desired state was applied; only the HTTPRoute is missing.
    expect(await exists(`/apis/apps/v1/namespaces/${namespace}/deployments/shop-optimizer`)).toBe(
      true,
    );
  });

  it('creates the HTTPRoute once the Gateway API CRDs are installed', async () => {
    if (cp === undefined) throw new Error('no control plane');
    await installCrds(
      { server: cp.server, caPem: cp.caPem, token: cp.adminToken },
      [GATEWAY_API_CRDS],
      60_000,
    );
    const route = await eventually(
      () => client.get<KubernetesObject>(resourcePath(HTTP_ROUTE, namespace, 'shop')),
      'the HTTPRoute after the CRDs arrived',
      90_000,
    );
    expect(route.metadata?.ownerReferences?.[0]?.name).toBe('shop');
    const recovered = await eventually(async () => {
      const got = await cr('shop');
      return conditionOf(got, 'Stalled')?.status === 'False' ? got : undefined;
    }, 'shop to leave Stalled');
    expect(conditionOf(recovered, 'Reconciling')?.status).toBe('True');
    // The informer finds the API on its next look (backoff ≤ 30 s).
    await eventually(
      async () =>
        operator?.caches.informersOf(HTTP_ROUTE)[0]?.absent === false ? true : undefined,
      'the HTTPRoute informer to find the API',
      60_000,
    );
  }, 120_000);
});
