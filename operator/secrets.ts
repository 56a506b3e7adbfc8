import { createHash, createHmac } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { SECRET_ENV, urlHasPassword } from '../api/secret-ref.ts';
import type { SecretUse } from './render/secret-refs.ts';

// The Secrets an ImageOptimizer references, checked and digested: pure, over a lookup the
// reconciler backs with its Secret caches. The digest goes on the optimizer pod template, so a
// rotated value rolls the pods; a missing Secret or key stops the reconcile with a reason.

/** Finds a Secret by namespace and name (from a cache). */
export type SecretLookup = (namespace: string, name: string) => V1Secret | undefined;

/** Why the referenced Secrets cannot be used yet. */
export interface SecretFailure {
  reason: 'SecretNotFound' | 'SecretKeyNotFound' | 'SecretValueInvalid';
  message: string;
}

export type SecretResolution = { hash: string | undefined } | { failure: SecretFailure };

const isRedisUrl = (value: string): boolean => {
  try {
    return ['redis:', 'rediss:', 'valkey:', 'valkeys:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
};

/** What is wrong with one value for its use, or undefined (the optimizer would refuse it too). */
function invalidValue(
  use: SecretUse,
  value: string,
  all: ReadonlyMap<string, string>,
): string | undefined {
  if (use.env === SECRET_ENV.storageUrl) {
    if (!isRedisUrl(value)) return 'is not a redis://, rediss://, valkey:// or valkeys:// URL';
    if (all.has(SECRET_ENV.storagePassword) && urlHasPassword(value))
      return 'holds a URL with a password while passwordSecretRef is set: keep one';
  }
  if (use.env === SECRET_ENV.storagePassword && value === '') return 'is empty';
  if (use.env === SECRET_ENV.purgeToken && value.length < 16)
    return 'is shorter than 16 characters (a purge token needs at least 16)';
  return undefined;
}

/**
 * Reads every referenced key; the digest of their values, or the first problem found. The
 * digest is keyed per Secret with its uid, so the annotation (readable by anyone who can read
 * Deployments) tells nothing about a weak password; re-creating a Secret rolls the pods too.
 */
export function resolveSecrets(
  namespace: string,
  uses: readonly SecretUse[],
  lookup: SecretLookup,
): SecretResolution {
  if (uses.length === 0) return { hash: undefined };
  const values = new Map<string, string>();
  const digest = createHash('sha256');
  for (const use of uses) {
    const where = `Secret ${namespace}/${use.ref.name}`;
    const secret = lookup(namespace, use.ref.name);
    if (secret === undefined)
      return {
        failure: {
          reason: 'SecretNotFound',
          message: `${where} (${use.field}) does not exist: create it; nothing was changed meanwhile`,
        },
      };
    const encoded = secret.data?.[use.ref.key];
    if (encoded === undefined)
      return {
        failure: {
          reason: 'SecretKeyNotFound',
          message: `${where} has no key "${use.ref.key}" (${use.field}); its keys: ${
            Object.keys(secret.data ?? {})
              .sort()
              .join(', ') || 'none'
          }`,
        },
      };
    const value = Buffer.from(encoded, 'base64').toString('utf8');
    values.set(use.env, value);
    digest.update(
      createHmac('sha256', secret.metadata?.uid ?? '')
        .update(`${use.env}\0${value}`)
        .digest(),
    );
  }
  for (const use of uses) {
    const problem = invalidValue(use, values.get(use.env) ?? '', values);
    if (problem !== undefined)
      return {
        failure: {
          reason: 'SecretValueInvalid',
          message: `key "${use.ref.key}" of Secret ${namespace}/${use.ref.name} (${use.field}) ${problem}`,
        },
      };
  }
  return { hash: digest.digest('hex').slice(0, 16) };
}
