import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { pinnedVersions } from '../control-plane/config.ts';
import { controlPlane } from '../control-plane/test-cluster.ts';
import { ROOT } from '../package/install.ts';

/** The chart under test. */
export const CHART = join(ROOT, 'charts', 'next-image-operator');

/** A Kubernetes object as rendered by helm (loosely typed: it is data). */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * No user config: helm reads and writes only under a temp dir of this process, and talks
 * only to the test control plane (for install/uninstall; lint and template stay offline).
 */
function helmEnv(): NodeJS.ProcessEnv {
  const home = join(tmpdir(), `helm-test-${process.pid}`);
  return {
    PATH: process.env.PATH,
    HOME: home,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    KUBECONFIG: controlPlane().kubeconfigPath,
  };
}

/**
 * Runs the helm that test/control-plane/build.sh built (never one from PATH). `lint` and
 * `template` get `--kube-version` of the test control plane, as Argo CD passes the
 * cluster's version: a helm built without release ldflags would assume Kubernetes 1.20.
 */
export function helm(args: string[]): Promise<HelmResult> {
  const bin = join(controlPlane().binDir, 'helm');
  if (args[0] === 'lint' || args[0] === 'template') {
    args = [...args, '--kube-version', pinnedVersions().kubernetes];
  }
  return new Promise((resolve) => {
    execFile(bin, args, { env: helmEnv(), timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `helm template` of the chart; throws with helm's message when it fails. */
export async function template(
  release: string,
  namespace: string,
  args: string[] = [],
): Promise<Manifest[]> {
  const result = await helm(['template', release, CHART, '--namespace', namespace, ...args]);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

/** The one manifest of `kind` (and `name`, when given); throws when it is not exactly one. */
export function only(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter(
    (m) => m.kind === kind && (name === undefined || m.metadata.name === name),
  );
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  }
  return found[0] as Manifest;
}

/** The operator container's args in the chart's Deployment. */
export function operatorArgs(manifests: Manifest[]): string[] {
  const deployment = only(manifests, 'Deployment') as unknown as {
    spec: { template: { spec: { containers: Array<{ args: string[] }> } } };
  };
  return deployment.spec.template.spec.containers[0]?.args ?? [];
}
