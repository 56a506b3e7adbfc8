import { z } from 'zod';
import { QuantitySchema } from './workload.ts';

// `spec.valkey.persistence`: keep the provisioned Valkey's data on a PersistentVolumeClaim.
// Without it (the default) the Valkey is a cache on an emptyDir that starts empty after every
// restart, which is fine for optimized images (they are recomputed from the sources).

export const VALKEY_PERSISTENCE_DEFAULTS = {
  size: '1Gi',
  accessModes: ['ReadWriteOnce'] as const,
} as const;

const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const ValkeyPersistenceSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'true: the Valkey runs as a StatefulSet whose /data is a PersistentVolumeClaim and writes an append-only file (fsync every second), so the cache survives restarts. false (default): a Deployment on an emptyDir.',
      ),
    size: QuantitySchema.default(VALKEY_PERSISTENCE_DEFAULTS.size).describe(
      'Requested size of the volume (default 1Gi); keep it above maxMemory. Fixed once the StatefulSet exists: to change it, expand the PVC (if its StorageClass allows) or turn persistence off and on (the data goes).',
    ),
    storageClassName: z
      .string()
      .max(253)
      .regex(DNS_SUBDOMAIN_RE, 'storageClassName must be a DNS subdomain such as standard-rwo')
      .optional()
      .describe("The StorageClass of the claim (default: the cluster's default StorageClass)."),
    accessModes: z
      .array(z.enum(['ReadWriteOnce', 'ReadWriteOncePod', 'ReadWriteMany']))
      .min(1)
      .max(3)
      .default([...VALKEY_PERSISTENCE_DEFAULTS.accessModes])
      .describe('Access modes of the claim (default [ReadWriteOnce]; one pod writes it).'),
  })
  .describe(
    'Persistent storage for the provisioned Valkey. Default: none, the Valkey is an ephemeral cache.',
  );
export type ValkeyPersistence = z.infer<typeof ValkeyPersistenceSchema>;
