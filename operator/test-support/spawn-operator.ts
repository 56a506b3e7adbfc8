import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

// `next-image operator` as a process, for the tests and the benchmark that need a real one
// (restarts, leader election, RSS).

const BIN = new URL('../../bin/next-image.js', import.meta.url).pathname;

/** Health and metrics on loopback, on ports the kernel picks (the operator logs its URLs). */
export const LOOPBACK_ARGS = [
  '--bind-address',
  '127.0.0.1',
  '--health-port',
  '0',
  '--metrics-port',
  '0',
  '--metrics-secure',
  'false',
] as const;

/** Where a spawned operator runs and what it is told besides its loopback listeners. */
export interface SpawnOptions {
  kubeconfig: string;
  namespace: string;
  image: string;
  /** Arguments after `--namespaces <namespace>` (e.g. leader election). */
  args?: string[];
  /** Named in the error when the process exits before it started. */
  name?: string;
  /** Called with the child as soon as it exists, so a caller can kill it even if it never starts. */
  onSpawn?: (child: ChildProcess) => void;
}

/** A spawned operator and the URLs it logged. */
export interface SpawnedOperator {
  child: ChildProcess;
  metrics: string;
  health: string;
}

/** Starts `next-image operator` on loopback (any free ports); resolves once it logs "operator started". */
export function spawnOperator(options: SpawnOptions): Promise<SpawnedOperator> {
  const args = [
    BIN,
    'operator',
    '--kubeconfig',
    options.kubeconfig,
    '--namespaces',
    options.namespace,
    ...(options.args ?? []),
    ...LOOPBACK_ARGS,
    '--image',
    options.image,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  options.onSpawn?.(child);
  const name = options.name === undefined ? 'operator' : `operator ${options.name}`;
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { msg?: string; metrics?: string; health?: string } = {};
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return; // not a log line of ours
      }
      if (entry.msg === 'operator started')
        resolve({ child, metrics: entry.metrics ?? '', health: entry.health ?? '' });
    });
  });
}
