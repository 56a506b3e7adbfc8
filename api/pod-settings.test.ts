import { describe, expect, it } from 'vitest';
import { formatIssues } from '../lib/config-file.ts';
import { ImageOptimizerSchema, ImageOptimizerSpecSchema } from './image-optimizer.ts';
import { PodSettingsSchema } from './pod-settings.ts';

// What spec.<workload>.pod refuses, and the message that says which field and which rule.

const problems = (pod: unknown): string[] => {
  const result = PodSettingsSchema.safeParse(pod);
  return result.success ? [] : formatIssues(result.error.issues);
};

const REJECTED: Array<[string, unknown, string]> = [
  [
    'runAsNonRoot false on the pod',
    { securityContext: { runAsNonRoot: false } },
    '$.securityContext.runAsNonRoot: runAsNonRoot must be true: the restricted Pod Security Standard forbids running as root',
  ],
  [
    'runAsNonRoot false on the container',
    { containerSecurityContext: { runAsNonRoot: false } },
    '$.containerSecurityContext.runAsNonRoot: runAsNonRoot must be true: the restricted Pod Security Standard forbids running as root',
  ],
  [
    'runAsUser 0',
    { securityContext: { runAsUser: 0 } },
    '$.securityContext.runAsUser: runAsUser must not be 0: the restricted Pod Security Standard forbids running as root',
  ],
  [
    'a privileged container',
    { containerSecurityContext: { privileged: true } },
    '$.containerSecurityContext.privileged: privileged must be false (the restricted Pod Security Standard)',
  ],
  [
    'privilege escalation',
    { containerSecurityContext: { allowPrivilegeEscalation: true } },
    '$.containerSecurityContext.allowPrivilegeEscalation: allowPrivilegeEscalation must be false (the restricted Pod Security Standard)',
  ],
  [
    'an added capability other than NET_BIND_SERVICE',
    { containerSecurityContext: { capabilities: { add: ['SYS_ADMIN'] } } },
    '$.containerSecurityContext.capabilities.add[0]: capabilities.add may hold only NET_BIND_SERVICE (the restricted Pod Security Standard)',
  ],
  [
    'a capabilities drop list (ALL is always dropped)',
    { containerSecurityContext: { capabilities: { drop: ['NET_RAW'] } } },
    '$.containerSecurityContext.capabilities.drop: unknown key (check the spelling)',
  ],
  [
    'seccomp Unconfined',
    { securityContext: { seccompProfile: { type: 'Unconfined' } } },
    '$.securityContext.seccompProfile.type: seccompProfile.type must be RuntimeDefault or Localhost: the restricted Pod Security Standard forbids Unconfined',
  ],
  [
    'AppArmor Unconfined',
    { containerSecurityContext: { appArmorProfile: { type: 'Unconfined' } } },
    '$.containerSecurityContext.appArmorProfile.type: appArmorProfile.type must be RuntimeDefault or Localhost: the restricted Pod Security Standard forbids Unconfined',
  ],
  [
    'an AppArmor annotation set to unconfined',
    { annotations: { 'container.apparmor.security.beta.kubernetes.io/optimizer': 'unconfined' } },
    '$.annotations: pod.annotations must not make AppArmor unconfined: the restricted Pod Security Standard forbids it',
  ],
  [
    'an SELinux type of the host',
    { securityContext: { seLinuxOptions: { type: 'spc_t' } } },
    '$.securityContext.seLinuxOptions.type: seLinuxOptions.type must be one of container_t, container_init_t, container_kvm_t, container_engine_t (the restricted Pod Security Standard)',
  ],
  [
    'an SELinux user',
    { securityContext: { seLinuxOptions: { user: 'system_u' } } },
    '$.securityContext.seLinuxOptions.user: unknown key (check the spelling)',
  ],
  [
    'an unmasked /proc',
    { containerSecurityContext: { procMount: 'Unmasked' } },
    '$.containerSecurityContext.procMount: procMount must be Default (the restricted Pod Security Standard)',
  ],
  [
    'an unsafe sysctl',
    { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }] } },
    '$.securityContext.sysctls[0].name: sysctls[].name must be a safe sysctl',
  ],
  [
    'hostPath and other pod fields the operator owns',
    { volumes: [{ name: 'host', hostPath: { path: '/' } }] },
    '$.volumes: unknown key (check the spelling)',
  ],
  ['hostNetwork', { hostNetwork: true }, '$.hostNetwork: unknown key (check the spelling)'],
  [
    'a selector label',
    { labels: { 'app.kubernetes.io/component': 'mine' } },
    "$.labels: pod.labels must not set the selector labels app.kubernetes.io/name, app.kubernetes.io/instance, app.kubernetes.io/component: the operator's Deployments and Services select on them",
  ],
  [
    'an operator annotation',
    { annotations: { 'nextimage.dev/config-hash': 'x' } },
    "$.annotations: pod.annotations keys under nextimage.dev/ are the operator's (the config hash that rolls the pods)",
  ],
  [
    'an env variable the operator sets for the config',
    { env: [{ name: 'NEXT_IMAGE_STORAGE_URL', value: 'redis://x' }] },
    '$.env: pod.env must not set NEXT_IMAGE_* or VALKEY_PASSWORD: the operator sets those for the config',
  ],
  [
    "the Valkey's password variable",
    { env: [{ name: 'VALKEY_PASSWORD', value: 'x' }] },
    '$.env: pod.env must not set NEXT_IMAGE_* or VALKEY_PASSWORD',
  ],
  [
    'a label value Kubernetes refuses',
    { labels: { team: 'a b' } },
    '$.labels.team: a label value is at most 63 letters',
  ],
  [
    'a toleration with a field Kubernetes does not have',
    { tolerations: [{ key: 'a', operatr: 'Exists' }] },
    '$.tolerations[0].operatr: unknown key (check the spelling)',
  ],
  [
    'a topology spread constraint without topologyKey',
    { topologySpreadConstraints: [{ maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway' }] },
    '$.topologySpreadConstraints[0].topologyKey:',
  ],
  ['an env entry without a name', { env: [{ value: 'x' }] }, '$.env[0].name:'],
  [
    'a divisor that is not a quantity',
    {
      env: [
        {
          name: 'M',
          valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: 'lots' } },
        },
      ],
    },
    '$.env[0].valueFrom.resourceFieldRef.divisor: must be a Kubernetes quantity such as 1, 250m or 1Mi',
  ],
  [
    'terminationGracePeriodSeconds over an hour',
    { terminationGracePeriodSeconds: 7200 },
    '$.terminationGracePeriodSeconds:',
  ],
];

