import { z } from 'zod';
import { int, rules } from './cel-rules.ts';

// Pod-level pieces of the ImageOptimizer spec: resources, autoscaling, disruption budget, Service.

/** A Kubernetes resource quantity such as `250m`, `512Mi` or `2`. */
export const QuantitySchema = z
  .string()
  .regex(
    /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/,
    'must be a Kubernetes quantity such as 250m, 512Mi or 2',
  );
const ResourceListSchema = z.strictObject({
  cpu: QuantitySchema.optional(),
  memory: QuantitySchema.optional(),
  'ephemeral-storage': QuantitySchema.optional(),
});

/** Container resources, as in a Pod spec (cpu, memory, ephemeral-storage only). */
export const ResourcesSchema = z
  .strictObject({ requests: ResourceListSchema.optional(), limits: ResourceListSchema.optional() })
  .describe('Compute resources of the container, as in a Pod spec.');
export type Resources = z.infer<typeof ResourcesSchema>;

/** An integer or a percentage such as "50%". */
const IntOrPercentSchema = z.union([
  z.number().int().min(0),
  z.string().regex(/^[0-9]+%$/, 'must be a number or a percentage such as "50%"'),
]);

export const AutoscalingSchema = rules(
  z
    .strictObject({
      minReplicas: int(1, 1000).default(1),
      maxReplicas: int(1, 1000).default(5),
      targetCPUUtilizationPercentage: int(1, 100).default(80),
    })
    .describe('When present, a HorizontalPodAutoscaler owns the optimizer replicas.'),
  [
    {
      rule: 'self.minReplicas <= self.maxReplicas',
      message: 'autoscaling.minReplicas must not exceed autoscaling.maxReplicas',
      check: (a) => a.minReplicas <= a.maxReplicas,
    },
  ],
);

export const PodDisruptionBudgetSchema = rules(
  z
    .strictObject({
      minAvailable: IntOrPercentSchema.optional(),
      maxUnavailable: IntOrPercentSchema.optional(),
    })
    .describe('When present, a PodDisruptionBudget for the optimizer pods (set one of the two).'),
  [
    {
      rule: 'has(self.minAvailable) != has(self.maxUnavailable)',
      message: 'podDisruptionBudget needs exactly one of minAvailable and maxUnavailable',
      check: (p) => (p.minAvailable === undefined) !== (p.maxUnavailable === undefined),
    },
  ],
);

export const DEFAULT_OPTIMIZER_RESOURCES: Resources = {
  requests: { cpu: '250m', memory: '512Mi' },
  limits: { memory: '1Gi' },
};
export const DEFAULT_GATEWAY_RESOURCES: Resources = {
  requests: { cpu: '50m', memory: '64Mi' },
  limits: { memory: '256Mi' },
};
export const DEFAULT_VALKEY_RESOURCES: Resources = {
  requests: { cpu: '50m', memory: '64Mi' },
  limits: { memory: '320Mi' },
};

export const ServiceSpecSchema = z.strictObject({
  type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).default('ClusterIP'),
  port: int(1, 65535).default(80),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type ServiceSpec = z.infer<typeof ServiceSpecSchema>;
