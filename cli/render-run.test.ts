import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { KubernetesObject, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ImageOptimizerSchema } from '../api/image-optimizer.ts';
import { render } from '../operator/render/render.ts';

// What render writes into the ConfigMap/Secret must start the real processes: the schemas
// agreeing is not enough if a process reads its file differently.

const bin = new URL('../bin/next-image.js', import.meta.url).pathname;
const running: ChildProcess[] = [];
let dir: string | undefined;

afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function rendered(spec: Record<string, unknown>): KubernetesObject[] {
  const cr = ImageOptimizerSchema.parse({
    apiVersion: 'nextimage.dev/v1alpha1',
    kind: 'ImageOptimizer',
    metadata: { name: 'shop', namespace: 'web', uid: 'u' },
    spec: { imageOptimizer: { fallback: 'frontend' }, ...spec },
  });
  return render(cr, {
    image: 'x',
    valkeyImage: 'y',
    clusterDomain: 'cluster.local',
    valkeyPassword: 'pw',
  }).objects;
}

/** Starts `next-image <command>` and resolves with the URLs it logs as listening. */
function start(args: string[]): Promise<string[]> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  const urls: string[] = [];
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`next-image ${args[0]} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (m?.[1] !== undefined) urls.push(m[1]);
      if (/"msg":"(optimizer|gateway) listening"/.test(line)) resolve(urls);
    });
  });
}

describe('rendered configs start the real processes', () => {
  it.each([
    ['memory storage', {}],
    ['a managed Valkey (unreachable here: it must keep serving)', { optimizer: { replicas: 2 } }],
  ])('optimizer with %s answers /readyz', async (_name, spec) => {
    dir = await mkdtemp(join(tmpdir(), 'next-image-run-'));
    const secret = rendered(spec).find(
      (o) => o.kind === 'Secret' && o.metadata?.name === 'shop-optimizer-config',
    ) as V1Secret;
    const file = join(dir, 'optimizer.json');
    // Same file, but the Valkey host points at a closed loopback port: no DNS, no network.
    const text = Buffer.from(secret.data?.['optimizer.json'] ?? '', 'base64').toString();
    await writeFile(file, text.replace('shop-valkey.web.svc.cluster.local:6379', '127.0.0.1:1'));
    const [url] = await start([
      'optimizer',
      '--config',
      file,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
    ]);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it('gateway answers /readyz on its admin listener', async () => {
    dir = await mkdtemp(join(tmpdir(), 'next-image-run-'));
    const cm = rendered({}).find((o) => o.kind === 'ConfigMap') as V1ConfigMap;
    const config = JSON.parse(cm.data?.['gateway.json'] ?? '{}') as {
      admin: { hostname: string; port: number };
    };
    // Same file, but loopback and a free admin port, so parallel tests never collide.
    config.admin = { hostname: '127.0.0.1', port: 0 };
    const file = join(dir, 'gateway.json');
    await writeFile(file, JSON.stringify(config));
    const urls = await start(['gateway', '--config', file, '--host', '127.0.0.1', '--port', '0']);
    const answers = await Promise.all(urls.map(async (u) => (await fetch(`${u}/readyz`)).status));
    expect(answers).toContain(200);
  });
});
