import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './run.ts';

// What the node's daemons change on the machine outside the harness's own directory,
// recorded before they start and put back after they stop: machine-wide sysctls the
// kubelet sets, directories it creates whatever --root-dir says, cgroups, mounts and the
// pod network namespaces containerd pins under /run/netns.

/**
 * Machine-wide sysctls the kubelet sets at start (its kernel tunables), whether or not
 * protectKernelDefaults is on. Everything under net.* is per network namespace and dies
 * with the harness's namespace.
 */
export const KUBELET_SYSCTLS = [
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.panic',
  'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
] as const;

/** Paths the kubelet and containerd create outside their configured roots. */
export const OUTSIDE_PATHS = [
  '/var/lib/kubelet',
  '/var/log/pods',
  '/var/log/containers',
  '/run/containerd',
  '/var/lib/cni',
] as const;

const sysctlPath = (name: string): string => join('/proc/sys', ...name.split('.'));

/** Reads sysctls by name (missing ones are left out). */
export function readSysctls(names: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of names) {
    try {
      out.set(name, readFileSync(sysctlPath(name), 'utf8').trim());
    } catch {
      // not on this kernel
    }
  }
  return out;
}

/** The cgroup controller roots (v1 hierarchies and the unified one). */
export function cgroupRoots(): string[] {
  const base = '/sys/fs/cgroup';
  const roots = [base];
  try {
    for (const entry of readdirSync(base, { withFileTypes: true }))
      if (entry.isDirectory()) roots.push(join(base, entry.name));
  } catch {
    // no cgroup fs
  }
  return roots.filter((root) => existsSync(join(root, 'cgroup.procs')));
}

/** Mount points (from /proc/self/mountinfo), decoded. */
export function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) =>
      (line.split(' ')[4] ?? '').replace(/\\(\d{3})/g, (_, o: string) =>
        String.fromCharCode(Number.parseInt(o, 8)),
      ),
    );
}

/** Mount points at or under any of `dirs`, deepest first (pure). */
export function mountsUnder(mounts: readonly string[], dirs: readonly string[]): string[] {
  const inside = (m: string): boolean => dirs.some((d) => m === d || m.startsWith(`${d}/`));
  return [...new Set(mounts.filter(inside))].sort((a, b) => b.length - a.length);
}

/** A snapshot of the host, taken before the cluster starts. */
export interface HostSnapshot {
  readonly sysctls: Map<string, string>;
  readonly existingPaths: Set<string>;
  readonly netns: Set<string>;
  /** cgroup dirs (one level below each root) that existed. */
  readonly cgroups: Set<string>;
}

const listNetns = (): Set<string> => {
  try {
    return new Set(readdirSync('/run/netns'));
  } catch {
    return new Set();
  }
};

const topCgroups = (): Set<string> => {
  const out = new Set<string>();
  for (const root of cgroupRoots()) {
    for (const entry of readdirSync(root, { withFileTypes: true }))
      if (entry.isDirectory()) out.add(join(root, entry.name));
  }
  return out;
};

/** Records what {@link restoreHost} puts back. */
export function snapshotHost(): HostSnapshot {
  return {
    sysctls: readSysctls(KUBELET_SYSCTLS),
    existingPaths: new Set(OUTSIDE_PATHS.filter((p) => existsSync(p))),
    netns: listNetns(),
    cgroups: topCgroups(),
  };
}

/** Removes an empty cgroup tree, leaves first (rmdir(2) is the only way to delete one). */
function removeCgroupTree(dir: string): void {
  let children: string[] = [];
  try {
    children = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name));
  } catch {
    return;
  }
  for (const child of children) removeCgroupTree(child);
  try {
    rmdirSync(dir);
  } catch {
    // processes still in it, or already gone: the caller reports what is left
  }
}

/** PIDs in cgroups that did not exist at `snapshot` (the pods' processes), any depth. */
export function pidsInNewCgroups(snapshot: HostSnapshot): number[] {
  const pids = new Set<number>();
  const walk = (dir: string): void => {
    try {
      for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n'))
        if (/^\d+$/.test(line)) pids.add(Number(line));
      for (const e of readdirSync(dir, { withFileTypes: true }))
        if (e.isDirectory()) walk(join(dir, e.name));
    } catch {
      // removed meanwhile
    }
  };
  for (const dir of topCgroups()) if (!snapshot.cgroups.has(dir)) walk(dir);
  return [...pids];
}

/**
 * Puts the host back as {@link snapshotHost} found it: unmounts what was mounted under
 * `workDir` and the daemons' outside paths, deletes new pod network namespaces, removes
 * created directories and cgroups, restores the sysctls. Returns what it could not undo.
 */
export async function restoreHost(snapshot: HostSnapshot, workDir: string): Promise<string[]> {
  const problems: string[] = [];
  const created = OUTSIDE_PATHS.filter((p) => !snapshot.existingPaths.has(p));
  const newNetns = [...listNetns()].filter((n) => !snapshot.netns.has(n) && n.startsWith('cni-'));
  const dirs = [workDir, ...created, ...newNetns.map((n) => join('/run/netns', n))];
  // kubelet's own mounts under the default root (pods' volumes) count too.
  for (const m of mountsUnder(mountPoints(), dirs)) {
    const res = await run('umount', [m], { allowFailure: true });
    if (res.code !== 0) {
      const lazy = await run('umount', ['-l', m], { allowFailure: true });
      if (lazy.code !== 0) problems.push(`could not unmount ${m}: ${lazy.stderr.trim()}`);
    }
  }
  for (const n of newNetns) {
    try {
      rmSync(join('/run/netns', n), { force: true });
    } catch (err) {
      problems.push(`could not remove /run/netns/${n}: ${String(err)}`);
    }
  }
  for (const dir of topCgroups()) if (!snapshot.cgroups.has(dir)) removeCgroupTree(dir);
  for (const dir of topCgroups())
    if (!snapshot.cgroups.has(dir))
      problems.push(`cgroup ${dir} is still there (processes left in it?)`);
  for (const p of created) {
    try {
      rmSync(p, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      problems.push(`could not remove ${p}: ${String(err)}`);
    }
  }
  for (const [name, value] of snapshot.sysctls) {
    try {
      if (readFileSync(sysctlPath(name), 'utf8').trim() !== value)
        writeFileSync(sysctlPath(name), `${value}\n`);
    } catch (err) {
      problems.push(`could not restore sysctl ${name}=${value}: ${String(err)}`);
    }
  }
  return problems;
}
