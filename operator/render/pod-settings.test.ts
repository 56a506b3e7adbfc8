import type {
  KubernetesObject,
  V1Deployment,
  V1PodDisruptionBudget,
  V1PodTemplateSpec,
  V1StatefulSet,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { restrictedViolations, writableRootFilesystems } from '../../test/support/pod-security.ts';
import { everyFieldSpec, everyPodSetting } from '../test-support/every-pod-setting.ts';
import {
  type CrSpec,
  testCr as cr,
  RENDER_OPTIONS as options,
  podTemplates,
} from '../test-support/rendered-pods.ts';
import { CONFIG_HASH_ANNOTATION, selectorLabels } from './names.ts';
import { defaultSpread } from './pod-settings.ts';
import { render } from './render.ts';

// spec.<workload>.pod, the default spread, the persistent Valkey and the gateway's HA, as render
// lays them out. The control-plane tier (operator/pod-settings.cp.test.ts) applies the same.

const objects = (spec: CrSpec): KubernetesObject[] => render(cr(spec), options).objects;
const find = <T extends KubernetesObject>(list: KubernetesObject[], key: string): T | undefined =>
  list.find((o) => `${o.kind}/${o.metadata?.name}` === key) as T | undefined;
function template(spec: CrSpec, name: string): V1PodTemplateSpec {
  const t = podTemplates(objects(spec)).get(name);
  if (t?.spec === undefined) throw new Error(`no pod template ${name}`);
  return t;
}
const WITH_VALKEY: CrSpec = { imageOptimizer: { storage: { type: 'valkey' } } };
const WORKLOADS = [
  ['optimizer', 'shop-optimizer'],
  ['gateway', 'shop-gateway'],
  ['valkey', 'shop-valkey'],
] as const;
const withPod = (component: string, pod: object): CrSpec => ({
  ...WITH_VALKEY,
  [component]: { pod },
});

describe('spec.<workload>.pod in the rendered pod template', () => {
  // Each row: the pod setting, and where it must land in the template.
  const FIELDS: Array<[string, object, (t: V1PodTemplateSpec) => unknown, unknown]> = [
    [
      'imagePullSecrets',
      { imagePullSecrets: [{ name: 'regcred' }] },
      (t) => t.spec?.imagePullSecrets,
      [{ name: 'regcred' }],
    ],
    [
      'serviceAccountName',
      { serviceAccountName: 'images' },
      (t) => [t.spec?.serviceAccountName, t.spec?.automountServiceAccountToken],
      ['images', false],
    ],
    [
      'nodeSelector',
      { nodeSelector: { pool: 'web' } },
      (t) => t.spec?.nodeSelector,
      { pool: 'web' },
    ],
    [
      'tolerations',
      { tolerations: [{ key: 'dedicated', operator: 'Exists' }] },
      (t) => t.spec?.tolerations,
      [{ key: 'dedicated', operator: 'Exists' }],
    ],
    [
      'affinity',
      {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 1, preference: { matchExpressions: [{ key: 'a', operator: 'Exists' }] } },
            ],
          },
        },
      },
      (t) =>
        t.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length,
      1,
    ],
    ['priorityClassName', { priorityClassName: 'high' }, (t) => t.spec?.priorityClassName, 'high'],
    [
      'terminationGracePeriodSeconds',
      { terminationGracePeriodSeconds: 90 },
      (t) => t.spec?.terminationGracePeriodSeconds,
      90,
    ],
    [
      'labels, beside the selector labels',
      { labels: { team: 'web' } },
      (t) => t.metadata?.labels?.team,
      'web',
    ],
    [
      'envFrom',
      { envFrom: [{ configMapRef: { name: 'env' } }] },
      (t) => t.spec?.containers[0]?.envFrom,
      [{ configMapRef: { name: 'env' } }],
    ],
    [
      'securityContext, over the operator’s',
      { securityContext: { runAsUser: 10001, fsGroupChangePolicy: 'OnRootMismatch' } },
      (t) => t.spec?.securityContext,
      expect.objectContaining({
        runAsNonRoot: true,
        runAsUser: 10001,
        fsGroupChangePolicy: 'OnRootMismatch',
        seccompProfile: { type: 'RuntimeDefault' },
      }),
    ],
    [
      'containerSecurityContext, keeping capabilities.drop ALL',
      {
        containerSecurityContext: { capabilities: { add: ['NET_BIND_SERVICE'] }, runAsUser: 4242 },
      },
      (t) => t.spec?.containers[0]?.securityContext,
      expect.objectContaining({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsUser: 4242,
        capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
      }),
    ],
  ];

  for (const [component, name] of WORKLOADS) {
    it.each(FIELDS)(`${component}: %s`, (_field, pod, pick, want) => {
      expect(pick(template(withPod(component, pod), name))).toEqual(want);
    });
  }

  it.each(WORKLOADS)('%s: user labels never replace the selector labels', (component, name) => {
    const t = template(withPod(component, { labels: { team: 'web' } }), name);
    expect(t.metadata?.labels).toEqual({ team: 'web', ...selectorLabels('shop', component) });
  });

  it.each(WORKLOADS.slice(0, 2))(
    '%s: annotations sit beside the config hash',
    (component, name) => {
      const t = template(withPod(component, { annotations: { 'mesh/inject': 'true' } }), name);
      expect(t.metadata?.annotations).toMatchObject({ 'mesh/inject': 'true' });
      expect(t.metadata?.annotations?.[CONFIG_HASH_ANNOTATION]).toMatch(/^[0-9a-f]{16}$/);
    },
  );

  it('appends env after the Valkey password the operator sets', () => {
    const t = template(withPod('valkey', { env: [{ name: 'TZ', value: 'UTC' }] }), 'shop-valkey');
    expect(t.spec?.containers[0]?.env?.map((e) => e.name)).toEqual(['VALKEY_PASSWORD', 'TZ']);
  });

  it('leaves a pod without settings as it was (no env, no envFrom, no extra keys)', () => {
    const t = template({}, 'shop-optimizer');
    expect(t.spec?.containers[0]).not.toHaveProperty('env');
    expect(t.spec?.containers[0]).not.toHaveProperty('envFrom');
    expect(t.spec).not.toHaveProperty('affinity');
    expect(t.spec?.terminationGracePeriodSeconds).toBe(30);
  });

  it('keeps every pod with every setting inside the restricted Pod Security Standard', () => {
    const pods = podTemplates(objects(everyFieldSpec()));
    expect([...pods.keys()].sort()).toEqual(['shop-gateway', 'shop-optimizer', 'shop-valkey']);
    for (const [name, pod] of pods) {
      expect(restrictedViolations(pod), name).toEqual([]);
      expect(writableRootFilesystems(pod), name).toEqual([]);
    }
  });
});

