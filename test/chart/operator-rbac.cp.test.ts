import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GROUP, PLURAL, VERSION } from '../../api/image-optimizer.ts';
import { LOOPBACK_ARGS } from '../../operator/test-support/spawn-operator.ts';
import { freshNamespace, testKubeConfig } from '../control-plane/test-cluster.ts';
import { kubeConfigForToken, mintServiceAccountToken } from '../control-plane/tokens.ts';
import { eventually } from '../control-plane/wait-for.ts';
import { ROOT } from '../package/install.ts';
import { CLI } from '../support/processes.ts';
import { apply, type RawObject } from './apply.ts';
import { installCrd } from './crd.ts';
import { template } from './helm.ts';

// `next-image operator` run with exactly the chart's ServiceAccount and RBAC (a token
// minted for that ServiceAccount) reconciles examples/minimal.yaml. Each operator here is
// limited to its test's namespace (--namespaces) so it never touches other test files'
// ImageOptimizers; cluster-wide rights are checked with SubjectAccessReviews instead.

const admin = testKubeConfig();
const core = admin.makeApiClient(CoreV1Api);
const apps = admin.makeApiClient(AppsV1Api);
const custom = admin.makeApiClient(CustomObjectsApi);
const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
const authz = admin.makeApiClient(AuthorizationV1Api);
const MANAGER = 'chart-operator-rbac-test';

const work = await mkdtemp(join(tmpdir(), 'chart-operator-'));
const operators: ChildProcess[] = [];
const clusterObjects: RawObject[] = [];

afterAll(async () => {
  for (const child of operators) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }
  for (const object of clusterObjects) {
    const name = object.metadata.name;
    if (object.kind === 'ClusterRole')
      await rbac.deleteClusterRole({ name }).catch(() => undefined);
    if (object.kind === 'ClusterRoleBinding') {
      await rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
    }
  }
  await rm(work, { recursive: true, force: true });
}, 60_000);

/** Installs the chart's ServiceAccount and RBAC (nothing else) and returns a kubeconfig file of the ServiceAccount. */
async function installRbac(
  release: string,
  namespace: string,
  args: string[],
): Promise<{ kubeconfig: string; serviceAccount: string }> {
  const manifests = await template(release, namespace, ['--set', 'crds.enabled=false', ...args]);
  const wanted = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
  for (const object of manifests.filter((m) => wanted.includes(m.kind))) {
    if (object.kind.startsWith('Cluster')) clusterObjects.push(object);
    await apply(object, MANAGER);
  }
  const sa = manifests.find((m) => m.kind === 'ServiceAccount');
  if (sa === undefined) throw new Error('the chart rendered no ServiceAccount');
  const token = await mintServiceAccountToken(admin, namespace, sa.metadata.name);
  const kubeconfig = join(work, `${release}.kubeconfig`);
  await writeFile(kubeconfig, kubeConfigForToken(admin, token).exportConfig());
  return { kubeconfig, serviceAccount: sa.metadata.name };
}

interface RunningOperator {
  child: ChildProcess;
  output: () => string;
  health: string;
}

