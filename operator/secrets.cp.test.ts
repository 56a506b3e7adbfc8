import type { V1Deployment, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it, vi } from 'vitest';
import { SECRET_ENV } from '../api/secret-ref.ts';
import { SECRET_HASH_ANNOTATION } from './render/secret-refs.ts';
import {
  type CrObject,
  conditionOf,
  createCr,
  crPath,
  eventually,
  imageOptimizer,
  waitReady,
} from './test-support/control-plane.ts';
import { crdTestBed, operatorForFile } from './test-support/test-bed.ts';

// Secret references on a real API server: a missing Secret or key stops the reconcile with a
// reason and deletes nothing, a rotated value rolls the optimizer pods, and only the
// ImageOptimizers that reference a Secret are woken by its events.

const { namespace, kc, client } = await crdTestBed('secrets');
const operator = operatorForFile(kc, namespace);

const secrets = `/api/v1/namespaces/${namespace}/secrets`;
const deploymentPath = (name: string): string =>
  `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`;
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const TOKEN = 'a-purge-token-of-32-characters!!';

function putSecret(name: string, data: Record<string, string>, type = 'Opaque'): Promise<V1Secret> {
  const body = {
    apiVersion: 'v1',
    kind: 'Secret',
    type,
    metadata: { name, namespace },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  };
  return client.request<V1Secret>(
    'PATCH',
    `${secrets}/${name}?fieldManager=secrets-test&force=true`,
    body,
    'application/apply-patch+yaml',
  );
}

const condition = (name: string, type: string, status: string, reason: string): Promise<CrObject> =>
  eventually(async () => {
    const cr = await client.get<CrObject>(crPath(namespace, name));
    const c = conditionOf(cr, type);
    return c?.status === status && c.reason === reason ? cr : undefined;
  }, `${name} ${type}=${status} (${reason})`);

const secretHash = async (cr: string): Promise<string | undefined> =>
  (await client.get<V1Deployment>(deploymentPath(`${cr}-optimizer`)))?.spec?.template.metadata
    ?.annotations?.[SECRET_HASH_ANNOTATION];

