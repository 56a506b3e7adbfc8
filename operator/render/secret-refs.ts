import type { V1EnvVar, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { ImageOptimizerSpec } from '../../api/image-optimizer.ts';
import { SECRET_ENV, type SecretKeyRef, urlHasPassword } from '../../api/secret-ref.ts';

// The Secrets an ImageOptimizer references: which field, which environment variable of the
// optimizer container carries the value, and the warnings for secrets written inline.

/** On the optimizer pod template: a digest of the referenced Secret values; a change rolls the pods. */
export const SECRET_HASH_ANNOTATION = 'nextimage.dev/secret-hash';

/** One referenced Secret key and where its value goes. */
export interface SecretUse {
  /** The CR field, for messages: `spec.imageOptimizer.storage.urlSecretRef`. */
  field: string;
  /** The optimizer container's environment variable. */
  env: string;
  ref: SecretKeyRef;
}

/** Every Secret key the spec references, in a fixed order. */
export function secretUses(spec: ImageOptimizerSpec): SecretUse[] {
  const uses: SecretUse[] = [];
  const storage = spec.imageOptimizer.storage;
  if (storage?.urlSecretRef !== undefined)
    uses.push({
      field: 'spec.imageOptimizer.storage.urlSecretRef',
      env: SECRET_ENV.storageUrl,
      ref: storage.urlSecretRef,
    });
  if (storage?.passwordSecretRef !== undefined)
    uses.push({
      field: 'spec.imageOptimizer.storage.passwordSecretRef',
      env: SECRET_ENV.storagePassword,
      ref: storage.passwordSecretRef,
    });
  const purge = spec.optimizer.purgeTokenSecretRef;
  if (purge !== undefined)
    uses.push({
      field: 'spec.optimizer.purgeTokenSecretRef',
      env: SECRET_ENV.purgeToken,
      ref: purge,
    });
  return uses;
}

/** The optimizer container's env entries: each value read by the kubelet from its Secret. */
export function secretEnv(uses: readonly SecretUse[]): V1EnvVar[] {
  return uses.map((u) => ({
    name: u.env,
    valueFrom: { secretKeyRef: { name: u.ref.name, key: u.ref.key } },
  }));
}

/** The Secret keys a pod reads, and their digest when the caller could read them. */
export interface PodSecrets {
  uses: readonly SecretUse[];
  /** Absent in `next-image render` (no cluster): the pods then roll only on spec changes. */
  hash?: string | undefined;
}

/** Adds the secretKeyRef env (to the first container) and the secret-hash annotation. */
export function addSecrets(template: V1PodTemplateSpec, secrets: PodSecrets): void {
  if (secrets.uses.length === 0) return;
  const container = template.spec?.containers[0];
  if (container !== undefined)
    container.env = [...(container.env ?? []), ...secretEnv(secrets.uses)];
  if (secrets.hash !== undefined) {
    template.metadata ??= {};
    template.metadata.annotations = {
      ...template.metadata.annotations,
      [SECRET_HASH_ANNOTATION]: secrets.hash,
    };
  }
}

/**
 * Secrets written into the CR itself (and so into Git): accepted, for development, but
 * `next-image render` prints these and the operator records them as a Warning.
 */
export function inlineSecretWarnings(spec: ImageOptimizerSpec): string[] {
  const url = spec.imageOptimizer.storage?.url;
  if (url === undefined || !urlHasPassword(url)) return [];
  return [
    'spec.imageOptimizer.storage.url carries a password inline: move it to a Secret and use passwordSecretRef (or the whole URL with urlSecretRef)',
  ];
}

/**
 * The names of the Secrets a stored CR's spec references, read leniently from its raw spec
 * (the Secret watch maps events with it, for valid and not-yet-valid specs alike).
 */
export function referencedSecretNames(spec: unknown): string[] {
  const at = (value: unknown, ...path: string[]): unknown =>
    path.reduce<unknown>(
      (v, key) =>
        typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined,
      value,
    );
  const names = [
    at(spec, 'imageOptimizer', 'storage', 'urlSecretRef', 'name'),
    at(spec, 'imageOptimizer', 'storage', 'passwordSecretRef', 'name'),
    at(spec, 'optimizer', 'purgeTokenSecretRef', 'name'),
  ];
  return [...new Set(names.filter((n): n is string => typeof n === 'string'))];
}