/** Starts `next-image operator` from the sources; resolves once it logged "operator started". */
async function startOperator(args: string[]): Promise<RunningOperator> {
  const child = spawn(process.execPath, [CLI, 'operator', ...LOOPBACK_ARGS, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KUBECONFIG: '' },
  });
  operators.push(child);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const started = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the operator did not start in 30 s:\n${out}`)),
      30_000,
    );
    child.once('exit', (code) => reject(new Error(`the operator exited with ${code}:\n${out}`)));
    child.stdout?.on('data', () => {
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.msg === 'operator started') {
          clearTimeout(timer);
          resolve(entry);
        }
      }
    });
  });
  return { child, output: () => out, health: String(started.health) };
}

/** Applies examples/minimal.yaml (plus Argo CD tracking metadata) into `namespace` as the admin. */
async function applyExample(namespace: string): Promise<RawObject> {
  const example = parse(
    await readFile(join(ROOT, 'examples', 'minimal.yaml'), 'utf8'),
  ) as RawObject;
  const cr = {
    ...example,
    metadata: {
      ...example.metadata,
      namespace,
      labels: { 'app.kubernetes.io/instance': 'argo-app' },
      annotations: {
        'argocd.argoproj.io/tracking-id': 'argo-app:nextimage.dev/ImageOptimizer:ns/images',
      },
    },
  };
  return apply(cr, 'argocd-controller');
}

/** Waits until the operator created every child and wrote status for generation 1. */
async function expectReconciled(namespace: string, operator: RunningOperator): Promise<void> {
  const deployments = await eventually(
    async () => {
      const list = await apps.listNamespacedDeployment({ namespace });
      const names = list.items.map((d) => d.metadata?.name).sort();
      return names.includes('images-gateway') && names.includes('images-optimizer')
        ? list.items
        : undefined;
    },
    `the operator's Deployments in ${namespace}:\n${operator.output()}`,
    45_000,
  );
  const services = (await core.listNamespacedService({ namespace })).items.map(
    (s) => s.metadata?.name,
  );
  expect(services).toEqual(expect.arrayContaining(['images-gateway', 'images-optimizer']));

  const cr = await eventually(
    async () => {
      const got = (await custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name: 'images',
      })) as {
        metadata: {
          generation: number;
          managedFields?: Array<{ manager: string; fieldsV1?: Record<string, unknown> }>;
        };
        status?: { observedGeneration?: number; conditions?: Array<{ type: string }> };
      };
      return got.status?.observedGeneration === 1 && (got.status.conditions?.length ?? 0) > 0
        ? got
        : undefined;
    },
    `status of ImageOptimizer ${namespace}/images:\n${operator.output()}`,
    45_000,
  );

  // What keeps an Argo CD app in sync: the spec is the user's alone, children carry no tracking.
  expect(cr.metadata.generation).toBe(1);
  for (const entry of cr.metadata.managedFields ?? []) {
    if (entry.manager === 'argocd-controller') continue;
    expect(Object.keys(entry.fieldsV1 ?? {}), `fields of manager ${entry.manager}`).toEqual([
      'f:status',
    ]);
  }
  for (const deployment of deployments) {
    expect(deployment.metadata?.annotations?.['argocd.argoproj.io/tracking-id']).toBeUndefined();
    expect(deployment.metadata?.labels?.['app.kubernetes.io/instance']).not.toBe('argo-app');
  }

  expect((await fetch(`${operator.health}/readyz`)).status).toBe(200);
  expect(operator.output()).not.toMatch(/forbidden|\b403\b/i);
}

/** Whether the ServiceAccount may `verb` `resource` (cluster-wide when namespace is undefined). */
async function allowed(
  serviceAccount: string,
  saNamespace: string,
  verb: string,
  group: string,
  resource: string,
  namespace?: string,
): Promise<boolean> {
  const review = await authz.createSubjectAccessReview({
    body: {
      spec: {
        user: `system:serviceaccount:${saNamespace}:${serviceAccount}`,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${saNamespace}`],
        resourceAttributes: {
          verb,
          group,
          resource,
          ...(namespace === undefined ? {} : { namespace }),
        },
      },
    },
  });
  return review.status?.allowed === true;
}

describe("the operator under the chart's ServiceAccount and RBAC", () => {
  it('cluster-wide mode with leader election: reconciles an example and may watch every namespace', async () => {
    const opNs = await freshNamespace('chart-op-cluster');
    const appNs = await freshNamespace('chart-app-cluster');
    await installCrd(MANAGER);
    const release = `rbac-${Math.random().toString(36).slice(2, 8)}`;
    const { kubeconfig, serviceAccount } = await installRbac(release, opNs, [
      '--set',
      'operator.replicas=2',
    ]);
    for (const [group, resource] of [
      [GROUP, PLURAL],
      ['apps', 'deployments'],
      ['', 'services'],
      ['', 'secrets'],
    ] as const) {
      expect(
        await allowed(serviceAccount, opNs, 'watch', group, resource),
        `watch ${resource}`,
      ).toBe(true);
    }
    expect(
      await allowed(serviceAccount, opNs, 'update', GROUP, PLURAL),
      'update imageoptimizers (the spec)',
    ).toBe(false);

    const operator = await startOperator([
      '--kubeconfig',
      kubeconfig,
      '--namespaces',
      appNs,
      '--leader-elect',
      '--lease-namespace',
      opNs,
      '--lease-name',
      release,
    ]);
    await applyExample(appNs);
    await expectReconciled(appNs, operator);
  });

  it('namespaced mode: reconciles with a Role in the watched namespace only', async () => {
    const opNs = await freshNamespace('chart-op-ns');
    const appNs = await freshNamespace('chart-app-ns');
    const otherNs = await freshNamespace('chart-other-ns');
    await installCrd(MANAGER);
    const release = `rbac-${Math.random().toString(36).slice(2, 8)}`;
    const { kubeconfig, serviceAccount } = await installRbac(release, opNs, [
      '--set',
      `operator.watchNamespaces={${appNs}}`,
    ]);
    expect(await allowed(serviceAccount, opNs, 'list', GROUP, PLURAL, appNs)).toBe(true);
    expect(await allowed(serviceAccount, opNs, 'list', GROUP, PLURAL, otherNs)).toBe(false);
    expect(await allowed(serviceAccount, opNs, 'list', GROUP, PLURAL)).toBe(false);

    const operator = await startOperator(['--kubeconfig', kubeconfig, '--namespaces', appNs]);
    await applyExample(appNs);
    await expectReconciled(appNs, operator);
  });
});
