import type { TestProject } from 'vitest/node';
import './context.ts';
import { startControlPlane } from './control-plane.ts';

/**
 * vitest globalSetup of the control-plane project: builds the binaries if the cache
 * lacks them (printing progress), starts one control plane for the whole run and
 * stops it afterwards, also when tests fail.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cp = await startControlPlane();
  project.provide('controlPlane', {
    server: cp.server,
    kubeconfigPath: cp.kubeconfigPath,
    kubeconfig: cp.kubeconfig,
    adminToken: cp.adminToken,
    caPem: cp.caPem,
    etcdUrl: cp.etcdUrl,
    binDir: cp.binDir,
  });
  return async (): Promise<void> => {
    await cp.stop();
  };
}
