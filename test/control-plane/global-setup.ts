import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import './context.ts';
import { startControlPlane } from './control-plane.ts';

/**
 * vitest globalSetup of the control-plane project: builds the binaries if the cache
 * lacks them (printing progress), starts one control plane for the whole run and
 * stops it afterwards, also when tests fail.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cp = await startControlPlane({ crdFiles: projectCrdFiles(project.config.root) });
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

/**
 * The repository's generated CRDs (crds/*.yaml), so the GC knows them from the start, and the
 * vendored third-party CRDs our children use (test/control-plane/crds/: the Gateway API).
 */
function projectCrdFiles(root: string): string[] {
  return [resolve(root, 'crds'), resolve(root, 'test/control-plane/crds')].flatMap(yamlFiles);
}

function yamlFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.yaml'))
      .sort()
      .map((name) => join(dir, name));
  } catch {
    return []; // no such dir yet: nothing to pre-install
  }
}
