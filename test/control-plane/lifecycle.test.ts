import { existsSync } from 'node:fs';
import { CoreV1Api, VersionApi } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { pinnedVersions } from './config.ts';
import { startControlPlane } from './control-plane.ts';
import { controlPlane } from './test-cluster.ts';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startControlPlane', () => {
  it('serves /version stamped with the pinned release and leaves no process or dir after stop', async () => {
    const cp = await startControlPlane({
      binDir: controlPlane().binDir,
      controllerManager: false,
      log: () => undefined,
    });
    try {
      expect(cp.pids.every(alive)).toBe(true);
      const namespaces = await cp.kubeConfig.makeApiClient(CoreV1Api).listNamespace();
      expect(namespaces.items.map((ns) => ns.metadata?.name)).toContain('default');
      // Helm's kubeVersion checks read /version, so the build must stamp it.
      const version = await cp.kubeConfig.makeApiClient(VersionApi).getCode();
      expect(version).toMatchObject({
        gitVersion: `v${pinnedVersions().kubernetes}`,
        major: '1',
        minor: pinnedVersions().kubernetes.split('.')[1],
      });
    } finally {
      await cp.stop();
    }
    expect(cp.pids.some(alive)).toBe(false);
    expect(existsSync(cp.dir)).toBe(false);
  });
});
