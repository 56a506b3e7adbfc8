import type {
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1PodSpec,
  V1Secret,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { GatewayConfigSchema } from '../../api/gateway-config.ts';
import { type ImageOptimizer, ImageOptimizerSchema } from '../../api/image-optimizer.ts';
import { OptimizerConfigSchema } from '../../api/optimizer-config.ts';
import { CONFIG_HASH_ANNOTATION } from './names.ts';
import { type RenderOptions, render } from './render.ts';

const options: RenderOptions = {
  image: 'example.test/next-image:1.0.0',
  valkeyImage: 'example.test/valkey:8',
  clusterDomain: 'cluster.local',
  valkeyPassword: 'p4ssw0rd-kept',
};

function cr(spec: Record<string, unknown>, uid: string | null = 'uid-1'): ImageOptimizer {
  return ImageOptimizerSchema.parse({
    apiVersion: 'nextimage.dev/v1alpha1',
    kind: 'ImageOptimizer',
    metadata: { name: 'shop', namespace: 'web', generation: 1, ...(uid === null ? {} : { uid }) },
    spec: { imageOptimizer: { fallback: 'frontend' }, ...spec },
  });
}

const find = <T extends KubernetesObject>(
  objects: KubernetesObject[],
  kind: string,
  name: string,
): T | undefined =>
  objects.find((o) => o.kind === kind && o.metadata?.name === name) as T | undefined;

function optimizerJson(objects: KubernetesObject[]): unknown {
  const secret = find<V1Secret>(objects, 'Secret', 'shop-optimizer-config');
  return JSON.parse(Buffer.from(secret?.data?.['optimizer.json'] ?? '', 'base64').toString('utf8'));
}
function gatewayJson(objects: KubernetesObject[]): unknown {
  return JSON.parse(
    find<V1ConfigMap>(objects, 'ConfigMap', 'shop-gateway-config')?.data?.['gateway.json'] ?? '',
  );
}
const deployment = (objects: KubernetesObject[], name: string): V1Deployment => {
  const d = find<V1Deployment>(objects, 'Deployment', name);
  if (d === undefined) throw new Error(`no Deployment ${name}`);
  return d;
};
const kindsAndNames = (objects: KubernetesObject[]): string[] =>
  objects.map((o) => `${o.kind}/${o.metadata?.name}`);

const VALKEY = [
  'Secret/shop-valkey',
  'Service/shop-valkey',
  'NetworkPolicy/shop-valkey',
  'Deployment/shop-valkey',
];
const BASE = [
  'Secret/shop-optimizer-config',
  'Service/shop-optimizer',
  'Deployment/shop-optimizer',
  'ConfigMap/shop-gateway-config',
  'Service/shop-gateway',
  'Deployment/shop-gateway',
];

describe('render', () => {
  it.each([
    ['one replica, no storage → memory, no Valkey', {}, BASE, { type: 'memory' }],
    [
      'replicas 3, no storage → a managed Valkey',
      { optimizer: { replicas: 3 } },
      [...VALKEY, ...BASE],
      {
        type: 'valkey',
        url: 'redis://:p4ssw0rd-kept@shop-valkey.web.svc.cluster.local:6379',
        prefix: 'next-image:',
      },
    ],
    [
      'storage valkey without url → a managed Valkey',
      { imageOptimizer: { fallback: 'frontend', storage: { type: 'valkey', prefix: 'x:' } } },
      [...VALKEY, ...BASE],
      {
        type: 'valkey',
        url: 'redis://:p4ssw0rd-kept@shop-valkey.web.svc.cluster.local:6379',
        prefix: 'x:',
      },
    ],
    [
      'storage redis with url → that server, no Valkey',
      {
        optimizer: { replicas: 2 },
        imageOptimizer: {
          fallback: 'frontend',
          storage: { type: 'redis', url: 'redis://cache:6379', db: 2 },
        },
      },
      BASE,
      { type: 'redis', url: 'redis://cache:6379', prefix: 'next-image:', db: 2 },
    ],
    [
      'explicit memory with replicas 2 → memory',
      {
        optimizer: { replicas: 2 },
        imageOptimizer: { fallback: 'frontend', storage: { type: 'memory' } },
      },
      BASE,
      { type: 'memory' },
    ],
    [
      'filesystem → the pod path',
      {
        imageOptimizer: {
          fallback: 'frontend',
          storage: { type: 'filesystem', maxBytes: 1048576 },
        },
      },
      BASE,
      { type: 'filesystem', path: '/var/cache/next-image', maxBytes: 1048576 },
    ],
    [
      'autoscaling without storage → HPA and a managed Valkey',
      { optimizer: { autoscaling: { maxReplicas: 4 } } },
      [
        ...VALKEY,
        'Secret/shop-optimizer-config',
        'Service/shop-optimizer',
        'Deployment/shop-optimizer',
        'HorizontalPodAutoscaler/shop-optimizer',
        ...BASE.slice(3),
      ],
      { type: 'valkey' },
    ],
    [
      'a PodDisruptionBudget when asked',
      { optimizer: { podDisruptionBudget: { minAvailable: 1 } } },
      [...BASE.slice(0, 3), 'PodDisruptionBudget/shop-optimizer', ...BASE.slice(3)],
      { type: 'memory' },
    ],
  ])('%s', (_name, spec, expected, storage) => {
    const { objects } = render(cr(spec), options);
    expect(kindsAndNames(objects)).toEqual(expected);
    const config = OptimizerConfigSchema.parse(optimizerJson(objects));
    expect(config.next.imageOptimizer.storage).toMatchObject(storage);
    expect(config.discovery).toEqual({ namespace: 'web', clusterDomain: 'cluster.local' });
    GatewayConfigSchema.parse(gatewayJson(objects));
  });

  it("gives the gateway the guide's two routes, the optimizer reached through its own Service", () => {
    const gw = GatewayConfigSchema.parse(gatewayJson(render(cr({}), options).objects));
    expect(gw.gateway.applications).toEqual([
      {
        id: 'optimizer',
        origin: 'http://shop-optimizer.web.svc.cluster.local:3000',
        proxy: { prefix: '/', routes: ['/_next/image'], methods: ['GET'] },
      },
      {
        id: 'frontend',
        proxy: {
          prefix: '/',
          routes: ['/*'],
          methods: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
        },
      },
    ]);
    expect(gw.discovery).toEqual({ namespace: 'web', clusterDomain: 'cluster.local' });
  });

  it('sends everything else to a fallback URL when the fallback is one', () => {
    const gw = GatewayConfigSchema.parse(
      gatewayJson(
        render(cr({ imageOptimizer: { fallback: 'https://shop.example' } }), options).objects,
      ),
    );
    expect(gw.gateway.applications[1]).toMatchObject({
      id: 'fallback',
      origin: 'https://shop.example',
    });
  });

  it('keeps user routes and points a bare "optimizer" application at this optimizer', () => {
    const apps = [
      { id: 'optimizer', proxy: { prefix: '/', routes: ['/_next/image'], methods: ['GET'] } },
      { id: 'web', proxy: { prefix: '/' } },
    ];
    const gw = GatewayConfigSchema.parse(
      gatewayJson(render(cr({ gateway: { applications: apps } }), options).objects),
    );
    expect(gw.gateway.applications.map((a) => [a.id, a.origin])).toEqual([
      ['optimizer', 'http://shop-optimizer.web.svc.cluster.local:3000'],
      ['web', undefined],
    ]);
  });

  it('is deterministic', () => {
    expect(render(cr({ optimizer: { replicas: 3 } }), options)).toEqual(
      render(cr({ optimizer: { replicas: 3 } }), options),
    );
  });

  it('rolls only the pods whose config changed', () => {
    const hashes = (spec: Record<string, unknown>): [unknown, unknown] => {
      const { objects } = render(cr(spec), options);
      const h = (d: V1Deployment): unknown =>
        d.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
      return [h(deployment(objects, 'shop-optimizer')), h(deployment(objects, 'shop-gateway'))];
    };
    const [opt, gw] = hashes({});
    const [opt2, gw2] = hashes({ imageOptimizer: { fallback: 'frontend', timeout: 5000 } });
    expect(opt2).not.toBe(opt);
    expect(gw2).toBe(gw);
    const [opt3, gw3] = hashes({ gateway: { applications: [{ id: 'frontend' }] } });
    expect(opt3).toBe(opt);
    expect(gw3).not.toBe(gw);
  });

  it('keeps the Valkey password it is given', () => {
    const { objects } = render(cr({ optimizer: { replicas: 2 } }), options);
    const secret = find<V1Secret>(objects, 'Secret', 'shop-valkey');
    expect(Buffer.from(secret?.data?.password ?? '', 'base64').toString()).toBe('p4ssw0rd-kept');
  });

  it('leaves replicas to the HPA when autoscaling is set', () => {
    const { objects } = render(cr({ optimizer: { replicas: 3, autoscaling: {} } }), options);
    expect(deployment(objects, 'shop-optimizer').spec?.replicas).toBeUndefined();
    expect(
      render(cr({ optimizer: { replicas: 3 } }), options).objects.some(
        (o) => o.kind === 'HorizontalPodAutoscaler',
      ),
    ).toBe(false);
  });

  it('runs every pod under the restricted Pod Security Standard', () => {
    const { objects } = render(cr({ optimizer: { replicas: 2 } }), options);
    const pods = objects
      .filter((o): o is V1Deployment => o.kind === 'Deployment')
      .map((d) => d.spec?.template.spec as V1PodSpec);
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it('probes /healthz and /readyz (the gateway on its admin port)', () => {
    const { objects } = render(cr({}), options);
    const probes = (name: string): unknown[] => {
      const c = deployment(objects, name).spec?.template.spec?.containers[0];
      return [c?.readinessProbe?.httpGet, c?.livenessProbe?.httpGet];
    };
    expect(probes('shop-optimizer')).toEqual([
      { path: '/readyz', port: 'http' },
      { path: '/healthz', port: 'http' },
    ]);
    expect(probes('shop-gateway')).toEqual([
      { path: '/readyz', port: 'admin' },
      { path: '/healthz', port: 'admin' },
    ]);
  });

  it('runs the same image with the optimizer and gateway commands; the CR image wins', () => {
    const args = (objects: KubernetesObject[], name: string): unknown =>
      deployment(objects, name).spec?.template.spec?.containers[0]?.args;
    const { objects } = render(cr({ image: 'mine/next-image:2' }), options);
    expect(args(objects, 'shop-optimizer')).toEqual([
      'optimizer',
      '--config',
      '/etc/next-image/optimizer.json',
      '--host',
      '0.0.0.0',
      '--port',
      '3000',
    ]);
    expect(args(objects, 'shop-gateway')).toEqual([
      'gateway',
      '--config',
      '/etc/next-image/gateway.json',
      '--host',
      '0.0.0.0',
      '--port',
      '3042',
    ]);
    expect(deployment(objects, 'shop-optimizer').spec?.template.spec?.containers[0]?.image).toBe(
      'mine/next-image:2',
    );
  });

  it('lets only the optimizer pods reach Valkey', () => {
    const np = find<KubernetesObject & { spec: unknown }>(
      render(cr({ optimizer: { replicas: 2 } }), options).objects,
      'NetworkPolicy',
      'shop-valkey',
    );
    expect(np?.spec).toMatchObject({
      podSelector: {
        matchLabels: {
          'app.kubernetes.io/component': 'valkey',
          'app.kubernetes.io/instance': 'shop',
        },
      },
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/component': 'optimizer' } } }],
          ports: [{ port: 6379 }],
        },
      ],
    });
  });

  it.each([
    ['a stored CR', 'uid-1', true],
    ['a CR from a file', null, false],
  ])('sets controller ownerReferences for %s: %s', (_name, uid, owned) => {
    for (const o of render(cr({ optimizer: { replicas: 2 } }, uid), options).objects) {
      if (owned)
        expect(o.metadata?.ownerReferences).toEqual([
          {
            apiVersion: 'nextimage.dev/v1alpha1',
            kind: 'ImageOptimizer',
            name: 'shop',
            uid: 'uid-1',
            controller: true,
            blockOwnerDeletion: true,
          },
        ]);
      else expect(o.metadata?.ownerReferences).toBeUndefined();
    }
  });
});

describe('the ImageOptimizer schema (same rules as the CRD CEL)', () => {
  it.each([
    [
      'autoscaling min above max',
      { optimizer: { autoscaling: { minReplicas: 5, maxReplicas: 2 } } },
      'autoscaling.minReplicas must not exceed',
    ],
    [
      'filesystem with two replicas',
      {
        optimizer: { replicas: 2 },
        imageOptimizer: { fallback: 'f', storage: { type: 'filesystem' } },
      },
      'filesystem storage is per pod',
    ],
    [
      'a url on memory storage',
      { imageOptimizer: { fallback: 'f', storage: { type: 'memory', url: 'redis://x' } } },
      'url, prefix and db apply only',
    ],
    [
      'a path on valkey storage',
      { imageOptimizer: { fallback: 'f', storage: { type: 'valkey', path: '/x' } } },
      'path and maxBytes apply only',
    ],
    [
      'both PDB fields',
      { optimizer: { podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 } } },
      'exactly one of minAvailable',
    ],
    [
      'duplicate gateway ids',
      { gateway: { applications: [{ id: 'a' }, { id: 'a' }] } },
      'ids must be unique',
    ],
    [
      'a fallback that is neither',
      { imageOptimizer: { fallback: 'Not A Name' } },
      'fallback must be a Service name',
    ],
  ])('rejects %s', (_name, spec, message) => {
    expect(() => cr(spec)).toThrow(message);
  });
});
