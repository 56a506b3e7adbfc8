import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { ImageOptimizer } from '../../api/image-optimizer.ts';
import { childMeta, childNames, PORTS, selectorLabels } from './names.ts';
import { servicePodTemplate } from './pod.ts';

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
  const metadata = childMeta(cr, childNames(cr.metadata.name).gateway, 'gateway');
  if (svc.annotations !== undefined) metadata.annotations = { ...svc.annotations };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec: {
      type: svc.type,
      selector: selectorLabels(cr.metadata.name, 'gateway'),
      ports: [{ name: 'http', port: svc.port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}
