import {
  ApiException,
  ApiextensionsV1Api,
  CustomObjectsApi,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { freshNamespace, testKubeConfig } from './test-cluster.ts';
import { eventually } from './wait-for.ts';

const namespace = await freshNamespace('cel');
const kc = testKubeConfig();
const extensions = kc.makeApiClient(ApiextensionsV1Api);
const objects = kc.makeApiClient(CustomObjectsApi);

const group = 'cel.test.next-image.dev';
const plural = 'ranges';
const ruleMessage = 'spec.min must not exceed spec.max';

// One CRD per file run: the CRD is cluster-scoped, so it is deleted afterwards.
const crd: V1CustomResourceDefinition = {
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural, singular: 'range', kind: 'Range', listKind: 'RangeList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['min', 'max'],
                properties: { min: { type: 'integer' }, max: { type: 'integer' } },
                x_kubernetes_validations: [{ rule: 'self.min <= self.max', message: ruleMessage }],
              },
            },
          },
        },
      },
    ],
  },
};

afterAll(async () => {
  await extensions.deleteCustomResourceDefinition({ name: crd.metadata?.name ?? '' });
});

const create = (name: string, min: number, max: number): Promise<object> =>
  objects.createNamespacedCustomObject({
    group,
    version: 'v1',
    namespace,
    plural,
    body: { apiVersion: `${group}/v1`, kind: 'Range', metadata: { name }, spec: { min, max } },
  });

describe('CRD validation with CEL', () => {
  it('installs a CRD with a CEL rule and rejects a violating object with the rule message', async () => {
    await extensions.createCustomResourceDefinition({ body: crd });
    await eventually(async () => {
      const got = await extensions.readCustomResourceDefinition({ name: crd.metadata?.name ?? '' });
      const established = got.status?.conditions?.find((c) => c.type === 'Established');
      return established?.status === 'True' ? true : undefined;
    }, 'the CRD to be Established');

    // The REST mapping can lag Established for a moment; retry the valid create.
    await eventually(() => create('valid', 1, 2), 'a valid object to be accepted');

    const rejection = await create('invalid', 5, 1).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(rejection).toBeInstanceOf(ApiException);
    const apiError = rejection as ApiException<unknown>;
    expect(apiError.code).toBe(422);
    expect(apiError.message).toContain(ruleMessage);
  });
});
