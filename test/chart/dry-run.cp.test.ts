import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { freshNamespace } from '../control-plane/test-cluster.ts';
import { ROOT } from '../package/install.ts';
import { apply, type RawObject } from './apply.ts';
import { installCrd } from './crd.ts';
import { CHART, template } from './helm.ts';

// The rendered chart and the examples, sent to the real kube-apiserver as server-side
// applies with dryRun=All: structural schema, CEL rules, defaulting and admission run,
// nothing is stored. (kubeconform cannot work offline; this is stricter anyway.)

const namespace = await freshNamespace('chart-dry-run');
const teamA = await freshNamespace('chart-team-a');
const teamB = await freshNamespace('chart-team-b');

const MANAGER = 'chart-dry-run-test';
const dryRun = (object: RawObject): Promise<RawObject> => apply(object, MANAGER, { dryRun: true });

async function examples(): Promise<RawObject[]> {
  const out: RawObject[] = [];
  for (const file of [
    'minimal.yaml',
    'production.yaml',
    'routing-httproute.yaml',
    'routing-ingress.yaml',
  ]) {
    const text = await readFile(join(ROOT, 'examples', file), 'utf8');
    for (const doc of parseAllDocuments(text)) out.push(doc.toJS() as RawObject);
  }
  return out;
}

describe('server-side dry-run against the real kube-apiserver', () => {
  it.each([
    ['default values', [] as string[]],
    ['two replicas with leader election', ['--set', 'operator.replicas=2']],
    [
      'namespaced mode',
      ['--set', `operator.watchNamespaces={${teamA},${teamB}}`, '--set', 'crds.enabled=false'],
    ],
    [
      'ci/ha-values.yaml without the ServiceMonitor (no prometheus-operator here)',
      ['-f', join(CHART, 'ci', 'ha-values.yaml'), '--set', 'metrics.serviceMonitor.enabled=false'],
    ],
  ])('accepts every object the chart renders with %s', async (_name, args) => {
    const manifests = await template(
      `dry-${Math.random().toString(36).slice(2, 8)}`,
      namespace,
      args,
    );
    expect(manifests.length).toBeGreaterThan(3);
    for (const manifest of manifests) {
      const answer = await dryRun(manifest);
      expect(answer.kind).toBe(manifest.kind);
    }
  });

  it('accepts examples/ ImageOptimizers and fills in the schema defaults', async () => {
    await installCrd(MANAGER);
    for (const example of await examples()) {
      const answer = (await dryRun({
        ...example,
        metadata: { ...example.metadata, namespace },
      })) as RawObject & {
        spec: { imageOptimizer: { timeout: number }; optimizer: { replicas: number } };
      };
      expect(answer.spec.imageOptimizer.timeout).toBeGreaterThan(0);
      expect(answer.spec.optimizer.replicas).toBeGreaterThanOrEqual(1);
    }
  });

  it('rejects an ImageOptimizer that breaks a CEL rule, with the rule message', async () => {
    await installCrd(MANAGER);
    const [minimal] = await examples();
    const bad = {
      ...minimal,
      metadata: { name: 'bad', namespace },
      spec: {
        imageOptimizer: { fallback: 'frontend' },
        optimizer: { autoscaling: { minReplicas: 5, maxReplicas: 2 } },
      },
    } as RawObject;
    await expect(dryRun(bad)).rejects.toThrow(
      /autoscaling.minReplicas must not exceed autoscaling.maxReplicas/,
    );
  });
});
