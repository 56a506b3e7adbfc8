import { z } from 'zod';

/** A metav1.Condition. */
export const ConditionSchema = z.strictObject({
  type: z
    .string()
    .min(1)
    .max(316)
    .describe('Ready, Progressing, Degraded, Reconciling or Stalled.'),
  status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown.'),
  observedGeneration: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('The spec generation the condition was computed from.'),
  lastTransitionTime: z.string().describe('RFC 3339 time of the last status flip.'),
  reason: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
    .describe('Why, in one CamelCase word, e.g. Available or InvalidSpec.'),
  message: z.string().max(32768).describe('Why, for people: what happened and what to change.'),
});
export type Condition = z.infer<typeof ConditionSchema>;

/** `status` of an ImageOptimizer; written only by the operator. */
export const ImageOptimizerStatusSchema = z.strictObject({
  observedGeneration: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('The spec generation this status describes.'),
  conditions: z
    .array(ConditionSchema)
    .max(16)
    .optional()
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
    .describe(
      'Ready, Progressing, Degraded and the kstatus pair Reconciling and Stalled; each carries the observedGeneration it describes.',
    ),
  replicas: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('Optimizer pods that exist (for the scale subresource).'),
  readyReplicas: z.number().int().min(0).optional().describe('Optimizer pods that are ready.'),
  optimizerReplicas: z
    .string()
    .max(32)
    .optional()
    .describe(
      'Ready/desired optimizer pods, e.g. 2/3 (the Replicas column of kubectl get); desired is what the HPA chose when autoscaling.',
    ),
  selector: z
    .string()
    .optional()
    .describe('Label selector of the optimizer pods (for the scale subresource).'),
  storage: z
    .string()
    .optional()
    .describe('Storage in use, e.g. memory, filesystem, redis, valkey (managed).'),
  gatewayAddress: z
    .string()
    .optional()
    .describe(
      'Where the gateway answers: its load balancer, else its cluster DNS name. Absent in routing modes httpRoute and ingress.',
    ),
  gatewayReadyReplicas: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('Gateway pods that are ready. Absent in routing modes httpRoute and ingress.'),
});
export type ImageOptimizerStatus = z.infer<typeof ImageOptimizerStatusSchema>;
