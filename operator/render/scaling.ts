import type { V1PodDisruptionBudget, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { ImageOptimizer } from '../../api/image-optimizer.ts';
import { type Component, childMeta, selectorLabels } from './names.ts';

// The HorizontalPodAutoscaler and PodDisruptionBudget of a Deployment of ours: the optimizer
// and the gateway take the same `autoscaling` and `podDisruptionBudget` shapes.

type Autoscaling = NonNullable<ImageOptimizer['spec']['optimizer']['autoscaling']>;
type DisruptionBudget = NonNullable<ImageOptimizer['spec']['optimizer']['podDisruptionBudget']>;

/** An autoscaling/v2 HPA on CPU utilisation for the Deployment `name`. */
export function autoscaler(
  cr: ImageOptimizer,
  component: Component,
  name: string,
  a: Autoscaling,
): V2HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: childMeta(cr, name, component),
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

/** A PDB over the pods of `component`. */
export function disruptionBudget(
  cr: ImageOptimizer,
  component: Component,
  name: string,
  pdb: DisruptionBudget,
): V1PodDisruptionBudget {
  const spec: V1PodDisruptionBudget['spec'] = {
    selector: { matchLabels: selectorLabels(cr.metadata.name, component) },
  };
  if (pdb.minAvailable !== undefined) spec.minAvailable = pdb.minAvailable;
  if (pdb.maxUnavailable !== undefined) spec.maxUnavailable = pdb.maxUnavailable;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMeta(cr, name, component),
    spec,
  };
}
