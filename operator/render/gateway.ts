import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { ImageOptimizer } from '../../api/image-optimizer.ts';
import { childMeta, childNames, PORTS, selectorLabels } from './names.ts';
import { servicePodTemplate } from './pod.ts';
import { componentService } from './service.ts';

/** The gateway Deployment: the entrypoint; its health endpoints live on the admin port. */
export function gatewayDeployment(
  cr: ImageOptimizer,
  image: string,
  configHash: string,
): V1Deployment {
  const names = childNames(cr.metadata.name);
  const labels = selectorLabels(cr.metadata.name, 'gateway');
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(cr, names.gateway, 'gateway'),
    spec: {
      replicas: cr.spec.gateway.replicas,
      selector: { matchLabels: labels },
      template: servicePodTemplate({
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
    },
  };
}

/** The gateway Service: type and port from `spec.gateway.service`. */
export function gatewayService(cr: ImageOptimizer): V1Service {
  const svc = cr.spec.gateway.service;
  const service = componentService(cr, 'gateway', { name: 'http', port: svc.port, type: svc.type });
  if (svc.annotations !== undefined && service.metadata !== undefined)
    service.metadata.annotations = { ...svc.annotations };
  return service;
}
