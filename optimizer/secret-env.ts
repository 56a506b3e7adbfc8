import { SECRET_ENV } from '../api/secret-ref.ts';

// Secrets that reach the optimizer as environment variables (the operator fills them from
// Secret keys with `secretKeyRef`), merged into the config file's object before it is
// validated. Pure: config.ts passes the environment in. Each secret has exactly one source:
// the file or its variable, never both.

/** The part of the environment this module reads. */
export type SecretEnv = Partial<Record<string, string | undefined>>;

/** The merged config (not validated yet) and every problem found. */
export interface SecretEnvResult {
  config: unknown;
  problems: string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** An object at `path` inside `root`, created (as a copy) on the way so the input is untouched. */
function child(root: Json, key: string): Json {
  const value = root[key];
  const copy: Json = isObject(value) ? { ...value } : {};
  root[key] = copy;
  return copy;
}

function isRedisUrl(value: string): boolean {
  try {
    return ['redis:', 'rediss:', 'valkey:', 'valkeys:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** Merges the storage URL and password variables into `next.imageOptimizer.storage`. */
function mergeStorage(root: Json, env: SecretEnv, problems: string[]): void {
  const urlEnv = env[SECRET_ENV.storageUrl];
  const passwordEnv = env[SECRET_ENV.storagePassword];
  if (urlEnv === undefined && passwordEnv === undefined) return;
  const before = problems.length;
  const storage = child(child(child(root, 'next'), 'imageOptimizer'), 'storage');
  if (storage.type !== 'redis' && storage.type !== 'valkey') {
    const set = [
      urlEnv === undefined ? '' : SECRET_ENV.storageUrl,
      passwordEnv === undefined ? '' : SECRET_ENV.storagePassword,
    ]
      .filter((n) => n !== '')
      .join(' and ');
    problems.push(
      `${set} set, but $.next.imageOptimizer.storage.type is not redis or valkey: unset it or use shared storage`,
    );
    return;
  }
  if (urlEnv !== undefined) {
    if (storage.url !== undefined)
      problems.push(
        `$.next.imageOptimizer.storage.url is set in the file and in ${SECRET_ENV.storageUrl}: keep one`,
      );
    else if (!isRedisUrl(urlEnv))
      problems.push(
        `${SECRET_ENV.storageUrl} must be a redis://, rediss://, valkey:// or valkeys:// URL`,
      );
    else storage.url = urlEnv;
  }
  if (passwordEnv === undefined || problems.length > before) return;
  if (typeof storage.url !== 'string') {
    problems.push(
      `${SECRET_ENV.storagePassword} is set but there is no storage url: set $.next.imageOptimizer.storage.url or ${SECRET_ENV.storageUrl}`,
    );
    return;
  }
  let url: URL;
  try {
    url = new URL(storage.url);
  } catch {
    return; // the schema reports the bad url
  }
  if (url.password !== '') {
    problems.push(
      `the storage url has a password and ${SECRET_ENV.storagePassword} is set: keep one`,
    );
    return;
  }
  if (passwordEnv === '') {
    problems.push(`${SECRET_ENV.storagePassword} is empty: put the password in it, or unset it`);
    return;
  }
  // Encoded first: the URL setter leaves "%" alone, and the store decodes the password.
  url.password = encodeURIComponent(passwordEnv);
  storage.url = url.toString();
}

/** Merges the purge token variable into `optimizer.purgeToken`. */
function mergePurgeToken(root: Json, env: SecretEnv, problems: string[]): void {
  const token = env[SECRET_ENV.purgeToken];
  if (token === undefined) return;
  const optimizer = child(root, 'optimizer');
  if (optimizer.purgeToken !== undefined) {
    problems.push(
      `$.optimizer.purgeToken is set in the file and in ${SECRET_ENV.purgeToken}: keep one`,
    );
    return;
  }
  optimizer.purgeToken = token;
}

/** The config object with the secrets of `env` merged in, and what stands in the way. */
export function applySecretEnv(raw: unknown, env: SecretEnv): SecretEnvResult {
  if (!isObject(raw)) return { config: raw, problems: [] };
  const root: Json = { ...raw };
  const problems: string[] = [];
  mergeStorage(root, env, problems);
  mergePurgeToken(root, env, problems);
  return { config: root, problems };
}
