import type { ChildProcess } from 'node:child_process';
import type { KubernetesObject, V1Lease } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { controlPlane } from '../test/control-plane/test-cluster.ts';
import { LABELS } from './render/names.ts';
import {
  type CrObject,
  conditionOf,
  createCr,
  crPath,
  eventually,
  imageOptimizer,
  markPodsReady,
  startTestOperator,
  testOperatorConfig,
} from './test-support/control-plane.ts';
import {
  type SpawnedOperator,
  spawnOperator as spawnCliOperator,
} from './test-support/spawn-operator.ts';
import { crdTestBed } from './test-support/test-bed.ts';

const { namespace, kc, client } = await crdTestBed('ha');
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

const KINDS = [
  '/api/v1/namespaces/NS/secrets',
  '/api/v1/namespaces/NS/configmaps',
  '/api/v1/namespaces/NS/services',
  '/apis/apps/v1/namespaces/NS/deployments',
];

/** Every managed child of `cr`, as Kind/name strings. */
async function childrenOf(cr: string): Promise<string[]> {
  const out: string[] = [];
  for (const path of KINDS) {
    const list = await client.list<KubernetesObject>(
      path.replace('NS', namespace),
      `${LABELS.instance}=${cr}`,
    );
    for (const o of list.items) out.push(`${path.split('/').pop()}/${o.metadata?.name}`);
  }
  return out.sort();
}

/** A `next-image operator` child process; resolves once it logged its start. */
function spawnOperator(identity: string): Promise<SpawnedOperator> {
  return spawnCliOperator({
    kubeconfig: controlPlane().kubeconfigPath,
    namespace,
    image: 'example.test/next-image:test',
    args: ['--leader-elect', '--lease-namespace', namespace, '--identity', identity],
    name: identity,
    onSpawn: (child) => children.push(child),
  });
}

const holder = async (): Promise<string | undefined> =>
  (
    await client.get<V1Lease>(
      `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/next-image-operator`,
    )
  )?.spec?.holderIdentity || undefined;
const leaderGauge = async (metricsUrl: string): Promise<string | undefined> =>
  /leader_election_master_status\{name="next-image-operator"\} (\d)/.exec(
    await (await fetch(`${metricsUrl}/metrics`)).text(),
  )?.[1];

describe('operator restarts and leader election', () => {
  it('converges without duplicates when the operator is stopped mid-work and started again', async () => {
    const names = Array.from({ length: 16 }, (_, i) => `site-${i}`);
    await Promise.all(
      names.map((n) =>
        createCr(
          client,
          imageOptimizer(namespace, n, {
            imageOptimizer: { fallback: 'frontend' },
            optimizer: { replicas: 2 },
          }),
        ),
      ),
    );
    // One worker, every resource already queued: stop it once some but not all are done.
    const first = await startTestOperator(kc, testOperatorConfig([namespace], { workers: 1 }));
    const withStatus = async (): Promise<number> =>
      (await client.list<CrObject>(crPath(namespace))).items.filter((cr) => cr.status !== undefined)
        .length;
    while ((await withStatus()) === 0) await new Promise((r) => setTimeout(r, 10));
    await first.stop();
    expect(await withStatus()).toBeLessThan(names.length);
    const second = await startTestOperator(kc, testOperatorConfig([namespace]));
    try {
      await eventually(
        async () => {
          await markPodsReady(client, namespace);
          const crs = await Promise.all(
            names.map((n) => client.get<CrObject>(crPath(namespace, n))),
          );
          return crs.every((cr) => conditionOf(cr, 'Ready')?.status === 'True') ? true : undefined;
        },
        'all ImageOptimizers to be Ready',
        60_000,
      );
    } finally {
      await second.stop();
    }
    for (const n of names) {
      expect(await childrenOf(n)).toEqual(
        [
          `configmaps/${n}-gateway-config`,
          `deployments/${n}-gateway`,
          `deployments/${n}-optimizer`,
          `deployments/${n}-valkey`,
          `secrets/${n}-optimizer-config`,
          `secrets/${n}-valkey`,
          `services/${n}-gateway`,
          `services/${n}-optimizer`,
          `services/${n}-valkey`,
        ].sort(),
      );
    }
    // One ReplicaSet per Deployment revision: nothing was created twice.
    const replicaSets = await client.list<KubernetesObject>(
      `/apis/apps/v1/namespaces/${namespace}/replicasets`,
    );
    expect(replicaSets.items.length).toBe(names.length * 3);
    await Promise.all(names.map((n) => client.delete(crPath(namespace, n))));
  }, 90_000);

  it('elects one leader of two, and the other takes over within ~15 s of the leader dying', async () => {
    const a = await spawnOperator('op-a');
    const b = await spawnOperator('op-b');
    const first = await eventually(holder, 'a leader');
    const [leader, standby] = first === 'op-a' ? [a, b] : [b, a];
    await eventually(
      async () => ((await leaderGauge(leader.metrics)) === '1' ? true : undefined),
      'the leader gauge',
    );
    expect(await leaderGauge(standby.metrics)).toBe('0');

    await createCr(
      client,
      imageOptimizer(namespace, 'led', { imageOptimizer: { fallback: 'frontend' } }),
    );
    await eventually(
      () => client.get(`/apis/apps/v1/namespaces/${namespace}/deployments/led-gateway`),
      'the leader to reconcile',
    );

    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    const next = await eventually(
      async () => {
        const h = await holder();
        return h !== undefined && h !== first ? h : undefined;
      },
      'a new leader',
      40_000,
    );
    const failoverMs = Date.now() - killedAt;
    expect(next).not.toBe(first);
    expect(failoverMs).toBeLessThan(25_000);
    // The new leader reconciles: a new resource gets its children.
    await createCr(
      client,
      imageOptimizer(namespace, 'after', { imageOptimizer: { fallback: 'frontend' } }),
    );
    await eventually(
      () => client.get(`/apis/apps/v1/namespaces/${namespace}/deployments/after-gateway`),
      'the new leader to reconcile',
    );
    expect(await leaderGauge(standby.metrics)).toBe('1');

    // A graceful stop hands the lease back at once.
    const c = await spawnOperator('op-c');
    const stoppedAt = Date.now();
    standby.child.kill('SIGTERM');
    await eventually(
      async () => ((await holder()) === 'op-c' ? true : undefined),
      'op-c to take over',
      20_000,
    );
    expect(Date.now() - stoppedAt).toBeLessThan(8_000);
    c.child.kill('SIGTERM');
  }, 90_000);
});
