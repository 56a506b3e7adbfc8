import type { KubernetesObject, V1Ingress, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { type ImageOptimizer, ImageOptimizerSchema } from '../../api/image-optimizer.ts';
import { type RenderOptions, render } from './render.ts';
import type { HttpRoute } from './routing.ts';

const options: RenderOptions = {
  image: 'example.test/next-image:1.0.0',
  valkeyImage: 'example.test/valkey:8',
  clusterDomain: 'cluster.local',
  valkeyPassword: 'p4ssw0rd-kept',
};

function cr(routing: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) {
  return ImageOptimizerSchema.parse({
    apiVersion: 'nextimage.dev/v1alpha1',
    kind: 'ImageOptimizer',
    metadata: { name: 'shop', namespace: 'web', uid: 'uid-1', generation: 1 },
    spec: {
      imageOptimizer: { fallback: 'frontend' },
      ...(routing === undefined ? {} : { routing }),
      ...extra,
    },
  }) as ImageOptimizer;
}
const kinds = (objects: KubernetesObject[]): string[] =>
  objects.map((o) => `${o.kind}/${o.metadata?.name}`);
const one = <T extends KubernetesObject>(objects: KubernetesObject[], kind: string): T => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as T;
};
const optimizerJson = (objects: KubernetesObject[]): unknown =>
  JSON.parse(
    Buffer.from(one<V1Secret>(objects, 'Secret').data?.['optimizer.json'] ?? '', 'base64').toString(
      'utf8',
    ),
  );

const HTTP_ROUTE = {
  mode: 'httpRoute',
  httpRoute: {
    parentRefs: [{ name: 'public', namespace: 'infra', sectionName: 'https' }],
    hostnames: ['shop.example.com'],
  },
  frontend: { name: 'frontend', port: 3000 },
};
const INGRESS = {
  mode: 'ingress',
  ingress: {
    ingressClassName: 'nginx',
    hosts: ['shop.example.com', 'www.shop.example.com'],
    tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
    annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' },
  },
  frontend: { name: 'frontend' },
};

describe('routing modes', () => {
  it('defaults to mode gateway: the gateway and no HTTPRoute or Ingress', () => {
    const { objects } = render(cr(undefined), options);
    expect(kinds(objects)).toEqual([
      'Secret/shop-optimizer-config',
      'Service/shop-optimizer',
      'Deployment/shop-optimizer',
      'ConfigMap/shop-gateway-config',
      'Service/shop-gateway',
      'Deployment/shop-gateway',
    ]);
  });

  it.each([
    ['httpRoute', HTTP_ROUTE, 'HTTPRoute/shop'],
    ['ingress', INGRESS, 'Ingress/shop'],
  ])('mode %s: no gateway of ours, one %s, the same optimizer config', (_m, routing, route) => {
    const { objects } = render(cr(routing), options);
    expect(kinds(objects)).toEqual([
      'Secret/shop-optimizer-config',
      'Service/shop-optimizer',
      'Deployment/shop-optimizer',
      route,
    ]);
    // The optimizer reaches frontend.plt.local through cluster DNS, never through our gateway.
    expect(optimizerJson(objects)).toEqual(optimizerJson(render(cr(undefined), options).objects));
    expect(optimizerJson(objects)).toMatchObject({
      next: { imageOptimizer: { fallback: 'frontend' } },
      discovery: { namespace: 'web', clusterDomain: 'cluster.local' },
    });
    const owned = objects.at(-1)?.metadata;
    expect(owned?.ownerReferences?.[0]?.uid).toBe('uid-1');
    expect(owned?.labels?.['app.kubernetes.io/managed-by']).toBe('next-image-operator');
  });

  it('httpRoute: GET + Exact /_next/image → the optimizer Service, the rest → the frontend', () => {
    const route = one<HttpRoute>(render(cr(HTTP_ROUTE), options).objects, 'HTTPRoute');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.spec).toEqual({
      parentRefs: [{ name: 'public', namespace: 'infra', sectionName: 'https' }],
      hostnames: ['shop.example.com'],
      rules: [
        {
          matches: [{ path: { type: 'Exact', value: '/_next/image' }, method: 'GET' }],
          backendRefs: [{ name: 'shop-optimizer', port: 3000 }],
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [{ name: 'frontend', port: 3000 }],
        },
      ],
    });
  });

  it('httpRoute without frontend: only the image rule (the user’s own route sends the rest)', () => {
    const routing = { mode: 'httpRoute', httpRoute: { parentRefs: [{ name: 'public' }] } };
    const route = one<HttpRoute>(render(cr(routing), options).objects, 'HTTPRoute');
    expect(route.spec.rules).toHaveLength(1);
    expect(route.spec.parentRefs).toEqual([{ name: 'public' }]);
    expect(route.spec.hostnames).toBeUndefined();
  });

  it('ingress: Exact /_next/image → optimizer and Prefix / → frontend under every host, TLS and annotations kept', () => {
    const ing = one<V1Ingress>(render(cr(INGRESS), options).objects, 'Ingress');
    expect(ing.apiVersion).toBe('networking.k8s.io/v1');
    expect(ing.metadata?.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt' });
    const paths = [
      {
        path: '/_next/image',
        pathType: 'Exact',
        backend: { service: { name: 'shop-optimizer', port: { number: 3000 } } },
      },
      {
        path: '/',
        pathType: 'Prefix',
        backend: { service: { name: 'frontend', port: { number: 80 } } },
      },
    ];
    expect(ing.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
      rules: [
        { host: 'shop.example.com', http: { paths } },
        { host: 'www.shop.example.com', http: { paths } },
      ],
    });
  });

  it('ingress with no settings: one host-less rule with the image path only', () => {
    const ing = one<V1Ingress>(render(cr({ mode: 'ingress' }), options).objects, 'Ingress');
    expect(ing.spec?.ingressClassName).toBeUndefined();
    expect(ing.spec?.rules).toEqual([
      {
        http: {
          paths: [
            {
              path: '/_next/image',
              pathType: 'Exact',
              backend: { service: { name: 'shop-optimizer', port: { number: 3000 } } },
            },
          ],
        },
      },
    ]);
  });
});

