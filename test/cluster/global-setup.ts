import type { TestProject } from 'vitest/node';
import './context.ts';
import { startCluster } from './cluster.ts';
import { KUBELET_SYSCTLS, readSysctls } from './host-state.ts';

/**
 * vitest globalSetup of the cluster project: one real single-node cluster for the run;
 * afterwards it must have stopped everything and put every sysctl back, or the run fails.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const before = readSysctls(KUBELET_SYSCTLS);
  const c = await startCluster();
  project.provide('cluster', {
    kubeconfigPath: c.kubeconfigPath,
    netnsPath: c.netnsPath,
    containerdSocket: c.containerdSocket,
    binDir: c.binDir,
  });
  return async (): Promise<void> => {
    const problems = await c.stop();
    const after = readSysctls(KUBELET_SYSCTLS);
    for (const [name, value] of before)
      if (after.get(name) !== value)
        problems.push(`sysctl ${name} is ${after.get(name)}, was ${value}`);
    if (problems.length > 0)
      throw new Error(`the cluster tier left the host changed:\n${problems.join('\n')}`);
  };
}
