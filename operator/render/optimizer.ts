import type {
  V1Deployment,
  V1PodDisruptionBudget,
  V1Service,
  V1Volume,
  V1VolumeMount,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { ImageOptimizer } from '../../api/image-optimizer.ts';
import {
  CONFIG_DIR,
  CONFIG_HASH_ANNOTATION,
  childMeta,
  childNames,
  PORTS,
  selectorLabels,
} from './names.ts';
import { baseContainer, httpProbe, podSecurity } from './pod.ts';
import type { StoragePlan } from './storage.ts';

/** The optimizer Deployment; `replicas` is left out when an HPA owns it. */
export function optimizerDeployment(
  cr: ImageOptimizer,
  image: string,
  configHash: string,
  storage: StoragePlan,
): V1Deployment {
  const names = childNames(cr.metadata.name);
  const labels = selectorLabels(cr.metadata.name, 'optimizer');
  const volumes: V1Volume[] = [
    { name: 'config', secret: { secretName: names.optimizerConfig, defaultMode: 0o440 } },
    { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
  ];
  const mounts: V1VolumeMount[] = [
    { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  if (storage.config.type === 'filesystem') {
    const maxBytes = storage.config.maxBytes;
    // The emptyDir gets a little headroom over the cache bound so eviction, not the kubelet, trims it.
    const sizeLimit =
      maxBytes === undefined ? undefined : `${Math.ceil((Number(maxBytes) * 1.1) / 1024 / 1024)}Mi`;
    volumes.push({ name: 'cache', emptyDir: sizeLimit === undefined ? {} : { sizeLimit } });
    mounts.push({ name: 'cache', mountPath: storage.config.path ?? '/var/cache/next-image' });
  }
  const spec: V1Deployment['spec'] = {
    selector: { matchLabels: labels },
    template: {
      metadata: { labels, annotations: { [CONFIG_HASH_ANNOTATION]: configHash } },
      spec: {
        automountServiceAccountToken: false,
        securityContext: podSecurity(),
        terminationGracePeriodSeconds: 30,
        containers: [
          {
            ...baseContainer('optimizer', image, cr.spec.optimizer.resources),
            args: [
              'optimizer',
              '--config',
              `${CONFIG_DIR}/optimizer.json`,
              '--host',
              '0.0.0.0',
              '--port',
              String(PORTS.optimizer),
            ],
            ports: [{ name: 'http', containerPort: PORTS.optimizer, protocol: 'TCP' }],
            readinessProbe: httpProbe('/readyz', 'http', 5, 3),
            livenessProbe: httpProbe('/healthz', 'http', 10, 6),
            volumeMounts: mounts,
          },
        ],
        volumes,
      },
    },
  };
  if (cr.spec.optimizer.autoscaling === undefined) spec.replicas = cr.spec.optimizer.replicas;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(cr, names.optimizer, 'optimizer'),
    spec,
  };
}

/** The optimizer Service (the gateway's upstream). */
export function optimizerService(cr: ImageOptimizer): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cr, childNames(cr.metadata.name).optimizer, 'optimizer'),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(cr.metadata.name, 'optimizer'),
      ports: [{ name: 'http', port: PORTS.optimizer, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/** The HPA for the optimizer, when `spec.optimizer.autoscaling` is set. */
export function optimizerAutoscaler(cr: ImageOptimizer): V2HorizontalPodAutoscaler | undefined {
  const a = cr.spec.optimizer.autoscaling;
  if (a === undefined) return undefined;
  const name = childNames(cr.metadata.name).optimizer;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: childMeta(cr, name, 'optimizer'),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercentage },
          },
        },
      ],
    },
  };
}

/** The optimizer PDB, when `spec.optimizer.podDisruptionBudget` is set. */
export function optimizerDisruptionBudget(cr: ImageOptimizer): V1PodDisruptionBudget | undefined {
  const pdb = cr.spec.optimizer.podDisruptionBudget;
  if (pdb === undefined) return undefined;
  const spec: V1PodDisruptionBudget['spec'] = {
    selector: { matchLabels: selectorLabels(cr.metadata.name, 'optimizer') },
  };
  if (pdb.minAvailable !== undefined) spec.minAvailable = pdb.minAvailable;
  if (pdb.maxUnavailable !== undefined) spec.maxUnavailable = pdb.maxUnavailable;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMeta(cr, childNames(cr.metadata.name).optimizer, 'optimizer'),
    spec,
  };
}
