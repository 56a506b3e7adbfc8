import { z } from 'zod';

// References to Kubernetes Secrets, and the environment variables that carry their values
// into the optimizer pods (the operator writes `secretKeyRef`s, optimizer/config.ts reads
// them). Both sides import the names from here, so they cannot drift apart.

/** Environment variables the optimizer reads secrets from (optimizer/config.ts). */
export const SECRET_ENV = {
  /** The whole redis/valkey URL: `next.imageOptimizer.storage.url`. */
  storageUrl: 'NEXT_IMAGE_STORAGE_URL',
  /** The redis/valkey password, put into the URL's password part. */
  storagePassword: 'NEXT_IMAGE_STORAGE_PASSWORD',
  /** The purge endpoint's bearer token: `optimizer.purgeToken`. */
  purgeToken: 'NEXT_IMAGE_PURGE_TOKEN',
} as const;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/** One key of one Secret in the ImageOptimizer's namespace. */
export const SecretKeyRefSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(253)
      .regex(DNS_SUBDOMAIN, 'name must be a Secret name (lower-case DNS subdomain)')
      .describe("The Secret's name, in the ImageOptimizer's namespace."),
    key: z
      .string()
      .min(1)
      .max(253)
      .regex(SECRET_KEY, 'key must hold only letters, digits, "-", "_" and "."')
      .describe('The key inside the Secret whose value is used.'),
  })
  .describe(
    'A key of a Secret in this namespace. The operator passes its value to the optimizer pods as an environment variable (never into a ConfigMap) and rolls them when the value changes; a missing Secret or key sets Ready=False (SecretNotFound / SecretKeyNotFound).',
  );
export type SecretKeyRef = z.infer<typeof SecretKeyRefSchema>;

/**
 * A URL with a password in it (`scheme://[user]:password@…`). The same expression is the CEL
 * rule's, so `next-image render` and the API server agree.
 */
export const URL_WITH_PASSWORD = '^[a-z]+://[^/@]*:[^/@]*@';

/** True when `url` carries a password. */
export function urlHasPassword(url: string): boolean {
  return new RegExp(URL_WITH_PASSWORD).test(url);
}