describe('routing validation', () => {
  const fails = (routing: unknown, extra: Record<string, unknown> = {}): string[] => {
    const result = ImageOptimizerSchema.safeParse({
      apiVersion: 'nextimage.dev/v1alpha1',
      kind: 'ImageOptimizer',
      metadata: { name: 'shop' },
      spec: { imageOptimizer: { fallback: 'frontend' }, routing, ...extra },
    });
    return result.success ? [] : result.error.issues.map((i) => i.message);
  };

  it.each([
    [{ mode: 'httpRoute' }, 'routing.mode httpRoute needs routing.httpRoute.parentRefs'],
    [{ mode: 'httpRoute', httpRoute: { parentRefs: [] } }, 'Too small'],
    [
      { mode: 'gateway', httpRoute: { parentRefs: [{ name: 'gw' }] } },
      'routing.httpRoute applies only',
    ],
    [
      { mode: 'httpRoute', httpRoute: { parentRefs: [{ name: 'gw' }] }, ingress: {} },
      'routing.ingress applies only',
    ],
    [
      { frontend: { name: 'frontend' } },
      'routing.frontend applies to routing.mode httpRoute and ingress',
    ],
    [
      { mode: 'ingress', ingress: { hosts: ['Shop.Example.com'] } },
      'a hostname is lower-case DNS labels',
    ],
    [{ mode: 'ingress', frontend: { name: 'Front_end' } }, 'must be a DNS label'],
    [{ mode: 'loadBalancer' }, 'Invalid option'],
  ])('rejects %j with a message saying what to change', (routing, message) => {
    expect(fails(routing).join('\n')).toContain(message);
  });

  it('rejects gateway.applications outside mode gateway', () => {
    const apps = { gateway: { applications: [{ id: 'optimizer' }] } };
    expect(fails({ mode: 'ingress' }, apps).join('\n')).toContain(
      'gateway.applications applies only to routing.mode gateway',
    );
    expect(fails({ mode: 'gateway' }, apps)).toEqual([]);
  });

  it('accepts each mode in its minimal form', () => {
    expect(fails({ mode: 'gateway' })).toEqual([]);
    expect(fails({ mode: 'ingress' })).toEqual([]);
    expect(fails({ mode: 'httpRoute', httpRoute: { parentRefs: [{ name: 'gw' }] } })).toEqual([]);
  });
});
