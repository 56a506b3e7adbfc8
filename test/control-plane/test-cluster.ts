import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, inject } from 'vitest';
import './context.ts';
import type { ProvidedControlPlane } from './context.ts';
import { ControlPlaneError } from './errors.ts';

/** The control plane started by globalSetup (vitest project `control-plane`). */
export function controlPlane(): ProvidedControlPlane {
  const provided = inject('controlPlane');
  if (provided === undefined) {
    throw new ControlPlaneError(
      'CP_NOT_PROVIDED',
      'no control plane: run this file in the vitest project "control-plane" ' +
        '(npx vitest run --project control-plane)',
    );
  }
  return provided;
}

/** An admin (system:masters) KubeConfig for the shared test control plane. */
export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(controlPlane().kubeconfig);
  return kc;
}

/**
 * Creates a namespace with a unique name for this test file and deletes it after the
 * file's tests. Call it at the top level of a test file: `const ns = await freshNamespace('gc')`.
 */
export async function freshNamespace(prefix = 'test'): Promise<string> {
  const core = testKubeConfig().makeApiClient(CoreV1Api);
  const created = await core.createNamespace({
    body: {
      metadata: { generateName: `${prefix}-`, labels: { 'next-image.test/owner': 'vitest' } },
    },
  });
  const name = created.metadata?.name;
  if (name === undefined) throw new Error('the apiserver returned a namespace without a name');
  afterAll(async () => {
    // Not awaited to completion: the namespace controller finishes in the background.
    await core.deleteNamespace({ name }).catch(() => undefined);
  });
  return name;
}
