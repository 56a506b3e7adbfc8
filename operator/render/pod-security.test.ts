import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../test/package/install.ts';
import {
  type PodLike,
  restrictedViolations,
  writableMounts,
  writableRootFilesystems,
} from '../../test/support/pod-security.ts';
import {
  testCr as cr,
  examplePods,
  RENDER_OPTIONS as options,
  podTemplates,
  VARIANTS,
} from '../test-support/rendered-pods.ts';
import { IMAGE_UID } from './pod.ts';
import { render } from './render.ts';

// Every pod the operator renders must be admitted in a namespace that enforces the
// restricted Pod Security Standard (issue 11 §3), and write only where it has to. The
// control-plane tier (test/chart/pod-security.cp.test.ts) asks the real admission too.

/** The checker's findings as one readable string each (the test message names the field). */
const findings = (pod: PodLike): string[] => [
  ...restrictedViolations(pod).map((x) => `[${x.check}] ${x.message}`),
  ...writableRootFilesystems(pod),
];

describe('the restricted Pod Security Standard, on every pod the operator renders', () => {
  it('passes every pod of every example in examples/', async () => {
    const pods = await examplePods();
    expect(pods.length).toBeGreaterThanOrEqual(5);
    for (const [where, pod] of pods) expect(findings(pod), where).toEqual([]);
  });

  it.each(VARIANTS)(
    'passes every pod with %s, writing only where it must',
    (_name, spec, extra) => {
      const pods = podTemplates(render(cr(spec), options).objects);
      const expected: Record<string, string[]> = { gateway: ['gateway:/tmp'], ...extra };
      expect([...pods.keys()].sort()).toEqual(
        Object.keys(expected)
          .map((c) => `shop-${c}`)
          .sort(),
      );
      for (const [name, pod] of pods) {
        expect(findings(pod), name).toEqual([]);
        expect(writableMounts(pod), name).toEqual(expected[name.replace('shop-', '')]);
      }
    },
  );

  it('gives every pod an fsGroup, so the config Secret (0440, owner root) is readable', () => {
    const objects = render(cr({ optimizer: { replicas: 3 } }), options).objects;
    for (const [name, pod] of podTemplates(objects)) {
      const ctx = pod.spec?.securityContext;
      expect(ctx?.fsGroup, name).toBeGreaterThan(0);
      expect(ctx?.runAsUser, name).toBe(ctx?.fsGroup);
    }
    const optimizer = podTemplates(objects).get('shop-optimizer');
    expect(optimizer?.spec?.securityContext).toMatchObject({ runAsUser: IMAGE_UID });
    expect(optimizer?.spec?.volumes?.find((v) => v.name === 'config')?.secret?.defaultMode).toBe(
      0o440,
    );
    expect(podTemplates(objects).get('shop-valkey')?.spec?.securityContext?.fsGroup).toBe(999);
  });

  it('runs our pods as the uid the Dockerfile declares', async () => {
    const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(new RegExp(`^USER ${IMAGE_UID}:${IMAGE_UID}$`, 'm'));
  });
});

type Spec = NonNullable<V1PodTemplateSpec['spec']>;
type Breaker = (pod: { metadata: NonNullable<V1PodTemplateSpec['metadata']>; spec: Spec }) => void;
const first = (spec: Spec): NonNullable<Spec['containers'][number]['securityContext']> => {
  const c = spec.containers[0];
  if (c === undefined) throw new Error('no container');
  c.securityContext = { ...c.securityContext };
  return c.securityContext;
};

