import { ApiextensionsV1Api } from '@kubernetes/client-node';
import { testKubeConfig } from '../control-plane/test-cluster.ts';
import { eventually } from '../control-plane/wait-for.ts';
import { apply } from './apply.ts';
import { only, template } from './helm.ts';

/** Installs the chart's CRD for real (idempotent server-side apply) and waits until it is Established. */
export async function installCrd(manager: string): Promise<void> {
  const crd = only(await template('crd', 'default'), 'CustomResourceDefinition');
  await apply(crd, manager);
  const ext = testKubeConfig().makeApiClient(ApiextensionsV1Api);
  await eventually(async () => {
    const got = await ext.readCustomResourceDefinition({ name: crd.metadata.name });
    const established = got.status?.conditions?.some(
      (c) => c.type === 'Established' && c.status === 'True',
    );
    return established === true ? true : undefined;
  }, `CRD ${crd.metadata.name} Established`);
}
