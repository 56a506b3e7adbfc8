/**
 * How many transforms this process should run at once: one per CPU it may use.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Where cgroup v2 publishes the container's CPU quota. */
const CPU_MAX_PATH = '/sys/fs/cgroup/cpu.max';

/**
 * CPUs granted by a cgroup v2 `cpu.max` ("<quota> <period>", or "max <period>" when
 * unlimited), rounded up; undefined when there is no quota or the text is not understood.
 */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === 'max' || period === undefined) return undefined;
  const quotaMicros = Number(quota);
  const periodMicros = Number(period);
  if (!(quotaMicros > 0 && periodMicros > 0)) return undefined;
  return Math.max(1, Math.ceil(quotaMicros / periodMicros));
}

function cgroupCpus(): number | undefined {
  try {
    return parseCpuMax(readFileSync(CPU_MAX_PATH, 'utf8'));
  } catch {
    return undefined; // not on cgroup v2, or not in a container
  }
}

/**
 * Default transform concurrency: the CPUs this process may use. Node's
 * availableParallelism() honours CPU affinity but not a container's CPU quota, so a pod
 * limited to 2 CPUs on a 64-core node would otherwise run 64 transforms and thrash; we
 * also read the cgroup v2 quota. Under cgroup v1 or other runtimes the quota is invisible
 * here: set `optimizer.concurrency` in the config explicitly.
 */
export function defaultConcurrency(): number {
  const cpus = availableParallelism();
  const quota = cgroupCpus();
  return quota === undefined ? cpus : Math.min(cpus, quota);
}
