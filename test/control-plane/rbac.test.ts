import { ApiException, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { freshNamespace, testKubeConfig } from './test-cluster.ts';
import { kubeConfigForToken, mintServiceAccountToken } from './tokens.ts';

const namespace = await freshNamespace('rbac');
const otherNamespace = await freshNamespace('rbac-other');
const admin = testKubeConfig();

const statusOf = (promise: Promise<unknown>): Promise<number> =>
  promise.then(
    () => 200,
    (err: unknown) => (err instanceof ApiException ? err.code : Promise.reject(err)),
  );

describe('RBAC with ServiceAccount tokens', () => {
  it('allows a token bound to a narrow Role inside its rights and answers 403 outside', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespacedServiceAccount({
      namespace,
      body: { metadata: { name: 'reader' } },
    });
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'configmap-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
      },
    });

    const token = await mintServiceAccountToken(admin, namespace, 'reader');
    const asReader = kubeConfigForToken(admin, token).makeApiClient(CoreV1Api);

    expect(await statusOf(asReader.listNamespacedConfigMap({ namespace }))).toBe(200);
    expect(await statusOf(asReader.listNamespacedSecret({ namespace }))).toBe(403);
    expect(await statusOf(asReader.listNamespacedConfigMap({ namespace: otherNamespace }))).toBe(
      403,
    );
    expect(
      await statusOf(
        asReader.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'nope' } } }),
      ),
    ).toBe(403);
  });
});
