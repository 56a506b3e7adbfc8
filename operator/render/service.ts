import type { V1Service } from '@kubernetes/client-node';
import type { ImageOptimizer } from '../../api/image-optimizer.ts';
import { type Component, childMeta, childNames, selectorLabels } from './names.ts';

/** How a component's Service is exposed: one port, forwarded to the pods' port of the same name. */
export interface ServicePort {
  /** The named container port (also the Service port's name). */
  name: string;
  port: number;
  type?: string;
}

/** The Service in front of one component's pods; named like the component's Deployment. */
export function componentService(
  cr: ImageOptimizer,
  component: Exclude<Component, 'routing'>,
  { name, port, type = 'ClusterIP' }: ServicePort,
): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cr, childNames(cr.metadata.name)[component], component),
    spec: {
      type,
      selector: selectorLabels(cr.metadata.name, component),
      ports: [{ name, port, targetPort: name, protocol: 'TCP' }],
    },
  };
}
