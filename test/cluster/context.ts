import { inject } from 'vitest';
import { ClusterError } from './errors.ts';
import { type RunOptions, type RunResult, run } from './run.ts';

/** What the cluster project's globalSetup hands to test files (JSON only). */
export interface ProvidedCluster {
  readonly kubeconfigPath: string;
  readonly netnsPath: string;
  readonly containerdSocket: string;
  readonly binDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ProvidedCluster;
  }
}

/** The cluster started by globalSetup (vitest project `cluster`). */
export function cluster(): ProvidedCluster {
  const provided = inject('cluster');
  if (provided === undefined)
    throw new ClusterError(
      'CLUSTER_NOT_PROVIDED',
      'no cluster: run this file in the vitest project "cluster" (npx vitest run --project cluster)',
    );
  return provided;
}

/** kubectl (admin) inside the cluster's namespace. */
export function kubectl(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const c = cluster();
  return run(`${c.binDir}/kubectl`, ['--kubeconfig', c.kubeconfigPath, ...args], {
    ...opts,
    netns: c.netnsPath,
  });
}

/** A command inside the cluster's namespace (e.g. node, helm, crictl). */
export function inCluster(
  bin: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  return run(bin, args, { ...opts, netns: cluster().netnsPath });
}