describe('the default spread of optimizer and gateway pods', () => {
  const SPREAD: Array<[string, CrSpec, string, unknown]> = [
    [
      'optimizer by default',
      {},
      'shop-optimizer',
      defaultSpread(selectorLabels('shop', 'optimizer')),
    ],
    ['gateway by default', {}, 'shop-gateway', defaultSpread(selectorLabels('shop', 'gateway'))],
    ['never the single Valkey', WITH_VALKEY, 'shop-valkey', undefined],
    [
      'replaced by the user’s own',
      { optimizer: { pod: everyPodSetting('optimizer') } },
      'shop-optimizer',
      everyPodSetting('optimizer').topologySpreadConstraints,
    ],
    [
      'turned off by []',
      { gateway: { pod: { topologySpreadConstraints: [] } } },
      'shop-gateway',
      undefined,
    ],
  ];
  it.each(SPREAD)('%s', (_name, spec, name, want) => {
    expect(template(spec, name).spec?.topologySpreadConstraints).toEqual(want);
  });

  it('is soft, per node and per zone, counting only the current ReplicaSet', () => {
    expect(defaultSpread({ a: 'b' })).toEqual(
      ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'].map((topologyKey) => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: { a: 'b' } },
        matchLabelKeys: ['pod-template-hash'],
      })),
    );
  });
});

