import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RunOptions, type RunResult, run } from '../../test/cluster/run.ts';

// podman with its own storage, run root and containers.conf under the cache dir, so image
// builds never touch /var/lib/containers. Settings this machine needs (no systemd, an
// open-files hard limit of 20000): cgroupfs, file events, explicit ulimits.

/** A podman bound to one storage directory. */
export interface Podman {
  (args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  readonly root: string;
}

/** Sets up `<cacheDir>/podman` and returns a runner for it. */
export async function podmanIn(cacheDir: string): Promise<Podman> {
  const base = join(cacheDir, 'podman');
  await mkdir(join(base, 'storage'), { recursive: true });
  await mkdir(join(base, 'run'), { recursive: true });
  const conf = join(base, 'containers.conf');
  await writeFile(
    conf,
    `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${join(base, 'events.log')}"
`,
  );
  const storageConf = join(base, 'storage.conf');
  await writeFile(
    storageConf,
    `[storage]
driver = "overlay"
graphroot = "${join(base, 'storage')}"
runroot = "${join(base, 'run')}"
`,
  );
  const env = { ...process.env, CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storageConf };
  const podman = ((args: readonly string[], opts: RunOptions = {}) =>
    run('podman', ['--root', join(base, 'storage'), '--runroot', join(base, 'run'), ...args], {
      timeoutMs: 1_800_000,
      ...opts,
      env: { ...env, ...opts.env },
    })) as Podman;
  Object.defineProperty(podman, 'root', { value: base });
  return podman;
}
