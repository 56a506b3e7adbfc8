import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshNamespace } from '../control-plane/test-cluster.ts';
import { CHART, helm } from './helm.ts';

// A real `helm install` and `helm uninstall` against the test control plane: the chart's
// kubeVersion is checked against the real server version, NOTES.txt renders, and every
// object is created and removed by helm. The CRD is shared by every test file of this
// control plane, so these releases leave it out (crds.enabled=false).

const namespace = await freshNamespace('chart-install');
const release = `install-${Math.random().toString(36).slice(2, 8)}`;

afterAll(async () => {
  await helm(['uninstall', release, '-n', namespace]);
  await rm(join(tmpdir(), `helm-test-${process.pid}`), { recursive: true, force: true });
});

describe('helm install against the real kube-apiserver', () => {
  it('installs, prints the notes, reports deployed and uninstalls cleanly', async () => {
    const install = await helm([
      'install',
      release,
      CHART,
      '-n',
      namespace,
      '--set',
      'crds.enabled=false',
      '--set',
      `operator.watchNamespaces={${namespace}}`,
    ]);
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);
    expect(install.stdout).toContain(
      `next-image-operator 0.1.0 is installed in namespace ${namespace}.`,
    );
    expect(install.stdout).toContain(`It manages ImageOptimizers in: ${namespace}.`);
    expect(install.stdout).toContain('The chart did not install the CRD (crds.enabled=false)');

    const status = await helm(['status', release, '-n', namespace, '-o', 'json']);
    expect((JSON.parse(status.stdout) as { info: { status: string } }).info.status).toBe(
      'deployed',
    );
    const upgrade = await helm([
      'upgrade',
      release,
      CHART,
      '-n',
      namespace,
      '--reuse-values',
      '--set',
      'operator.replicas=2',
    ]);
    expect(upgrade.code, upgrade.stderr).toBe(0);

    const uninstall = await helm(['uninstall', release, '-n', namespace]);
    expect(uninstall.code, uninstall.stderr).toBe(0);
    const list = await helm(['list', '-n', namespace, '-q']);
    expect(list.stdout.trim()).toBe('');
  });

  it('refuses values the schema rejects before touching the cluster', async () => {
    const result = await helm([
      'install',
      `${release}-bad`,
      CHART,
      '-n',
      namespace,
      '--set',
      'crd.enabled=false',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/additional properties 'crd' not allowed/);
  });
});