describe('spec.<workload>.pod', () => {
  it.each(REJECTED)('rejects %s, naming the field and the rule', (_name, pod, message) => {
    const found = problems(pod);
    expect(found.length, JSON.stringify(found)).toBeGreaterThan(0);
    expect(
      found.some((p) => p.startsWith(message)),
      JSON.stringify(found),
    ).toBe(true);
  });

  it('accepts what the restricted standard allows, including NET_BIND_SERVICE and Localhost profiles', () => {
    expect(
      problems({
        labels: { team: 'web', 'example.com/cost': 'a1' },
        annotations: {
          'container.apparmor.security.beta.kubernetes.io/optimizer': 'runtime/default',
        },
        env: [
          { name: 'NEXT_PUBLIC_X', value: '1' },
          { name: 'TZ', value: 'UTC' },
        ],
        securityContext: {
          runAsUser: 1000,
          seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/next.json' },
        },
        containerSecurityContext: { capabilities: { add: ['NET_BIND_SERVICE'] } },
      }),
    ).toEqual([]);
  });

  it('sits under optimizer, gateway and valkey', () => {
    const spec = ImageOptimizerSpecSchema.parse({
      imageOptimizer: { fallback: 'frontend' },
      optimizer: { pod: { priorityClassName: 'a' } },
      gateway: { pod: { priorityClassName: 'b' } },
      valkey: { pod: { priorityClassName: 'c' } },
    });
    expect([spec.optimizer.pod, spec.gateway.pod, spec.valkey.pod]).toEqual([
      { priorityClassName: 'a' },
      { priorityClassName: 'b' },
      { priorityClassName: 'c' },
    ]);
  });
});

describe('spec.gateway autoscaling and podDisruptionBudget, spec.valkey.persistence', () => {
  const spec = (extra: object) =>
    ImageOptimizerSpecSchema.safeParse({ imageOptimizer: { fallback: 'frontend' }, ...extra });

  it.each([
    [
      { gateway: { autoscaling: { minReplicas: 5, maxReplicas: 2 } } },
      'autoscaling.minReplicas must not exceed autoscaling.maxReplicas',
    ],
    [
      { gateway: { podDisruptionBudget: {} } },
      'podDisruptionBudget needs exactly one of minAvailable and maxUnavailable',
    ],
    [{ valkey: { persistence: { enabled: true, size: 'big' } } }, 'must be a Kubernetes quantity'],
    [
      { valkey: { persistence: { enabled: true, accessModes: ['ReadOnlyMany'] } } },
      'accessModes[0]',
    ],
  ])('rejects %j', (extra, message) => {
    const result = spec(extra);
    expect(result.success).toBe(false);
    expect(formatIssues(result.error?.issues ?? []).join('\n')).toContain(message);
  });

  it('fills the persistence defaults: off, 1Gi, ReadWriteOnce', () => {
    expect(spec({ valkey: { persistence: {} } }).data?.valkey.persistence).toEqual({
      enabled: false,
      size: '1Gi',
      accessModes: ['ReadWriteOnce'],
    });
  });

  it('limits the name to 45 characters with persistence (the StatefulSet labels its pods with it)', () => {
    const cr = (name: string, enabled: boolean) =>
      ImageOptimizerSchema.safeParse({
        apiVersion: 'nextimage.dev/v1alpha1',
        kind: 'ImageOptimizer',
        metadata: { name },
        spec: { imageOptimizer: { fallback: 'frontend' }, valkey: { persistence: { enabled } } },
      });
    expect(cr('a'.repeat(45), true).success).toBe(true);
    expect(cr('a'.repeat(53), false).success).toBe(true);
    expect(formatIssues(cr('a'.repeat(46), true).error?.issues ?? [])).toEqual([
      '$.metadata.name: metadata.name must be at most 45 characters with valkey.persistence.enabled (the StatefulSet <name>-valkey labels its pods with its name and a hash, 63 characters at most)',
    ]);
  });

  it('leaves gateway.replicas unset, for render to choose', () => {
    expect(spec({}).data?.gateway.replicas).toBeUndefined();
  });
});