// Each row breaks one rule of a pod that passes; the checker must name that rule's field.
const BREAKERS: Array<[string, Breaker, string, string]> = [
  [
    'hostNetwork',
    (p) => Object.assign(p.spec, { hostNetwork: true }),
    'hostNamespaces',
    'spec.hostNetwork',
  ],
  ['hostPID', (p) => Object.assign(p.spec, { hostPID: true }), 'hostNamespaces', 'spec.hostPID'],
  ['hostIPC', (p) => Object.assign(p.spec, { hostIPC: true }), 'hostNamespaces', 'spec.hostIPC'],
  [
    'a Windows hostProcess container',
    (p) => Object.assign(first(p.spec), { windowsOptions: { hostProcess: true } }),
    'hostProcess',
    'spec.containers[0].securityContext.windowsOptions.hostProcess',
  ],
  [
    'a privileged container',
    (p) => Object.assign(first(p.spec), { privileged: true }),
    'privileged',
    'spec.containers[0].securityContext.privileged',
  ],
  [
    'capabilities not dropped',
    (p) => Object.assign(first(p.spec), { capabilities: { drop: ['NET_RAW'] } }),
    'capabilities',
    'spec.containers[0].securityContext.capabilities.drop',
  ],
  [
    'a capability added beyond NET_BIND_SERVICE',
    (p) => Object.assign(first(p.spec), { capabilities: { drop: ['ALL'], add: ['CHOWN'] } }),
    'capabilities',
    'spec.containers[0].securityContext.capabilities.add',
  ],
  [
    'a hostPath volume',
    (p) => p.spec.volumes?.push({ name: 'host', hostPath: { path: '/etc' } }),
    'volumes',
    'spec.volumes[2].hostPath',
  ],
  [
    'an nfs volume',
    (p) => p.spec.volumes?.push({ name: 'share', nfs: { server: 'nfs.test', path: '/' } }),
    'volumes',
    'spec.volumes[2].nfs',
  ],
  [
    'a hostPort',
    (p) => Object.assign(p.spec.containers[0]?.ports?.[0] ?? {}, { hostPort: 8080 }),
    'hostPorts',
    'spec.containers[0].ports[0].hostPort',
  ],
  [
    'AppArmor unconfined',
    (p) => Object.assign(first(p.spec), { appArmorProfile: { type: 'Unconfined' } }),
    'appArmor',
    'spec.containers[0].securityContext.appArmorProfile.type',
  ],
  [
    'an AppArmor annotation set to unconfined',
    (p) => {
      p.metadata.annotations = {
        ...p.metadata.annotations,
        'container.apparmor.security.beta.kubernetes.io/optimizer': 'unconfined',
      };
    },
    'appArmor',
    'metadata.annotations["container.apparmor.security.beta.kubernetes.io/optimizer"]',
  ],
  [
    'an SELinux type of the host',
    (p) => Object.assign(p.spec.securityContext ?? {}, { seLinuxOptions: { type: 'spc_t' } }),
    'seLinux',
    'spec.securityContext.seLinuxOptions',
  ],
  [
    'an SELinux user',
    (p) => Object.assign(first(p.spec), { seLinuxOptions: { user: 'system_u' } }),
    'seLinux',
    'spec.containers[0].securityContext.seLinuxOptions',
  ],
  [
    'an unmasked /proc',
    (p) => Object.assign(first(p.spec), { procMount: 'Unmasked' }),
    'procMount',
    'spec.containers[0].securityContext.procMount',
  ],
  [
    'seccomp Unconfined on the pod',
    (p) => Object.assign(p.spec.securityContext ?? {}, { seccompProfile: { type: 'Unconfined' } }),
    'seccomp',
    'spec.securityContext.seccompProfile.type',
  ],
  [
    'no seccomp profile anywhere',
    (p) => {
      delete p.spec.securityContext?.seccompProfile;
      delete first(p.spec).seccompProfile;
    },
    'seccomp',
    'spec.containers[0].securityContext.seccompProfile.type',
  ],
  [
    'an unsafe sysctl',
    (p) =>
      Object.assign(p.spec.securityContext ?? {}, {
        sysctls: [{ name: 'kernel.msgmax', value: '65536' }],
      }),
    'sysctls',
    'spec.securityContext.sysctls[0].name',
  ],
  [
    'a probe with a host',
    (p) => Object.assign(p.spec.containers[0]?.livenessProbe?.httpGet ?? {}, { host: '10.0.0.1' }),
    'probeHosts',
    'spec.containers[0].livenessProbe.httpGet.host',
  ],
  [
    'privilege escalation left unset',
    (p) => {
      delete first(p.spec).allowPrivilegeEscalation;
    },
    'allowPrivilegeEscalation',
    'spec.containers[0].securityContext.allowPrivilegeEscalation',
  ],
  [
    'runAsNonRoot false on the container',
    (p) => Object.assign(first(p.spec), { runAsNonRoot: false }),
    'runAsNonRoot',
    'spec.containers[0].securityContext.runAsNonRoot',
  ],
  [
    'runAsNonRoot set nowhere',
    (p) => {
      delete p.spec.securityContext?.runAsNonRoot;
      delete first(p.spec).runAsNonRoot;
    },
    'runAsNonRoot',
    'spec.containers[0].securityContext.runAsNonRoot',
  ],
  [
    'runAsUser 0',
    (p) => Object.assign(p.spec.securityContext ?? {}, { runAsUser: 0 }),
    'runAsUser',
    'spec.securityContext.runAsUser',
  ],
  [
    'an init container that escalates',
    (p) => {
      p.spec.initContainers = [
        {
          name: 'setup',
          image: 'x',
          securityContext: { ...first(p.spec), allowPrivilegeEscalation: true },
        },
      ];
    },
    'allowPrivilegeEscalation',
    'spec.initContainers[0].securityContext.allowPrivilegeEscalation',
  ],
];

describe('the restricted checker', () => {
  const good = (): { metadata: NonNullable<V1PodTemplateSpec['metadata']>; spec: Spec } => {
    const pod = structuredClone(
      podTemplates(render(cr({}), options).objects).get('shop-optimizer'),
    );
    if (pod?.spec === undefined || pod.metadata === undefined) throw new Error('no optimizer pod');
    return { metadata: pod.metadata, spec: pod.spec };
  };

  it('passes the pod every row below starts from', () => {
    expect(findings(good())).toEqual([]);
  });

  it.each(BREAKERS)('rejects %s, naming the field', (_name, breaker, check, field) => {
    const pod = good();
    breaker(pod);
    const found = restrictedViolations(pod);
    expect(found.map((x) => [x.check, x.field])).toEqual([[check, field]]);
    expect(found[0]?.message.startsWith(field)).toBe(true);
  });

  it('exempts a pod in a user namespace from the non-root checks, not from the rest', () => {
    const pod = good();
    Object.assign(pod.spec, { hostUsers: false });
    Object.assign(first(pod.spec), { runAsNonRoot: false, runAsUser: 0, procMount: 'Unmasked' });
    expect(restrictedViolations(pod).map((x) => x.check)).toEqual(['procMount']);
  });

  it('reports a writable root filesystem', () => {
    const pod = good();
    delete first(pod.spec).readOnlyRootFilesystem;
    expect(writableRootFilesystems(pod)).toEqual([
      'spec.containers[0].securityContext.readOnlyRootFilesystem must be true (container "optimizer")',
    ]);
  });
});
