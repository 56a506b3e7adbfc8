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
  cpu: QuantitySchema.optional().describe('CPU, in cores or millicores such as "250m".'),
  memory: QuantitySchema.optional().describe('Memory in bytes, such as "512Mi".'),
  'ephemeral-storage': QuantitySchema.optional().describe(
    'Local scratch space in bytes, such as "1Gi" (the filesystem cache counts here).',
  ),
});

/** Container resources, as in a Pod spec (cpu, memory, ephemeral-storage only). */
export const ResourcesSchema = z
  .strictObject({
    requests: ResourceListSchema.optional().describe(
      'What the scheduler reserves for the container.',
    ),
    limits: ResourceListSchema.optional().describe(
      'The most the container may use; over the memory limit it is killed.',
    ),
  })
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
      minReplicas: int(1, 1000).default(1).describe('Fewest pods (1–1000). Default 1.'),
      maxReplicas: int(1, 1000)
        .default(5)
        .describe('Most pods (1–1000, at least minReplicas). Default 5.'),
      targetCPUUtilizationPercentage: int(1, 100)
        .default(80)
        .describe(
          'Average CPU use, in percent of the CPU request, the autoscaler aims at. Default 80.',
        ),
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
      minAvailable: IntOrPercentSchema.optional().describe(
        'Pods (a number or a percentage such as "50%") that must stay up during voluntary disruptions.',
      ),
      maxUnavailable: IntOrPercentSchema.optional().describe(
        'Pods (a number or a percentage such as "50%") that may be down during voluntary disruptions.',
      ),
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

export const ServiceSpecSchema = z
  .strictObject({
    type: z
      .enum(['ClusterIP', 'NodePort', 'LoadBalancer'])
      .default('ClusterIP')
      .describe('Service type: ClusterIP (default), NodePort or LoadBalancer.'),
    port: int(1, 65535).default(80).describe('Port the Service exposes (1–65535). Default 80.'),
    annotations: z
      .record(z.string(), z.string())
      .optional()
      .describe('Annotations of the Service, e.g. for a cloud load balancer.'),
  })
  .describe('The Service in front of the gateway pods.');
export type ServiceSpec = z.infer<typeof ServiceSpecSchema>;
