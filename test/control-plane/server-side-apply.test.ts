import {
  ApiException,
  KubernetesObjectApi,
  PatchStrategy,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { freshNamespace, testKubeConfig } from './test-cluster.ts';

const namespace = await freshNamespace('ssa');
const client = KubernetesObjectApi.makeApiClient(testKubeConfig());

const desired = (value: string): V1ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'shared', namespace },
  data: { owner: value },
});

const apply = (manager: string, value: string, force: boolean): Promise<V1ConfigMap> =>
  client.patch(desired(value), undefined, undefined, manager, force, PatchStrategy.ServerSideApply);

describe('server-side apply', () => {
  it('reports a conflict between two field managers and lets force take ownership', async () => {
    await apply('manager-a', 'a', false);

    const conflict = await apply('manager-b', 'b', false).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(conflict).toBeInstanceOf(ApiException);
    expect((conflict as ApiException<unknown>).code).toBe(409);
    expect((conflict as ApiException<unknown>).message).toContain('manager-a');

    const forced = await apply('manager-b', 'b', true);
    expect(forced.data).toEqual({ owner: 'b' });
    const owners = (forced.metadata?.managedFields ?? [])
      .filter((entry) => JSON.stringify(entry.fieldsV1 ?? {}).includes('f:owner'))
      .map((entry) => entry.manager);
    expect(owners).toEqual(['manager-b']);
  });
});
