import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  LEADER_ELECTION_RULES,
  METRICS_AUTH_RULES,
  METRICS_READER_RULES,
  OPERATOR_RULES,
} from '../../operator/rbac.ts';
import { ROOT } from '../package/install.ts';
import { CHART, helm, type Manifest, only, operatorArgs, template } from './helm.ts';

// helm lint and helm template with the helm built by test/control-plane/build.sh (this
// file runs in the control-plane vitest project, whose global setup builds it).

const ciValues = async (): Promise<string[]> =>
  (await readdir(join(CHART, 'ci')))
    .filter((f) => f.endsWith('-values.yaml'))
    .map((f) => join(CHART, 'ci', f));

describe('helm lint --strict', () => {
  it('passes with the default values', async () => {
    const result = await helm(['lint', '--strict', CHART]);
    expect(result.stderr + result.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(result.code).toBe(0);
  });

  it('passes with every ci/*-values.yaml', async () => {
    for (const values of await ciValues()) {
      const result = await helm(['lint', '--strict', CHART, '-f', values]);
      expect(result.code, `${values}: ${result.stdout}${result.stderr}`).toBe(0);
    }
  });

  it.each([
    ['a misspelt key', ['--set', 'operator.replica=2'], /replica/],
    ['an unknown top-level key', ['--set', 'replicaCount=2'], /replicaCount/],
    ['a bad pull policy', ['--set', 'image.pullPolicy=Sometimes'], /pullPolicy/],
    ['a bad namespace name', ['--set', 'operator.watchNamespaces[0]=Team_A'], /watchNamespaces/],
  ])('fails the install on %s (values.schema.json)', async (_name, args, message) => {
    const result = await helm(['template', 'x', CHART, ...args]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });
});

describe('helm template', () => {
  it('renders a cluster-wide install by default', async () => {
    const manifests = await template('nio', 'nio-system');
    expect(manifests.map((m) => m.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'Deployment',
      'Service',
      'ServiceAccount',
    ]);
    const crd = only(manifests, 'CustomResourceDefinition');
    expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
    const clusterRole = (name: string): Manifest | undefined =>
      manifests.find((m) => m.kind === 'ClusterRole' && m.metadata.name === name);
    expect(clusterRole('nio-next-image-operator')?.rules).toEqual(OPERATOR_RULES);
    // Secure metrics (the default): the operator may ask TokenReviews and SubjectAccessReviews,
    // and a ClusterRole for scrapers to bind.
    expect(clusterRole('nio-next-image-operator-metrics-auth')?.rules).toEqual(METRICS_AUTH_RULES);
    expect(clusterRole('nio-next-image-operator-metrics-reader')?.rules).toEqual(
      METRICS_READER_RULES,
    );
    const args = operatorArgs(manifests);
    expect(args[0]).toBe('operator');
    expect(args).not.toContain('--leader-elect');
    expect(args.some((a) => a.startsWith('--namespaces'))).toBe(false);
    expect(args).toContain('--image=ghcr.io/next-image-operator/next-image:0.1.0');
    expect(args).toContain('--metrics-secure=true');
    const deployment = only(manifests, 'Deployment') as unknown as {
      spec: { replicas: number; strategy: { type: string } };
    };
    expect(deployment.spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
    for (const m of manifests.filter(
      (m) =>
        m.kind !== 'ClusterRole' &&
        m.kind !== 'ClusterRoleBinding' &&
        m.kind !== 'CustomResourceDefinition',
    )) {
      expect(m.metadata.namespace, `${m.kind} ${m.metadata.name}`).toBe('nio-system');
    }
  });

  it('runs the operator pods restricted: non-root, read-only root, no privilege escalation', async () => {
    const deployment = only(await template('nio', 'nio-system'), 'Deployment') as unknown as {
      spec: {
        template: {
          spec: {
            securityContext: Record<string, unknown>;
            containers: Array<{ securityContext: Record<string, unknown> }>;
          };
        };
      };
    };
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.containers[0]?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('turns on leader election, its Role and a rolling update with more than one replica', async () => {
    const manifests = await template('nio', 'nio-system', ['--set', 'operator.replicas=2']);
    expect(operatorArgs(manifests)).toEqual(
      expect.arrayContaining(['--leader-elect', '--lease-namespace=nio-system']),
    );
    const role = only(manifests, 'Role', 'nio-next-image-operator-leader-election');
    expect(role.metadata.namespace).toBe('nio-system');
    expect(role.rules).toEqual(LEADER_ELECTION_RULES);
    only(manifests, 'RoleBinding', 'nio-next-image-operator-leader-election');
    const deployment = only(manifests, 'Deployment') as unknown as {
      spec: { strategy: { type: string } };
    };
    expect(deployment.spec.strategy.type).toBe('RollingUpdate');
  });

  it('grants Roles only in the watched namespaces in namespaced mode', async () => {
    const manifests = await template('nio', 'nio-system', [
      '--set',
      'operator.watchNamespaces={team-a,team-b}',
    ]);
    // Only the secure-metrics ones: TokenReview and SubjectAccessReview are cluster-scoped.
    expect(
      manifests
        .filter((m) => m.kind === 'ClusterRole' || m.kind === 'ClusterRoleBinding')
        .map((m) => `${m.kind} ${m.metadata.name}`)
        .sort(),
    ).toEqual([
      'ClusterRole nio-next-image-operator-metrics-auth',
      'ClusterRole nio-next-image-operator-metrics-reader',
      'ClusterRoleBinding nio-next-image-operator-metrics-auth',
    ]);
    const insecure = await template('nio', 'nio-system', [
      '--set',
      'operator.watchNamespaces={team-a}',
      '--set',
      'metrics.secure=false',
    ]);
    expect(insecure.filter((m) => m.kind.startsWith('Cluster'))).toEqual([]);
    expect(operatorArgs(insecure)).toContain('--metrics-secure=false');
    const roles = manifests.filter((m) => m.kind === 'Role');
    expect(roles.map((r) => r.metadata.namespace).sort()).toEqual(['team-a', 'team-b']);
    for (const role of roles) expect(role.rules).toEqual(OPERATOR_RULES);
    const bindings = manifests.filter((m) => m.kind === 'RoleBinding');
    expect(bindings.map((b) => b.subjects)).toEqual([
      [{ kind: 'ServiceAccount', name: 'nio-next-image-operator', namespace: 'nio-system' }],
      [{ kind: 'ServiceAccount', name: 'nio-next-image-operator', namespace: 'nio-system' }],
    ]);
    expect(operatorArgs(manifests)).toContain('--namespaces=team-a,team-b');
  });

  it('installs the very CRD of crds/ (same spec and name)', async () => {
    const file = parse(
      await readFile(join(ROOT, 'crds', 'imageoptimizers.nextimage.dev.yaml'), 'utf8'),
    ) as Manifest;
    const rendered = only(await template('nio', 'nio-system'), 'CustomResourceDefinition');
    expect(rendered.metadata.name).toBe(file.metadata.name);
    expect(rendered.spec).toEqual(file.spec);
    expect(rendered.metadata.labels).toMatchObject(file.metadata.labels ?? {});
  });

  it('leaves the CRD out with crds.enabled=false and unkept with crds.keep=false', async () => {
    const off = await template('nio', 'nio-system', ['--set', 'crds.enabled=false']);
    expect(off.some((m) => m.kind === 'CustomResourceDefinition')).toBe(false);
    const unkept = only(
      await template('nio', 'nio-system', ['--set', 'crds.keep=false']),
      'CustomResourceDefinition',
    );
    expect(unkept.metadata.annotations).toBeUndefined();
  });

  it('creates a ServiceMonitor only when asked, and no RBAC with rbac.create=false', async () => {
    expect((await template('nio', 'nio-system')).some((m) => m.kind === 'ServiceMonitor')).toBe(
      false,
    );
    const monitored = await template('nio', 'nio-system', [
      '--set',
      'metrics.serviceMonitor.enabled=true',
    ]);
    const monitor = only(monitored, 'ServiceMonitor') as unknown as {
      spec: { endpoints: Array<{ port: string }> };
    };
    expect(monitor.spec.endpoints[0]?.port).toBe('metrics');
    const noRbac = await template('nio', 'nio-system', ['--set', 'rbac.create=false']);
    expect(noRbac.filter((m) => m.apiVersion.startsWith('rbac.authorization.k8s.io'))).toEqual([]);
  });

  it('renders with every ci/*-values.yaml', async () => {
    for (const values of await ciValues()) {
      const manifests = await template('nio', 'nio-system', ['-f', values]);
      expect(manifests.length, values).toBeGreaterThan(3);
    }
  });

  it('contains nothing Argo CD would render differently each time (no random or lookup)', async () => {
    const a = await helm(['template', 'nio', CHART, '--namespace', 'nio-system']);
    const b = await helm(['template', 'nio', CHART, '--namespace', 'nio-system']);
    expect(a.stdout).toBe(b.stdout);
  });
});
