import type { KubernetesObject, V1Ingress } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ImageOptimizerSchema } from '../api/image-optimizer.ts';
import { simpleRequest } from '../test/control-plane/http.ts';
import { controlPlane } from '../test/control-plane/test-cluster.ts';
import { KubeApiError } from './errors.ts';
import { HTTP_ROUTE, kindOf, resourcePath } from './kube/kinds.ts';
import { render } from './render/render.ts';
import type { HttpRoute } from './render/routing.ts';
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

// Each routing mode on a real API server with the real Gateway API CRDs (v1.3.0, standard
// channel, installed by the global setup from test/control-plane/crds/): what render makes is
// accepted by a server-side dry-run and by a real apply, and the operator switches between
// the modes, pruning what the old mode had. No Gateway controller runs here; where a test
// needs one's verdict it writes the HTTPRoute status itself, as a controller would.

const { namespace, kc, client } = await crdTestBed('routing');
operatorForFile(kc, namespace);

const HTTP_ROUTING = {
  mode: 'httpRoute',
  httpRoute: {
    parentRefs: [{ name: 'public', namespace: 'infra', sectionName: 'https' }],
    hostnames: ['shop.example.com'],
  },
  frontend: { name: 'frontend', port: 3000 },
};
const INGRESS_ROUTING = {
  mode: 'ingress',
  ingress: {
    ingressClassName: 'nginx',
    hosts: ['shop.example.com'],
    tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
  },
  frontend: { name: 'frontend' },
};
const MODES = [
  ['gateway', { mode: 'gateway' }],
  ['httpRoute', HTTP_ROUTING],
  ['ingress', INGRESS_ROUTING],
] as const;

const options = {
  image: 'example.test/next-image:test',
  valkeyImage: 'example.test/valkey:test',
  clusterDomain: 'cluster.local',
  valkeyPassword: 'not-a-secret',
};
const objectPath = (o: KubernetesObject): string =>
  resourcePath(kindOf(o.apiVersion, o.kind), o.metadata?.namespace, o.metadata?.name);
const applyPath = (o: KubernetesObject, dryRun: boolean): string =>
  `${objectPath(o)}?fieldManager=routing-test&force=true${dryRun ? '&dryRun=All' : ''}`;

const routePath = (name: string): string => resourcePath(HTTP_ROUTE, namespace, name);
const ingressPath = (name: string): string =>
  `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses/${name}`;
const deploymentPath = (name: string): string =>
  `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`;
const exists = async (path: string): Promise<true | undefined> =>
  (await client.get(path)) === undefined ? undefined : true;
const gone = async (path: string): Promise<true | undefined> =>
  (await client.get(path)) === undefined ? true : undefined;

describe('routing modes on the real API server', () => {
  it.each(MODES)(
    'mode %s: every rendered object passes a server-side dry-run and applies',
    async (mode, routing) => {
      const cr = ImageOptimizerSchema.parse({
        apiVersion: 'nextimage.dev/v1alpha1',
        kind: 'ImageOptimizer',
        metadata: { name: `plain-${mode.toLowerCase()}`, namespace },
        spec: { imageOptimizer: { fallback: 'frontend' }, routing },
      });
      const { objects } = render(cr, options);
      const kinds = objects.map((o) => o.kind);
      expect(kinds.includes('Deployment') && kinds.filter((k) => k === 'Deployment').length).toBe(
        mode === 'gateway' ? 2 : 1,
      );
      for (const object of objects) {
        const answer = await client.request<KubernetesObject>(
          'PATCH',
          applyPath(object, true),
          object,
          'application/apply-patch+yaml',
        );
        expect(answer.kind).toBe(object.kind);
        expect(
          await client.get(objectPath(object)),
          `${object.kind} stays unwritten`,
        ).toBeUndefined();
      }
      for (const object of objects)
        await client.request(
          'PATCH',
          applyPath(object, false),
          object,
          'application/apply-patch+yaml',
        );
      if (mode === 'httpRoute') {
        const stored = await client.get<HttpRoute>(routePath(cr.metadata.name));
        // The API server defaults the parent's group and kind; we sent neither.
        expect(stored?.spec.parentRefs[0]).toMatchObject({
          group: 'gateway.networking.k8s.io',
          kind: 'Gateway',
          name: 'public',
        });
        expect(stored?.spec.rules[0]?.matches[0]).toEqual({
          path: { type: 'Exact', value: '/_next/image' },
          method: 'GET',
        });
      }
      if (mode === 'ingress') {
        const stored = await client.get<V1Ingress>(ingressPath(cr.metadata.name));
        expect(stored?.spec?.rules?.[0]?.http?.paths.map((p) => `${p.pathType} ${p.path}`)).toEqual(
          ['Exact /_next/image', 'Prefix /'],
        );
      }
    },
  );

  it('the API server rejects an httpRoute mode without parentRefs, with our message', async () => {
    const error = await createCr(
      client,
      imageOptimizer(namespace, 'no-parents', {
        imageOptimizer: { fallback: 'frontend' },
        routing: { mode: 'httpRoute' },
      }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).message).toContain(
      'routing.mode httpRoute needs routing.httpRoute.parentRefs',
    );
  });
});

