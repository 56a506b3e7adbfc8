import { z } from 'zod';
import { QuantitySchema } from './workload.ts';

// `spec.valkey.persistence`: keep the provisioned Valkey's data on a PersistentVolumeClaim.
// Without it (the default) the Valkey is a cache on an emptyDir that starts empty after every
// restart, which is fine for optimized images (they are recomputed from the sources).

export const VALKEY_PERSISTENCE_DEFAULTS = {
  size: '1Gi',
  accessModes: ['ReadWriteOnce'] as const,
} as const;

/** A StatefulSet's claim template cannot change; these fields are fixed while persistence is on. */
const IMMUTABLE_CEL = [
  'self.size == oldSelf.size',
  'self.accessModes == oldSelf.accessModes',
  'has(self.storageClassName) == has(oldSelf.storageClassName)',
  '(!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)',
].join(' && ');
export const IMMUTABLE_MESSAGE =
  "valkey.persistence size, storageClassName and accessModes cannot change while enabled (a StatefulSet's claim template is fixed): expand the PersistentVolumeClaim itself, or set enabled: false first (the cache starts empty)";

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
  )
  // A transition rule (old and new object), so CEL only: render sees one object and cannot
  // check it. Without it the change would reach the StatefulSet and fail there, less clearly.
  .meta({
    'x-kubernetes-validations': [
      {
        rule: `!oldSelf.enabled || !self.enabled || (${IMMUTABLE_CEL})`,
        message: IMMUTABLE_MESSAGE,
      },
    ],
  });
export type ValkeyPersistence = z.infer<typeof ValkeyPersistenceSchema>;

/**
 * A StatefulSet's pods carry `controller-revision-hash: <statefulset>-<10 characters>`, a label
 * value of at most 63 characters; so `<name>-valkey` may have 52 and the name 45 (root-level
 * rule: it reads metadata.name and spec together).
 */
export const PERSISTENT_NAME_RULE = {
  rule: '!has(self.spec.valkey) || !has(self.spec.valkey.persistence) || !self.spec.valkey.persistence.enabled || self.metadata.name.size() <= 45',
  message:
    'metadata.name must be at most 45 characters with valkey.persistence.enabled (the StatefulSet <name>-valkey labels its pods with its name and a hash, 63 characters at most)',
  check: (name: string, enabled: boolean): boolean => !enabled || name.length <= 45,
} as const;
