// `npm run bench` section for the operator (issue 6 §5): 100 ImageOptimizers from nothing to
// fully applied (every child applied, status written for the current generation) against a real
// kube-apiserver + etcd + kube-controller-manager; wall time and the operator process's RSS.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeClient } from '../operator/kube/client.ts';
import {
  type CrObject,
  createCr,
  crPath,
  imageOptimizer,
  installCrd,
} from '../operator/test-support/control-plane.ts';
import { spawnOperator } from '../operator/test-support/spawn-operator.ts';
import { startControlPlane } from '../test/control-plane/control-plane.ts';

const COUNT = 100;
const NAMESPACE = 'bench';
/** Every fourth resource runs 2 optimizer replicas, so it also gets a managed Valkey. */
const isFleet = (i: number): boolean => i % 4 === 3;

function rssKiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number =>
    Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

async function until(
  probe: () => Promise<boolean>,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function pool<T>(
  items: T[],
  width: number,
  run: (item: T) => Promise<unknown>,
): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await run(item);
    }),
  );
}

/** Runs the benchmark; needs the control-plane binaries (built by test/control-plane/build.sh). */
export async function benchOperator(): Promise<Record<string, unknown>> {
  const cp = await startControlPlane({ log: () => {} });
  let operator: ChildProcess | undefined;
  try {
    const client = new KubeClient(cp.kubeConfig);
    await installCrd(client);
    await client.request('POST', '/api/v1/namespaces', { metadata: { name: NAMESPACE } });
    const started = await spawnOperator({
      kubeconfig: cp.kubeconfigPath,
      namespace: NAMESPACE,
      image: 'example.test/next-image:bench',
    });
    operator = started.child;
    const pid = operator.pid ?? 0;
    await until(
      async () => (await fetch(`${started.health}/readyz`)).status === 200,
      'operator readiness',
      30_000,
    );
    const idle = rssKiB(pid);

    let peak = idle.rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssKiB(pid).rss);
    }, 50);
    const t0 = performance.now();
    const indexes = Array.from({ length: COUNT }, (_, i) => i);
    await pool(indexes, 16, (i) =>
      createCr(
        client,
        imageOptimizer(NAMESPACE, `site-${i}`, {
          imageOptimizer: { fallback: 'frontend' },
          optimizer: { replicas: isFleet(i) ? 2 : 1 },
        }),
      ),
    );
    const created = performance.now() - t0;
    const expectedDeployments = indexes.reduce((n, i) => n + (isFleet(i) ? 3 : 2), 0);
    await until(
      async () => {
        const crs = await client.list<CrObject>(crPath(NAMESPACE));
        const done = crs.items.filter(
          (cr) =>
            cr.status?.observedGeneration === cr.metadata?.generation &&
            cr.metadata?.generation !== undefined,
        );
        if (done.length < COUNT) return false;
        const deployments = await client.list<KubernetesObject>(
          `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`,
        );
        return deployments.items.length === expectedDeployments;
      },
      `${COUNT} ImageOptimizers to be applied`,
      300_000,
    );
    const applied = performance.now() - t0;
    clearInterval(sampler);
    const after = rssKiB(pid);
    const metrics = await (await fetch(`${started.metrics}/metrics`)).text();
    const reconciles = [
      ...metrics.matchAll(/^controller_runtime_reconcile_total\{[^}]*\} (\d+)/gm),
    ].reduce((n, m) => n + Number(m[1]), 0);
    const children = indexes.reduce((n, i) => n + (isFleet(i) ? 10 : 6), 0);

    const result = {
      imageOptimizers: COUNT,
      childObjects: children,
      createWallMs: Math.round(created),
      fullyAppliedWallMs: Math.round(applied),
      reconciles,
      operatorRssIdleMiB: +(idle.rss / 1024).toFixed(1),
      operatorRssPeakMiB: +(Math.max(peak, after.hwm) / 1024).toFixed(1),
      operatorRssAfterMiB: +(after.rss / 1024).toFixed(1),
    };
    const markdown = [
      '## Operator: 100 ImageOptimizers from nothing to fully applied',
      '',
      `Real kube-apiserver + etcd + kube-controller-manager on loopback; operator as its own process (4 workers). ${COUNT} resources (every 4th with 2 replicas and a managed Valkey) = ${children} child objects. "Fully applied" = every child applied and status written for the current generation.`,
      '',
      '| metric | value |',
      '|---|---|',
      `| wall time, first create → all applied | ${result.fullyAppliedWallMs} ms |`,
      `| of which creating the ${COUNT} CRs | ${result.createWallMs} ms |`,
      `| reconciles | ${reconciles} |`,
      `| operator RSS idle / peak / after | ${result.operatorRssIdleMiB} / ${result.operatorRssPeakMiB} / ${result.operatorRssAfterMiB} MiB |`,
      '',
    ].join('\n');
    return { ...result, markdown };
  } finally {
    if (operator !== undefined && operator.exitCode === null) {
      const exited = new Promise((r) => operator?.once('exit', r));
      operator.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (operator.exitCode === null && operator.signalCode === null) operator.kill('SIGKILL');
    }
    await cp.stop();
  }
}

// `node bench/operator.ts` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchOperator();
  process.stdout.write(`${String(result.markdown)}\n`);
}
