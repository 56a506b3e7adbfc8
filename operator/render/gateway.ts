import type {
  V1Deployment,
  V1PodDisruptionBudget,
  V1Service,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { ImageOptimizer } from '../../api/image-optimizer.ts';
import { childMeta, childNames, PORTS, selectorLabels } from './names.ts';
import { servicePodTemplate } from './pod.ts';
import { withPodSettings } from './pod-settings.ts';
import { autoscaler, disruptionBudget } from './scaling.ts';
import { componentService } from './service.ts';

/** The gateway Deployment: the entrypoint; its health endpoints live on the admin port. */
export function gatewayDeployment(
  cr: ImageOptimizer,
  image: string,
  configHash: string,
): V1Deployment {
  const names = childNames(cr.metadata.name);
  const labels = selectorLabels(cr.metadata.name, 'gateway');
  const spec: V1Deployment['spec'] = {
    selector: { matchLabels: labels },
    template: withPodSettings(
      servicePodTemplate({
        command: 'gateway',
        image,
        resources: cr.spec.gateway.resources,
        labels,
        configHash,
        port: PORTS.gateway,
        ports: [
          { name: 'http', containerPort: PORTS.gateway, protocol: 'TCP' },
          { name: 'admin', containerPort: PORTS.gatewayAdmin, protocol: 'TCP' },
        ],
        probePort: 'admin',
        configSource: { configMap: { name: names.gatewayConfig } },
        tmpSizeLimit: '64Mi',
      }),
      cr.spec.gateway.pod,
      { spreadLabels: labels },
    ),
  };
  if (cr.spec.gateway.autoscaling === undefined) spec.replicas = gatewayReplicas(cr);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(cr, names.gateway, 'gateway'),
    spec,
  };
}

/**
 * Gateway pods when `replicas` is not given: 2 once the optimizer may run more than one pod
 * (the gateway is in front of every page, so it should not be the single point of failure of
 * an otherwise redundant setup), else 1.
 */
export function gatewayReplicas(cr: ImageOptimizer): number {
  const given = cr.spec.gateway.replicas;
  if (given !== undefined) return given;
  const o = cr.spec.optimizer;
  const many = o.autoscaling === undefined ? o.replicas > 1 : o.autoscaling.maxReplicas > 1;
  return many ? 2 : 1;
}

/** The HPA for the gateway, when `spec.gateway.autoscaling` is set. */
export function gatewayAutoscaler(cr: ImageOptimizer): V2HorizontalPodAutoscaler | undefined {
  const a = cr.spec.gateway.autoscaling;
  if (a === undefined) return undefined;
  return autoscaler(cr, 'gateway', childNames(cr.metadata.name).gateway, a);
}

/** The gateway PDB, when `spec.gateway.podDisruptionBudget` is set. */
export function gatewayDisruptionBudget(cr: ImageOptimizer): V1PodDisruptionBudget | undefined {
  const pdb = cr.spec.gateway.podDisruptionBudget;
  if (pdb === undefined) return undefined;
  return disruptionBudget(cr, 'gateway', childNames(cr.metadata.name).gateway, pdb);
}

/** The gateway Service: type and port from `spec.gateway.service`. */
export function gatewayService(cr: ImageOptimizer): V1Service {
  const svc = cr.spec.gateway.service;
  const service = componentService(cr, 'gateway', { name: 'http', port: svc.port, type: svc.type });
  if (svc.annotations !== undefined && service.metadata !== undefined)
    service.metadata.annotations = { ...svc.annotations };
  return service;
}
