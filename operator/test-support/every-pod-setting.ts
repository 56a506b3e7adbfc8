import type { CrSpec } from './rendered-pods.ts';

// One value for every field of `spec.<workload>.pod`, `spec.valkey.persistence` and the
// gateway's HA settings, shared by the render tests and the control-plane test that applies it.

/** A `pod` block using every field, each with a value a platform team would write. */
export function everyPodSetting(component: string): Record<string, unknown> {
  return {
    labels: { 'cost-center': 'web', 'example.com/team': 'images' },
    annotations: { 'sidecar.istio.io/inject': 'false', 'example.com/owner': component },
    imagePullSecrets: [{ name: 'registry-credentials' }],
    serviceAccountName: `image-${component}`,
    nodeSelector: { 'kubernetes.io/os': 'linux', 'node.example.com/pool': 'web' },
    tolerations: [
      { key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' },
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 30,
      },
    ],
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] },
              ],
            },
          ],
        },
      },
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 50,
            podAffinityTerm: {
              labelSelector: { matchLabels: { 'app.kubernetes.io/component': component } },
              topologyKey: 'kubernetes.io/hostname',
            },
          },
        ],
      },
    },
    topologySpreadConstraints: [
      {
        maxSkew: 2,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: { matchLabels: { 'app.kubernetes.io/component': component } },
        minDomains: 2,
      },
    ],
    priorityClassName: 'web-critical',
    terminationGracePeriodSeconds: 45,
    env: [
      { name: 'TZ', value: 'UTC' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      {
        name: 'MEMORY_LIMIT',
        valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } },
      },
      { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'web-secrets', key: 'api-key' } } },
    ],
    envFrom: [
      { configMapRef: { name: 'web-env' }, prefix: 'WEB_' },
      { secretRef: { name: 'web-env-secret', optional: true } },
    ],
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      fsGroupChangePolicy: 'OnRootMismatch',
      supplementalGroups: [2000],
      seccompProfile: { type: 'RuntimeDefault' },
      appArmorProfile: { type: 'RuntimeDefault' },
      seLinuxOptions: { type: 'container_t', level: 's0:c123,c456' },
      sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '600' }],
    },
    containerSecurityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      capabilities: { add: ['NET_BIND_SERVICE'] },
      seccompProfile: { type: 'RuntimeDefault' },
      appArmorProfile: { type: 'RuntimeDefault' },
      seLinuxOptions: { type: 'container_t' },
      procMount: 'Default',
    },
  };
}

/** A spec with every field added by issue 12 items 1, 3 and 4. */
export function everyFieldSpec(): CrSpec {
  return {
    imageOptimizer: { storage: { type: 'valkey' } },
    optimizer: {
      replicas: 3,
      podDisruptionBudget: { minAvailable: 2 },
      pod: everyPodSetting('optimizer'),
    },
    gateway: {
      autoscaling: { minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 70 },
      podDisruptionBudget: { maxUnavailable: 1 },
      pod: everyPodSetting('gateway'),
    },
    valkey: {
      persistence: {
        enabled: true,
        size: '2Gi',
        storageClassName: 'fast-ssd',
        accessModes: ['ReadWriteOnce'],
      },
      pod: everyPodSetting('valkey'),
    },
  };
}
