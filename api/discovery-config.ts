import { z } from 'zod';
import { HttpUrlSchema } from './common.ts';

/** An application id as used in `<app>.plt.local` (a DNS label). */
export const AppIdSchema = z
  .string()
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    'must be a DNS label: lowercase letters, digits and "-", starting and ending with a letter or digit',
  )
  .max(63);

/** Explicit map of application ids to base URLs (local runs and tests). */
export const StaticDiscoverySchema = z.strictObject({
  apps: z.record(AppIdSchema, HttpUrlSchema),
});

/** Kubernetes: `<app>.plt.local` → `<app>.<namespace>.svc.<clusterDomain>`. */
export const KubernetesDiscoverySchema = z.strictObject({
  namespace: AppIdSchema,
  clusterDomain: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS domain such as cluster.local')
    .default('cluster.local'),
  /** Service port per application, when the URL does not name one (default: the scheme's). */
  ports: z.record(AppIdSchema, z.number().int().min(1).max(65535)).optional(),
});

/** How `<app>.plt.local` hosts are resolved; shared by the optimizer and the gateway. */
export const DiscoveryConfigSchema = z.union([StaticDiscoverySchema, KubernetesDiscoverySchema], {
  error:
    'discovery must be either {"apps": {"<app>": "http://host:port"}} or {"namespace": "<ns>", "clusterDomain": "cluster.local"}',
});
export type DiscoveryConfig = z.infer<typeof DiscoveryConfigSchema>;
