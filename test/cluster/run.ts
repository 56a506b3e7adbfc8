import { spawn } from 'node:child_process';
import { ClusterError } from './errors.ts';

/** What a finished command printed. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link run}. */
export interface RunOptions {
  /** Run inside this network namespace (a path for `nsenter --net=`). */
  readonly netns?: string;
  readonly input?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Resolve with a non-zero exit code instead of throwing (default false). */
  readonly allowFailure?: boolean;
  readonly timeoutMs?: number;
  readonly cwd?: string;
}

/**
 * Runs a command to completion. Inside a namespace it goes through `nsenter --net=`,
 * never `ip netns exec`: that remounts /sys, and runc then finds no cgroup mount.
 */
export function run(
  bin: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const [cmd, argv] =
    opts.netns === undefined
      ? [bin, args]
      : ['nsenter', [`--net=${opts.netns}`, '--', bin, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      timeout: opts.timeoutMs ?? 120_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.once('error', (err) =>
      reject(
        new ClusterError('CLUSTER_TOOL_MISSING', `could not run ${bin}: ${err.message}`, {
          cause: err,
        }),
      ),
    );
    child.once('close', (code, signal) => {
      const result = { code: code ?? (signal === null ? 1 : 128), stdout, stderr };
      if (result.code !== 0 && opts.allowFailure !== true) {
        reject(
          new ClusterError(
            'CLUSTER_COMMAND_FAILED',
            `${[bin, ...args].join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim() || stdout.trim()}`,
          ),
        );
      } else resolve(result);
    });
    if (child.stdin !== null) {
      child.stdin.on('error', () => undefined); // a command may exit before reading it all
      child.stdin.end(opts.input);
    }
  });
}