describe('Secret references', () => {
  it('waits for a missing Secret and key, rolls the pods when the value changes, and deletes nothing when it goes', async () => {
    await createCr(
      client,
      imageOptimizer(namespace, 'rotating', {
        imageOptimizer: { fallback: 'frontend' },
        optimizer: { purgeTokenSecretRef: { name: 'purge', key: 'token' } },
      }),
    );
    const missing = await condition('rotating', 'Ready', 'False', 'SecretNotFound');
    expect(conditionOf(missing, 'Ready')?.message).toContain(
      `Secret ${namespace}/purge (spec.optimizer.purgeTokenSecretRef) does not exist`,
    );
    expect(conditionOf(missing, 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'SecretNotFound',
    });
    expect(await client.get(deploymentPath('rotating-optimizer'))).toBeUndefined();

    await putSecret('purge', { other: 'x' });
    const noKey = await condition('rotating', 'Ready', 'False', 'SecretKeyNotFound');
    expect(conditionOf(noKey, 'Ready')?.message).toContain(
      `Secret ${namespace}/purge has no key "token"`,
    );

    await putSecret('purge', { other: 'x', token: TOKEN });
    await waitReady(client, namespace, 'rotating');
    const deployment = await client.get<V1Deployment>(deploymentPath('rotating-optimizer'));
    expect(deployment?.spec?.template.spec?.containers[0]?.env).toContainEqual({
      name: SECRET_ENV.purgeToken,
      valueFrom: { secretKeyRef: { name: 'purge', key: 'token' } },
    });
    const first = await secretHash('rotating');
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    const firstGeneration = deployment?.metadata?.generation ?? 0;

    // A key nobody references changes: no roll.
    await putSecret('purge', { other: 'y', token: TOKEN });
    await eventually(async () => {
      const cached = operator().caches.secret<V1Secret>(namespace, 'purge');
      return cached?.data?.other === b64('y') ? true : undefined;
    }, 'the operator to see the new Secret');
    await waitReady(client, namespace, 'rotating');
    expect(await secretHash('rotating')).toBe(first);

    // The referenced value changes: a new pod template (a rollout).
    await putSecret('purge', { other: 'y', token: `${TOKEN}-rotated` });
    const second = await eventually(async () => {
      const hash = await secretHash('rotating');
      return hash !== first ? hash : undefined;
    }, 'the secret hash to change');
    expect(second).toMatch(/^[0-9a-f]{16}$/);
    const rolled = await client.get<V1Deployment>(deploymentPath('rotating-optimizer'));
    expect(rolled?.metadata?.generation).toBeGreaterThan(firstGeneration);
    await waitReady(client, namespace, 'rotating');

    // The Secret goes: Ready=False, and the running pods are left alone.
    await client.delete(`${secrets}/purge`);
    await condition('rotating', 'Ready', 'False', 'SecretNotFound');
    for (const child of ['rotating-optimizer', 'rotating-gateway'])
      expect(await client.get(deploymentPath(child)), child).toBeDefined();
    expect(await secretHash('rotating')).toBe(second);
  }, 120_000);

  it('wakes only the ImageOptimizers that reference a Secret', async () => {
    await createCr(
      client,
      imageOptimizer(namespace, 'waiting', {
        imageOptimizer: {
          fallback: 'frontend',
          storage: {
            type: 'redis',
            url: 'redis://cache.example.test:6379',
            passwordSecretRef: { name: 'cache-password', key: 'password' },
          },
        },
      }),
    );
    // Stalled on the missing Secret, it has no children, so nothing else wakes it.
    await condition('waiting', 'Ready', 'False', 'SecretNotFound');
    const add = vi.spyOn(operator().controller.queue, 'add');
    try {
      const unrelated = await putSecret('unrelated', { password: 'a' });
      await putSecret('unrelated', { password: 'b' });
      await eventually(async () => {
        const cached = operator().caches.secret<V1Secret>(namespace, 'unrelated');
        return cached?.data?.password === b64('b') ? true : undefined;
      }, 'the operator to see the unrelated Secret change');
      expect(unrelated.metadata?.name).toBe('unrelated');
      expect(add.mock.calls.map(([key]) => key)).not.toContain(`${namespace}/waiting`);

      await putSecret('cache-password', { password: 's3cr3t' });
      await eventually(
        async () =>
          add.mock.calls.some(([key]) => key === `${namespace}/waiting`) ? true : undefined,
        'the referencing ImageOptimizer to be queued',
      );
    } finally {
      add.mockRestore();
    }
    const progressing = await eventually(async () => {
      const cr = await client.get<CrObject>(crPath(namespace, 'waiting'));
      return conditionOf(cr, 'Ready')?.reason !== 'SecretNotFound' ? cr : undefined;
    }, 'waiting to get past SecretNotFound');
    expect(conditionOf(progressing, 'Stalled')?.status).toBe('False');
    const deployment = await client.get<V1Deployment>(deploymentPath('waiting-optimizer'));
    expect(deployment?.spec?.template.spec?.containers[0]?.env).toEqual([
      {
        name: SECRET_ENV.storagePassword,
        valueFrom: { secretKeyRef: { name: 'cache-password', key: 'password' } },
      },
    ]);
  }, 120_000);

  it('warns about a password written inline, with an Event and in the Ready message', async () => {
    await createCr(
      client,
      imageOptimizer(namespace, 'inline', {
        imageOptimizer: {
          fallback: 'frontend',
          storage: { type: 'redis', url: 'redis://:hunter2@cache.example.test:6379' },
        },
      }),
    );
    const cr = await waitReady(client, namespace, 'inline');
    expect(conditionOf(cr, 'Ready')?.message).toContain(
      'warning: spec.imageOptimizer.storage.url carries a password inline',
    );
    const events = await eventually(async () => {
      const list = await client.list<{
        type?: string;
        reason?: string;
        message?: string;
        involvedObject?: { name?: string };
      }>(`/api/v1/namespaces/${namespace}/events`);
      const found = list.items.filter(
        (e) =>
          e.involvedObject?.name === 'inline' &&
          e.type === 'Warning' &&
          e.reason === 'InlineSecret',
      );
      return found.length > 0 ? found : undefined;
    }, 'an InlineSecret Warning Event');
    expect(events[0]?.message).toContain('passwordSecretRef');
    expect(events[0]?.message).not.toContain('hunter2');
  }, 90_000);

  it('is refused by the API server when a secret is given both inline and by reference', async () => {
    const both = async (storage: Record<string, unknown>): Promise<string> => {
      const spec = { imageOptimizer: { fallback: 'frontend', storage } };
      return createCr(client, imageOptimizer(namespace, 'both', spec as never)).then(
        () => 'accepted',
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
    };
    const ref = { name: 'cache', key: 'k' };
    expect(await both({ type: 'redis', url: 'redis://r:6379', urlSecretRef: ref })).toContain(
      'set url or urlSecretRef, not both',
    );
    expect(
      await both({ type: 'redis', url: 'redis://app:pw@r:6379', passwordSecretRef: ref }),
    ).toContain('url has a password and passwordSecretRef is set: keep one');
    expect(await both({ type: 'valkey', passwordSecretRef: ref })).toContain(
      'passwordSecretRef needs url or urlSecretRef',
    );
  });

  it('keeps Secrets no ImageOptimizer can use (Helm releases) out of its cache', async () => {
    await putSecret(
      'sh.helm.release.v1.app.v1',
      { release: 'x'.repeat(1024) },
      'helm.sh/release.v1',
    );
    await putSecret('usable', { release: 'x' });
    await eventually(
      async () => (operator().caches.secret(namespace, 'usable') !== undefined ? true : undefined),
      'the usable Secret in the cache',
    );
    expect(operator().caches.secret(namespace, 'sh.helm.release.v1.app.v1')).toBeUndefined();
  });
});
