import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import './context.ts';
import { controlPlanePaths } from '../control-plane/config.ts';
import { KUBELET_SYSCTLS, OUTSIDE_PATHS, readSysctls } from './host-state.ts';

// vitest globalSetup of the cluster project. It runs `npm run cluster` (cli.ts) exactly as
// a person does, so the tier's own entry point is what every cluster test uses: it waits
// for the KUBECONFIG/NETNS/CONTAINERD lines and "cluster ready", and at the end sends
// SIGINT and fails the run unless the CLI exits 0 with the host as it was (sysctls,
// directories, the network namespace).

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

/** The `KEY=value` lines cli.ts prints before "cluster ready" (pure). */
export function readyLines(out: string): Map<string, string> | undefined {
  const lines = out.split('\n');
  const ready = lines.indexOf('cluster ready');
  if (ready < 0) return undefined;
  const values = new Map<string, string>();
  for (const line of lines.slice(0, ready)) {
    const m = /^([A-Z]+)=(.+)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) values.set(m[1], m[2]);
  }
  return values;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // A cluster already running (`npm run cluster` in another terminal): pass its three lines
  // as CLUSTER_KUBECONFIG, CLUSTER_NETNS, CLUSTER_CONTAINERD to run the tests against it,
  // again and again; it is left running.
  const given = ['KUBECONFIG', 'NETNS', 'CONTAINERD'].map((k) => process.env[`CLUSTER_${k}`]);
  if (given.some((v) => v !== undefined)) {
    const [kubeconfigPath, netnsPath, containerdSocket] = given;
    if (kubeconfigPath === undefined || netnsPath === undefined || containerdSocket === undefined)
      throw new Error(
        'set all three of CLUSTER_KUBECONFIG, CLUSTER_NETNS and CLUSTER_CONTAINERD (the lines npm run cluster prints), or none',
      );
    for (const path of given)
      if (path !== undefined && !existsSync(path))
        throw new Error(`${path} does not exist: is that cluster still running?`);
    project.provide('cluster', {
      kubeconfigPath,
      netnsPath,
      containerdSocket,
      binDir: controlPlanePaths().binDir,
    });
    return async () => undefined;
  }
  const sysctls = readSysctls(KUBELET_SYSCTLS);
  const existing = OUTSIDE_PATHS.filter((p) => existsSync(p));
  const child: ChildProcess = spawn(process.execPath, [CLI], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8');
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const values = await new Promise<Map<string, string>>((resolve, reject) => {
    child.stdout?.on('data', (d: string) => {
      out += d;
      const v = readyLines(out);
      if (v !== undefined) resolve(v);
    });
    void exited.then((code) =>
      reject(
        new Error(`npm run cluster exited with ${code} before "cluster ready" (its log is above)`),
      ),
    );
  });
  const get = (key: string): string => {
    const v = values.get(key);
    if (v === undefined || !existsSync(v))
      throw new Error(`npm run cluster printed no usable ${key}= line:\n${out}`);
    return v;
  };
  const netnsPath = get('NETNS');
  project.provide('cluster', {
    kubeconfigPath: get('KUBECONFIG'),
    netnsPath,
    containerdSocket: get('CONTAINERD'),
    binDir: controlPlanePaths().binDir,
  });
  return async (): Promise<void> => {
    child.kill('SIGINT');
    const code = await exited;
    const problems: string[] = [];
    if (code !== 0) problems.push(`npm run cluster exited with ${code} on SIGINT`);
    if (existsSync(netnsPath)) problems.push(`${netnsPath} is still there`);
    const after = readSysctls(KUBELET_SYSCTLS);
    for (const [name, value] of sysctls)
      if (after.get(name) !== value)
        problems.push(`sysctl ${name} is ${after.get(name)}, was ${value}`);
    const left = OUTSIDE_PATHS.filter((p) => existsSync(p) && !existing.includes(p));
    if (left.length > 0) problems.push(`left behind: ${left.join(', ')}`);
    if (problems.length > 0)
      throw new Error(`the cluster tier left the host changed:\n${problems.join('\n')}`);
  };
}
