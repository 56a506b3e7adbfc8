import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { controlPlanePaths } from './config.ts';
import { ControlPlaneError } from './errors.ts';

/** The binaries build.sh produces; the harness checks each before starting. */
export const BINARIES = ['etcd', 'etcdctl', 'kube-apiserver', 'kube-controller-manager', 'helm'];

const GO_MISSING_EXIT = 3; // build.sh's "Go is not installed" exit code

/**
 * Runs build.sh (a no-op when the cache matches the pinned versions) and returns the
 * directory holding the binaries. Progress goes to stderr as the build prints it.
 * Never skips: a missing Go or a failed build throws with what to install or read.
 */
export async function ensureBinaries(): Promise<string> {
  const paths = controlPlanePaths();
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('bash', [paths.buildScript], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', (err) =>
      reject(
        new ControlPlaneError(
          'CP_BUILD_FAILED',
          `could not run bash ${paths.buildScript}: install bash`,
          { cause: err },
        ),
      ),
    );
    child.once('exit', (exitCode) => resolve(exitCode ?? 1));
  });
  if (code === GO_MISSING_EXIT) {
    throw new ControlPlaneError(
      'CP_GO_MISSING',
      'The control-plane test tier needs Go >= 1.26 to build kube-apiserver, etcd and ' +
        'kube-controller-manager: install Go from https://go.dev/dl/ (put /usr/local/go/bin ' +
        'on PATH) with proxy.golang.org reachable, then rerun. The build runs once per machine.',
    );
  }
  if (code !== 0) {
    throw new ControlPlaneError(
      'CP_BUILD_FAILED',
      `bash ${paths.buildScript} failed with exit code ${code}; its output is above`,
    );
  }
  await assertBinaries(paths.binDir);
  return paths.binDir;
}

/** Throws unless every binary is present and executable in `binDir`. */
export async function assertBinaries(binDir: string): Promise<void> {
  for (const name of BINARIES) {
    try {
      await access(join(binDir, name), constants.X_OK);
    } catch (err) {
      throw new ControlPlaneError(
        'CP_BINARY_MISSING',
        `${join(binDir, name)} is missing: run bash test/control-plane/build.sh`,
        { cause: err },
      );
    }
  }
}
