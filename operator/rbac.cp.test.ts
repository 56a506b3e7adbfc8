import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKubeConfig } from '../test/control-plane/test-cluster.ts';
import { kubeConfigForToken, mintServiceAccountToken } from '../test/control-plane/tokens.ts';
import { KubeApiError } from './errors.ts';
import type { RunningOperator } from './manager.ts';
import { leaderElectionRole, operatorClusterRole } from './rbac.ts';
import {
  createCr,
  crPath,
  eventually,
  imageOptimizer,
  KubeClient,
  startTestOperator,
  testOperatorConfig,
  waitReady,
} from './test-support/control-plane.ts';
import { crdTestBed } from './test-support/test-bed.ts';

// The operator runs as a ServiceAccount bound to exactly the rules in operator/rbac.ts, the
// rules the Helm chart ships. If it needed anything more, the reconcile would fail here.

const { namespace, client: admin } = await crdTestBed('rbac');
const roleName = `next-image-operator-${namespace}`;
const rbac = '/apis/rbac.authorization.k8s.io/v1';
let operator: RunningOperator | undefined;
let asOperator: KubeClient;

beforeAll(async () => {
  await admin.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, {
    metadata: { name: 'operator' },
  });
  const subjects = [{ kind: 'ServiceAccount', name: 'operator', namespace }];
  await admin.request('POST', `${rbac}/clusterroles`, operatorClusterRole(roleName));
  await admin.request('POST', `${rbac}/clusterrolebindings`, {
    metadata: { name: roleName },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
    subjects,
  });
  await admin.request(
    'POST',
    `${rbac}/namespaces/${namespace}/roles`,
    leaderElectionRole('leader-election', namespace),
  );
  await admin.request('POST', `${rbac}/namespaces/${namespace}/rolebindings`, {
    metadata: { name: 'leader-election' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'leader-election' },
    subjects,
  });
  const kc = kubeConfigForToken(
    testKubeConfig(),
    await mintServiceAccountToken(testKubeConfig(), namespace, 'operator'),
    namespace,
  );
  asOperator = new KubeClient(kc);
  operator = await startTestOperator(
    kc,
    testOperatorConfig([namespace], {
      leaderElection: true,
      leaseNamespace: namespace,
      leaseName: 'rbac-test',
    }),
  );
});
afterAll(async () => {
  await operator?.stop();
  await admin.delete(`${rbac}/clusterrolebindings/${roleName}`);
  await admin.delete(`${rbac}/clusterroles/${roleName}`);
});

describe('the operator with exactly the RBAC the chart ships', () => {
  it('reconciles every kind it renders to Ready, with no error', async () => {
    await createCr(
      admin,
      imageOptimizer(namespace, 'full', {
        imageOptimizer: { fallback: 'frontend' },
        optimizer: {
          autoscaling: { minReplicas: 2, maxReplicas: 3 },
          podDisruptionBudget: { minAvailable: 1 },
        },
        // The StatefulSet kind, and the gateway's own HPA and PDB.
        gateway: { autoscaling: { maxReplicas: 3 }, podDisruptionBudget: { maxUnavailable: 1 } },
        valkey: { persistence: { enabled: true } },
      }),
    );
    const ready = await waitReady(admin, namespace, 'full', 60_000);
    expect(ready.status?.storage).toBe('valkey (managed)');
    for (const path of [
      `/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers/full-optimizer`,
      `/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets/full-optimizer`,
      `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies/full-valkey`,
      `/apis/apps/v1/namespaces/${namespace}/statefulsets/full-valkey`,
      `/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers/full-gateway`,
      `/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets/full-gateway`,
    ]) {
      expect(await admin.get(path), path).toBeDefined();
    }
    // Pruning needs delete: drop the PDB and the Valkey from the spec.
    await admin.request(
      'PATCH',
      crPath(namespace, 'full'),
      { spec: { optimizer: { autoscaling: null, podDisruptionBudget: null, replicas: 1 } } },
      'application/merge-patch+json',
    );
    await eventually(
      async () =>
        (await admin.get(
          `/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets/full-optimizer`,
        )) === undefined &&
        (await admin.get(`/apis/apps/v1/namespaces/${namespace}/statefulsets/full-valkey`)) ===
          undefined
          ? true
          : undefined,
      'the PDB and Valkey to be pruned',
    );
    await waitReady(admin, namespace, 'full', 60_000);
    // Routing modes: an HTTPRoute, then an Ingress in its place (each pruned in turn).
    const routePath = `/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/httproutes/full`;
    const ingressPath = `/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses/full`;
    const routing = (spec: Record<string, unknown>) =>
      admin.request(
        'PATCH',
        crPath(namespace, 'full'),
        { spec: { routing: spec } },
        'application/merge-patch+json',
      );
    await routing({ mode: 'httpRoute', httpRoute: { parentRefs: [{ name: 'public' }] } });
    await eventually(
      async () => ((await admin.get(routePath)) === undefined ? undefined : true),
      'the HTTPRoute',
    );
    await routing({ mode: 'ingress', httpRoute: null });
    await eventually(
      async () =>
        (await admin.get(ingressPath)) !== undefined && (await admin.get(routePath)) === undefined
          ? true
          : undefined,
      'the Ingress, and the HTTPRoute pruned',
    );
    await waitReady(admin, namespace, 'full', 60_000);
    const metrics = await (await fetch(`${operator?.metrics.url}/metrics`)).text();
    expect(metrics).toMatch(
      /controller_runtime_reconcile_errors_total\{controller="imageoptimizer"\} 0/,
    );
    expect(metrics).toMatch(/leader_election_master_status\{name="rbac-test"\} 1/);
    const events = await admin.list<{ reason?: string }>(`/api/v1/namespaces/${namespace}/events`);
    expect(events.items.some((e) => e.reason === 'Ready')).toBe(true);
  }, 90_000);

  it('cannot write an ImageOptimizer spec (it never needs to)', async () => {
    const error = await asOperator
      .request(
        'PATCH',
        crPath(namespace, 'full'),
        { spec: { optimizer: { replicas: 5 } } },
        'application/merge-patch+json',
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).status).toBe(403);
  });

  it('sees deletion through garbage collection, not its own rights', async () => {
    await admin.delete(crPath(namespace, 'full'));
    await eventually(
      async () => ((await admin.get(crPath(namespace, 'full'))) === undefined ? true : undefined),
      'the CR to be gone',
    );
  });
});