describe('the operator in each routing mode', () => {
  it('starts in mode gateway (the default) with the gateway and no route', async () => {
    await createCr(
      client,
      imageOptimizer(namespace, 'shop', { imageOptimizer: { fallback: 'frontend' } }),
    );
    const ready = await waitReady(client, namespace, 'shop');
    expect(ready.spec.routing).toEqual({ mode: 'gateway' });
    expect(ready.status?.gatewayAddress).toBe(`http://shop-gateway.${namespace}.svc.cluster.local`);
    expect(await exists(deploymentPath('shop-gateway'))).toBe(true);
    expect(await client.get(routePath('shop'))).toBeUndefined();
  });

  it('switches to httpRoute: an owned HTTPRoute, the gateway pruned, Ready without it', async () => {
    await patchSpec(client, namespace, 'shop', { routing: HTTP_ROUTING });
    const route = await eventually(() => client.get<HttpRoute>(routePath('shop')), 'the HTTPRoute');
    expect(route.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'ImageOptimizer',
      name: 'shop',
    });
    expect(route.spec.rules.map((r) => r.backendRefs[0]?.name)).toEqual([
      'shop-optimizer',
      'frontend',
    ]);
    for (const path of [
      deploymentPath('shop-gateway'),
      `/api/v1/namespaces/${namespace}/services/shop-gateway`,
      `/api/v1/namespaces/${namespace}/configmaps/shop-gateway-config`,
    ])
      await eventually(() => gone(path), `${path} to be pruned`);
    const ready = await waitReady(client, namespace, 'shop');
    expect(ready.status?.gatewayAddress).toBeUndefined();
    expect(ready.status?.optimizerReplicas).toBe('1/1');
  });

  it('reports a Gateway refusing the HTTPRoute as Stalled, and Ready once it accepts', async () => {
    const verdict = async (status: 'True' | 'False', reason: string): Promise<void> => {
      const route = await client.get<HttpRoute>(routePath('shop'));
      const condition = {
        type: 'Accepted',
        status,
        reason,
        message: `the listener says ${reason}`,
        observedGeneration: route?.metadata?.generation ?? 1,
        lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      };
      await client.request(
        'PATCH',
        `${routePath('shop')}/status`,
        {
          status: {
            parents: [
              {
                parentRef: { name: 'public', namespace: 'infra', sectionName: 'https' },
                controllerName: 'example.test/gateway-controller',
                conditions: [condition],
              },
            ],
          },
        },
        'application/merge-patch+json',
      );
    };
    await verdict('False', 'NotAllowedByListeners');
    const stalled = await eventually(async () => {
      const cr = await client.get<CrObject>(crPath(namespace, 'shop'));
      return conditionOf(cr, 'Stalled')?.status === 'True' ? cr : undefined;
    }, 'Stalled=True');
    expect(conditionOf(stalled, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'RouteNotAccepted',
    });
    expect(conditionOf(stalled, 'Stalled')?.message).toContain('NotAllowedByListeners');
    await verdict('True', 'Accepted');
    const ready = await waitReady(client, namespace, 'shop');
    expect(conditionOf(ready, 'Ready')?.message).toContain('accepted by 1 of 1 parent(s)');
  });

  it('shows Ready, Replicas and Mode in kubectl get (the Table the API server builds)', async () => {
    const cp = controlPlane();
    const res = await simpleRequest(`${cp.server}${crPath(namespace, 'shop')}`, {
      caPem: cp.caPem,
      token: cp.adminToken,
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    const table = JSON.parse(res.body) as {
      columnDefinitions: Array<{ name: string }>;
      rows: Array<{ cells: unknown[] }>;
    };
    const row = Object.fromEntries(
      table.columnDefinitions.map((c, i) => [c.name, table.rows[0]?.cells[i]]),
    );
    expect(row).toMatchObject({ Name: 'shop', Ready: 'True', Replicas: '1/1', Mode: 'httpRoute' });
  });

  it('switches to ingress: an owned Ingress, the HTTPRoute pruned', async () => {
    await patchSpec(client, namespace, 'shop', {
      routing: { ...INGRESS_ROUTING, httpRoute: null, frontend: { name: 'frontend', port: 80 } },
    });
    const ingress = await eventually(
      () => client.get<V1Ingress>(ingressPath('shop')),
      'the Ingress',
    );
    expect(ingress.spec?.ingressClassName).toBe('nginx');
    await eventually(() => gone(routePath('shop')), 'the HTTPRoute to be pruned');
    const ready = await waitReady(client, namespace, 'shop');
    expect(ready.status?.gatewayAddress).toBeUndefined();
  });

  it('switches back to gateway: the gateway returns, the Ingress is pruned', async () => {
    await patchSpec(client, namespace, 'shop', {
      routing: { mode: 'gateway', ingress: null, frontend: null },
    });
    await eventually(() => exists(deploymentPath('shop-gateway')), 'the gateway Deployment');
    await eventually(() => gone(ingressPath('shop')), 'the Ingress to be pruned');
    const ready = await waitReady(client, namespace, 'shop');
    expect(ready.status?.gatewayAddress).toBe(`http://shop-gateway.${namespace}.svc.cluster.local`);
  });
});
