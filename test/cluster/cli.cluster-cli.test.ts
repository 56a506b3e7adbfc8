import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { KUBELET_SYSCTLS, OUTSIDE_PATHS, readSysctls } from './host-state.ts';

// `npm run cluster` as a person runs it: the four lines, then Ctrl-C stops everything and
// puts the host back.

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

it('prints KUBECONFIG, NETNS, CONTAINERD and "cluster ready", and stops cleanly on SIGINT', async () => {
  const sysctls = readSysctls(KUBELET_SYSCTLS);
  const existing = OUTSIDE_PATHS.filter((p) => existsSync(p));
  const child = spawn(process.execPath, [CLI], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => {
      if (out.includes('cluster ready\n')) resolve();
    });
    void exited.then((code) =>
      reject(new Error(`cli.ts exited with ${code} before "cluster ready":\n${err}`)),
    );
  });
  const lines = out.split('\n');
  const value = (key: string): string =>
    lines.find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1) ?? '';
  expect(value('KUBECONFIG')).toMatch(/^\/.+\.kubeconfig$/);
  expect(existsSync(value('KUBECONFIG'))).toBe(true);
  expect(value('NETNS')).toMatch(/^\/run\/netns\//);
  expect(existsSync(value('NETNS'))).toBe(true);
  expect(existsSync(value('CONTAINERD'))).toBe(true);
  expect(lines.indexOf('cluster ready')).toBeGreaterThan(
    lines.findIndex((l) => l.startsWith('CONTAINERD=')),
  );

  child.kill('SIGINT');
  expect(await exited, err).toBe(0);
  expect(existsSync(value('NETNS'))).toBe(false);
  expect(existsSync(value('KUBECONFIG'))).toBe(false);
  expect(readSysctls(KUBELET_SYSCTLS)).toEqual(sysctls);
  expect(OUTSIDE_PATHS.filter((p) => existsSync(p))).toEqual(existing);
});