describe('spec.valkey.persistence', () => {
  const PERSISTENT: CrSpec = {
    ...WITH_VALKEY,
    valkey: { persistence: { enabled: true, size: '5Gi', storageClassName: 'ssd' } },
  };

  it('turns the Valkey into a StatefulSet with a claim template, no Deployment', () => {
    const list = objects(PERSISTENT);
    expect(find(list, 'Deployment/shop-valkey')).toBeUndefined();
    const sts = find<V1StatefulSet>(list, 'StatefulSet/shop-valkey');
    expect(sts?.spec?.volumeClaimTemplates).toEqual([
      {
        metadata: { name: 'data', labels: selectorLabels('shop', 'valkey') },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '5Gi' } },
          storageClassName: 'ssd',
        },
      },
    ]);
    expect(sts?.spec?.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Delete',
      whenScaled: 'Retain',
    });
    expect(sts?.spec?.replicas).toBe(1);
    // /data comes from the claim, not an emptyDir; Valkey writes an append-only file there.
    expect(sts?.spec?.template.spec?.volumes).toBeUndefined();
    const args = sts?.spec?.template.spec?.containers[0]?.args ?? [];
    expect(args.slice(args.indexOf('--appendonly'), args.indexOf('--appendonly') + 4)).toEqual([
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
    ]);
  });

  it.each([
    ['without persistence', WITH_VALKEY],
    ['with enabled: false', { ...WITH_VALKEY, valkey: { persistence: { enabled: false } } }],
  ])('stays an ephemeral Deployment on an emptyDir %s', (_name, spec) => {
    const list = objects(spec);
    expect(find(list, 'StatefulSet/shop-valkey')).toBeUndefined();
    const d = find<V1Deployment>(list, 'Deployment/shop-valkey');
    expect(d?.spec?.template.spec?.volumes).toEqual([{ name: 'data', emptyDir: {} }]);
    expect(d?.spec?.template.spec?.containers[0]?.args).toContain('no');
  });

  it('defaults to 1Gi ReadWriteOnce on the default StorageClass', () => {
    const sts = find<V1StatefulSet>(
      objects({ ...WITH_VALKEY, valkey: { persistence: { enabled: true } } }),
      'StatefulSet/shop-valkey',
    );
    expect(sts?.spec?.volumeClaimTemplates?.[0]?.spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '1Gi' } },
    });
  });
});

describe('the gateway: replicas, HPA and PDB', () => {
  const REPLICAS: Array<[string, CrSpec, number]> = [
    ['one optimizer: 1', {}, 1],
    ['three optimizers: 2', { optimizer: { replicas: 3 } }, 2],
    [
      'optimizer autoscaling up to 4: 2',
      { ...WITH_VALKEY, optimizer: { autoscaling: { minReplicas: 1, maxReplicas: 4 } } },
      2,
    ],
    [
      'optimizer autoscaling pinned at 1: 1',
      { optimizer: { autoscaling: { minReplicas: 1, maxReplicas: 1 } } },
      1,
    ],
    ['given: wins', { optimizer: { replicas: 3 }, gateway: { replicas: 1 } }, 1],
  ];
  it.each(REPLICAS)('defaults its replicas: %s', (_name, spec, want) => {
    expect(find<V1Deployment>(objects(spec), 'Deployment/shop-gateway')?.spec?.replicas).toBe(want);
  });

  it('hands its replicas to an HPA of the optimizer’s shape when autoscaling is set', () => {
    const list = objects({
      gateway: {
        autoscaling: { minReplicas: 2, maxReplicas: 8, targetCPUUtilizationPercentage: 60 },
      },
    });
    expect(find<V1Deployment>(list, 'Deployment/shop-gateway')?.spec).not.toHaveProperty(
      'replicas',
    );
    const hpa = find<V2HorizontalPodAutoscaler>(list, 'HorizontalPodAutoscaler/shop-gateway');
    expect(hpa?.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop-gateway' },
      minReplicas: 2,
      maxReplicas: 8,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } },
        },
      ],
    });
    expect(hpa?.metadata?.labels?.['app.kubernetes.io/component']).toBe('gateway');
  });

  it.each([
    [{ minAvailable: 1 }, { minAvailable: 1 }],
    [{ maxUnavailable: '50%' }, { maxUnavailable: '50%' }],
  ])('renders a PDB over the gateway pods for %j', (pdb, want) => {
    const found = find<V1PodDisruptionBudget>(
      objects({ gateway: { podDisruptionBudget: pdb } }),
      'PodDisruptionBudget/shop-gateway',
    );
    expect(found?.spec).toEqual({
      selector: { matchLabels: selectorLabels('shop', 'gateway') },
      ...want,
    });
  });

  it('renders no gateway HPA or PDB unless asked', () => {
    const keys = objects({}).map((o) => `${o.kind}/${o.metadata?.name}`);
    expect(keys).not.toContain('HorizontalPodAutoscaler/shop-gateway');
    expect(keys).not.toContain('PodDisruptionBudget/shop-gateway');
  });
});
