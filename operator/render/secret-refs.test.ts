import type { KubernetesObject, V1Deployment, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { type ImageOptimizer, ImageOptimizerSchema } from '../../api/image-optimizer.ts';
import { SECRET_ENV } from '../../api/secret-ref.ts';
import { resolveOptimizerConfig } from '../../optimizer/config.ts';
import { type RenderOptions, render } from './render.ts';
import {
  inlineSecretWarnings,
  referencedSecretNames,
  SECRET_HASH_ANNOTATION,
} from './secret-refs.ts';

const options: RenderOptions = {
  image: 'example.test/next-image:1.0.0',
  valkeyImage: 'example.test/valkey:8',
  clusterDomain: 'cluster.local',
  valkeyPassword: 'p4ssw0rd-kept',
};

const cr = (spec: Record<string, unknown>): ImageOptimizer =>
  ImageOptimizerSchema.parse({
    apiVersion: 'nextimage.dev/v1alpha1',
    kind: 'ImageOptimizer',
    metadata: { name: 'shop', namespace: 'web', uid: 'uid-1' },
    spec: { imageOptimizer: { fallback: 'frontend' }, ...spec },
  });
const redis = (storage: Record<string, unknown>): Record<string, unknown> => ({
  imageOptimizer: { fallback: 'frontend', storage: { type: 'redis', ...storage } },
  optimizer: { replicas: 2 },
});
const REF = { name: 'redis-creds', key: 'url' };
const PASSWORD = { name: 'redis-creds', key: 'password' };
const TOKEN = { name: 'purge', key: 'token' };

const find = <T extends KubernetesObject>(
  objects: KubernetesObject[],
  kind: string,
  name: string,
): T => {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (found === undefined) throw new Error(`no ${kind}/${name}`);
  return found as T;
};
const optimizerPod = (objects: KubernetesObject[]) =>
  find<V1Deployment>(objects, 'Deployment', 'shop-optimizer').spec?.template;
const optimizerJson = (objects: KubernetesObject[]): unknown =>
  JSON.parse(
    Buffer.from(
      find<V1Secret>(objects, 'Secret', 'shop-optimizer-config').data?.['optimizer.json'] ?? '',
      'base64',
    ).toString('utf8'),
  );

describe('Secret references in the ImageOptimizer schema (same rules as the CRD CEL)', () => {
  it.each([
    [
      'url and urlSecretRef',
      redis({ url: 'redis://r:6379', urlSecretRef: REF }),
      'set url or urlSecretRef, not both',
    ],
    [
      'a password in url and passwordSecretRef',
      redis({ url: 'redis://:hunter2@r:6379', passwordSecretRef: PASSWORD }),
      'url has a password and passwordSecretRef is set: keep one',
    ],
    [
      'a user and password in url and passwordSecretRef',
      redis({ url: 'redis://app:hunter2@r:6379', passwordSecretRef: PASSWORD }),
      'keep one',
    ],
    [
      'passwordSecretRef for a provisioned Valkey',
      redis({ passwordSecretRef: PASSWORD }),
      'passwordSecretRef needs url or urlSecretRef',
    ],
    [
      'urlSecretRef on memory storage',
      { imageOptimizer: { fallback: 'f', storage: { type: 'memory', urlSecretRef: REF } } },
      'apply only to storage types redis and valkey',
    ],
    [
      'a Secret name that is no name',
      redis({ urlSecretRef: { name: 'Bad_Name', key: 'url' } }),
      'must be a Secret name',
    ],
    [
      'a key with a slash',
      { optimizer: { purgeTokenSecretRef: { name: 'p', key: 'a/b' } } },
      'key must hold only',
    ],
  ])('rejects %s', (_name, spec, message) => {
    expect(() => cr(spec)).toThrow(message);
  });

  it.each([
    ['urlSecretRef alone', redis({ urlSecretRef: REF })],
    [
      'urlSecretRef and passwordSecretRef',
      redis({ urlSecretRef: REF, passwordSecretRef: PASSWORD }),
    ],
    [
      'a url with a user but no password, and passwordSecretRef',
      redis({ url: 'redis://app@r:6379', passwordSecretRef: PASSWORD }),
    ],
    ['a purge token Secret', { optimizer: { purgeTokenSecretRef: TOKEN } }],
  ])('accepts %s', (_name, spec) => {
    expect(() => cr(spec)).not.toThrow();
  });
});

describe('render with Secret references', () => {
  it('passes each referenced key as a secretKeyRef env var, and keeps the values out of the config', () => {
    const { objects, storage } = render(
      cr({
        ...redis({ urlSecretRef: REF, passwordSecretRef: PASSWORD }),
        optimizer: { replicas: 2, purgeTokenSecretRef: TOKEN },
      }),
      options,
    );
    expect(optimizerPod(objects)?.spec?.containers[0]?.env).toEqual([
      { name: SECRET_ENV.storageUrl, valueFrom: { secretKeyRef: REF } },
      { name: SECRET_ENV.storagePassword, valueFrom: { secretKeyRef: PASSWORD } },
      { name: SECRET_ENV.purgeToken, valueFrom: { secretKeyRef: TOKEN } },
    ]);
    // No url (it comes from the env) and no managed Valkey.
    expect(optimizerJson(objects)).toMatchObject({
      next: { imageOptimizer: { storage: { type: 'redis', prefix: 'next-image:' } } },
    });
    expect(JSON.stringify(optimizerJson(objects))).not.toContain('url');
    expect(storage).toMatchObject({ managedValkey: false, label: 'redis' });
    expect(objects.some((o) => o.metadata?.name === 'shop-valkey')).toBe(false);
  });

  it('gives the gateway none of the secrets', () => {
    const { objects } = render(cr({ optimizer: { purgeTokenSecretRef: TOKEN } }), options);
    const gateway = find<V1Deployment>(objects, 'Deployment', 'shop-gateway').spec?.template;
    expect(gateway?.spec?.containers[0]?.env).toBeUndefined();
  });

  it('puts the secret hash on the optimizer pods only when the caller has one (the operator)', () => {
    const spec = { optimizer: { purgeTokenSecretRef: TOKEN } };
    const operator = render(cr(spec), { ...options, secretHash: 'abc123' }).objects;
    expect(optimizerPod(operator)?.metadata?.annotations?.[SECRET_HASH_ANNOTATION]).toBe('abc123');
    const offline = render(cr(spec), options).objects;
    expect(optimizerPod(offline)?.metadata?.annotations?.[SECRET_HASH_ANNOTATION]).toBeUndefined();
    // A CR without references is rendered exactly as before (no roll on an operator upgrade).
    const plain = render(cr({}), { ...options, secretHash: 'abc123' }).objects;
    expect(optimizerPod(plain)?.metadata?.annotations?.[SECRET_HASH_ANNOTATION]).toBeUndefined();
    expect(optimizerPod(plain)?.spec?.containers[0]?.env).toBeUndefined();
  });

  it('renders a config the optimizer accepts once the pod env holds the Secret values', () => {
    const { objects } = render(
      cr({
        ...redis({ url: 'redis://app@cache.web:6379', passwordSecretRef: PASSWORD }),
        optimizer: { replicas: 2, purgeTokenSecretRef: TOKEN },
      }),
      options,
    );
    const config = resolveOptimizerConfig(optimizerJson(objects), 'optimizer.json', {
      [SECRET_ENV.storagePassword]: 'p@ss/word',
      [SECRET_ENV.purgeToken]: 'a-purge-token-of-32-characters!!',
    });
    const storage = config.next.imageOptimizer.storage;
    expect(storage.type === 'redis' && new URL(storage.url).password).toBe('p%40ss%2Fword');
    expect(config.optimizer.purgeToken).toBe('a-purge-token-of-32-characters!!');
    // Without the env the file alone is not enough, and says where the url goes.
    expect(() =>
      resolveOptimizerConfig(
        optimizerJson(render(cr(redis({ urlSecretRef: REF })), options).objects),
      ),
    ).toThrow('$.next.imageOptimizer.storage.url');
  });
});

describe('inline secrets', () => {
  it.each([
    ['a password in url', 'redis://:hunter2@r:6379', 1],
    ['a user and password in url', 'rediss://app:hunter2@r:6379/0', 1],
    ['a url without a password', 'redis://r:6379', 0],
    ['a url with a user only', 'redis://app@r:6379', 0],
  ])('warns about %s', (_name, url, count) => {
    const spec = cr(redis({ url })).spec;
    expect(inlineSecretWarnings(spec)).toHaveLength(count);
    expect(render(cr(redis({ url })), options).warnings).toHaveLength(count);
  });

  it('names the field and what to use instead', () => {
    expect(inlineSecretWarnings(cr(redis({ url: 'redis://:x@r' })).spec)[0]).toMatch(
      /spec\.imageOptimizer\.storage\.url .*passwordSecretRef.*urlSecretRef/,
    );
  });
});

describe('referencedSecretNames', () => {
  it('reads every referenced Secret name from a raw spec, once each', () => {
    expect(
      referencedSecretNames({
        imageOptimizer: { storage: { urlSecretRef: REF, passwordSecretRef: PASSWORD } },
        optimizer: { purgeTokenSecretRef: TOKEN },
      }),
    ).toEqual(['redis-creds', 'purge']);
  });

  it.each([
    ['no spec', undefined],
    ['a spec of the wrong shape', { imageOptimizer: 'x', optimizer: [1] }],
    ['no references', { imageOptimizer: { fallback: 'f' } }],
  ])('finds none in %s', (_name, spec) => {
    expect(referencedSecretNames(spec)).toEqual([]);
  });
});
