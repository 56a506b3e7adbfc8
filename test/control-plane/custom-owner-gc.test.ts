import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { freshNamespace, testKubeConfig } from './test-cluster.ts';
import { eventually } from './wait-for.ts';

const namespace = await freshNamespace('cr-gc');
const kc = testKubeConfig();
const extensions = kc.makeApiClient(ApiextensionsV1Api);
const objects = kc.makeApiClient(CustomObjectsApi);
const core = kc.makeApiClient(CoreV1Api);

const group = 'gc.test.next-image.dev';
const crdName = `owners.${group}`;

afterAll(async () => {
  await extensions.deleteCustomResourceDefinition({ name: crdName });
});

describe('garbage collection of children of a custom resource', () => {
  // The garbage collector rediscovers resource types every 30 s (hard-coded in
  // kube-controller-manager), so a CRD installed after start-up is only honoured as
  // an owner after up to ~30 s: operator tests of GC need timeouts above that.
  it('deletes a ConfigMap owned by a custom object once the owner is deleted', async () => {
    await extensions.createCustomResourceDefinition({
      body: {
        metadata: { name: crdName },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'owners', singular: 'owner', kind: 'Owner', listKind: 'OwnerList' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
              },
            },
          ],
        },
      },
    });
    const owner = (await eventually(
      () =>
        objects.createNamespacedCustomObject({
          group,
          version: 'v1',
          namespace,
          plural: 'owners',
          body: { apiVersion: `${group}/v1`, kind: 'Owner', metadata: { name: 'parent' } },
        }),
      'the Owner type to be served',
    )) as { metadata: { uid: string } };
    await core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: {
          name: 'child',
          ownerReferences: [
            { apiVersion: `${group}/v1`, kind: 'Owner', name: 'parent', uid: owner.metadata.uid },
          ],
        },
      },
    });

    await objects.deleteNamespacedCustomObject({
      group,
      version: 'v1',
      namespace,
      plural: 'owners',
      name: 'parent',
    });
    const started = Date.now();
    await eventually(
      async () => {
        const list = await core.listNamespacedConfigMap({
          namespace,
          fieldSelector: 'metadata.name=child',
        });
        return list.items.length === 0 ? true : undefined;
      },
      'the garbage collector to delete the ConfigMap',
      75_000,
    );
    expect(Date.now() - started).toBeLessThan(75_000);
  }, 120_000);
});
