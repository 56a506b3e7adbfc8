import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ImageOptimizerSchema } from '../../api/image-optimizer.ts';
import { render } from '../../operator/render/render.ts';
import { ROOT } from '../package/install.ts';
import {
  type PodLike,
  restrictedViolations,
  writableRootFilesystems,
} from '../support/pod-security.ts';

// examples/ are documentation; these keep them valid and saying what their comments say.

const options = {
  image: 'next-image:test',
  valkeyImage: 'valkey:test',
  clusterDomain: 'cluster.local',
  valkeyPassword: 'p'.repeat(32),
};

async function kindsOf(file: string): Promise<string[]> {
  const cr = ImageOptimizerSchema.parse(
    parse(await readFile(join(ROOT, 'examples', file), 'utf8')),
  );
  return render({ ...cr, metadata: { namespace: 'shop', ...cr.metadata } }, options).objects.map(
    (o) => o.kind ?? '',
  );
}

describe('examples/', () => {
  it('minimal.yaml becomes an optimizer and a gateway, without Valkey, HPA or PDB', async () => {
    const kinds = await kindsOf('minimal.yaml');
    expect(kinds).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ConfigMap']));
    expect(kinds.filter((k) => k === 'Deployment')).toHaveLength(2);
    expect(kinds).not.toContain('HorizontalPodAutoscaler');
    expect(kinds).not.toContain('PodDisruptionBudget');
  });

  it('production.yaml becomes that plus a managed Valkey, an HPA and a PDB', async () => {
    const kinds = await kindsOf('production.yaml');
    expect(kinds.filter((k) => k === 'Deployment')).toHaveLength(3);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'HorizontalPodAutoscaler',
        'PodDisruptionBudget',
        'NetworkPolicy',
        'Secret',
      ]),
    );
  });

  it.each([
    ['routing-httproute.yaml', 'HTTPRoute'],
    ['routing-ingress.yaml', 'Ingress'],
  ])('%s becomes an optimizer and one %s, no gateway', async (file, route) => {
    const kinds = await kindsOf(file);
    expect(kinds.filter((k) => k === 'Deployment')).toHaveLength(1);
    expect(kinds.filter((k) => k === route)).toHaveLength(1);
    expect(kinds).not.toContain('ConfigMap');
  });

  it('renders no Argo CD tracking metadata onto any child (nothing for Argo CD to prune or diff)', async () => {
    for (const file of ['minimal.yaml', 'production.yaml']) {
      const cr = ImageOptimizerSchema.parse(
        parse(await readFile(join(ROOT, 'examples', file), 'utf8')),
      );
      const tracked = {
        ...cr,
        metadata: {
          ...cr.metadata,
          namespace: 'shop',
          labels: {
            'app.kubernetes.io/instance': 'argo-app',
            'argocd.argoproj.io/instance': 'argo-app',
          },
          annotations: {
            'argocd.argoproj.io/tracking-id': 'argo-app:nextimage.dev/ImageOptimizer:shop/images',
          },
        },
      };
      for (const child of render(tracked, options).objects) {
        const meta = JSON.stringify(child.metadata ?? {});
        expect(meta, `${child.kind} ${child.metadata?.name}`).not.toMatch(
          /argocd\.argoproj\.io|argo-app/,
        );
      }
    }
  });
});

describe('examples/quickstart/ (docs/quickstart.md; the e2e applies it as is)', () => {
  const docs = async (file: string) =>
    parseAllDocuments(await readFile(join(ROOT, 'examples/quickstart', file), 'utf8')).map(
      (d) =>
        d.toJS() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> },
    );

  it('imageoptimizer.yaml is an ImageOptimizer named images in front of the Service frontend', async () => {
    const [cr, ...rest] = await docs('imageoptimizer.yaml');
    expect(rest).toEqual([]);
    const parsed = ImageOptimizerSchema.parse(cr);
    expect(parsed.metadata?.name).toBe('images');
    expect(parsed.spec.imageOptimizer.fallback).toBe('frontend');
  });

  it('frontend.yaml is a Deployment and a Service named frontend, port 80, restricted-safe', async () => {
    const objects = await docs('frontend.yaml');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Deployment/frontend',
      'Service/frontend',
    ]);
    const [deployment, service] = objects;
    if (deployment === undefined || service === undefined) throw new Error('two objects expected');
    expect((service.spec as { ports: { port: number }[] }).ports.map((p) => p.port)).toEqual([80]);
    const { template } = deployment.spec as { template: PodLike };
    expect(restrictedViolations(template)).toEqual([]);
    expect(writableRootFilesystems(template)).toEqual([]);
  });
});
