import type {
  V1Deployment,
  V1PodDisruptionBudget,
  V1Service,
  V1Volume,
  V1VolumeMount,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { ImageOptimizer } from '../../api/image-optimizer.ts';
import { childMeta, childNames, PORTS, selectorLabels } from './names.ts';
import { servicePodTemplate } from './pod.ts';
import { withPodSettings } from './pod-settings.ts';
import { autoscaler, disruptionBudget } from './scaling.ts';
import { addSecrets, type PodSecrets } from './secret-refs.ts';
import { componentService } from './service.ts';
import type { StoragePlan } from './storage.ts';

/** The optimizer Deployment; `replicas` is left out when an HPA owns it. */
export function optimizerDeployment(
  cr: ImageOptimizer,
  image: string,
  configHash: string,
  storage: StoragePlan,
  secrets: PodSecrets = { uses: [] },
): V1Deployment {
  const names = childNames(cr.metadata.name);
  const labels = selectorLabels(cr.metadata.name, 'optimizer');
  const cacheVolumes: V1Volume[] = [];
  const cacheMounts: V1VolumeMount[] = [];
  if (storage.config.type === 'filesystem') {
    const maxBytes = storage.config.maxBytes;
    // The emptyDir gets a little headroom over the cache bound so eviction, not the kubelet, trims it.
    const sizeLimit =
      maxBytes === undefined ? undefined : `${Math.ceil((Number(maxBytes) * 1.1) / 1024 / 1024)}Mi`;
    cacheVolumes.push({ name: 'cache', emptyDir: sizeLimit === undefined ? {} : { sizeLimit } });
    cacheMounts.push({ name: 'cache', mountPath: storage.config.path ?? '/var/cache/next-image' });
  }
  const spec: V1Deployment['spec'] = {
    selector: { matchLabels: labels },
    template: withPodSettings(
      servicePodTemplate({
        command: 'optimizer',
        image,
        resources: cr.spec.optimizer.resources,
        labels,
        configHash,
        port: PORTS.optimizer,
        ports: [{ name: 'http', containerPort: PORTS.optimizer, protocol: 'TCP' }],
        probePort: 'http',
        configSource: { secret: { secretName: names.optimizerConfig, defaultMode: 0o440 } },
        tmpSizeLimit: '1Gi',
        extraVolumes: cacheVolumes,
        extraMounts: cacheMounts,
      }),
      cr.spec.optimizer.pod,
      { spreadLabels: labels },
    ),
  };
  if (cr.spec.optimizer.autoscaling === undefined) spec.replicas = cr.spec.optimizer.replicas;
  addSecrets(spec.template, secrets);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(cr, names.optimizer, 'optimizer'),
    spec,
  };
}

/** The optimizer Service (the gateway's upstream). */
export function optimizerService(cr: ImageOptimizer): V1Service {
  return componentService(cr, 'optimizer', { name: 'http', port: PORTS.optimizer });
}

/** The HPA for the optimizer, when `spec.optimizer.autoscaling` is set. */
export function optimizerAutoscaler(cr: ImageOptimizer): V2HorizontalPodAutoscaler | undefined {
  const a = cr.spec.optimizer.autoscaling;
  if (a === undefined) return undefined;
  return autoscaler(cr, 'optimizer', childNames(cr.metadata.name).optimizer, a);
}

/** The optimizer PDB, when `spec.optimizer.podDisruptionBudget` is set. */
export function optimizerDisruptionBudget(cr: ImageOptimizer): V1PodDisruptionBudget | undefined {
  const pdb = cr.spec.optimizer.podDisruptionBudget;
  if (pdb === undefined) return undefined;
  return disruptionBudget(cr, 'optimizer', childNames(cr.metadata.name).optimizer, pdb);
}
