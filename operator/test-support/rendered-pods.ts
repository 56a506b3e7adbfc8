import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { KubernetesObject, V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { type ImageOptimizer, ImageOptimizerSchema } from '../../api/image-optimizer.ts';
import { ROOT } from '../../test/package/install.ts';
import { type RenderOptions, render } from '../render/render.ts';

// The pod templates the operator renders for examples/ and for every storage and replica
// shape, shared by the unit test of the restricted standard and its control-plane test.

export const RENDER_OPTIONS: RenderOptions = {
  image: 'example.test/next-image:1.0.0',
  valkeyImage: 'example.test/valkey:8',
  clusterDomain: 'cluster.local',
  valkeyPassword: 'p'.repeat(32),
};

/** A CR spec as a test writes it; `imageOptimizer.fallback` is filled in. */
export type CrSpec = { imageOptimizer?: object; [key: string]: unknown };

/** An ImageOptimizer `shop` in namespace `web` with `spec`. */
export function testCr(spec: CrSpec): ImageOptimizer {
  return ImageOptimizerSchema.parse({
    apiVersion: 'nextimage.dev/v1alpha1',
    kind: 'ImageOptimizer',
    metadata: { name: 'shop', namespace: 'web', uid: 'uid-1', generation: 1 },
    spec: { ...spec, imageOptimizer: { fallback: 'frontend', ...spec.imageOptimizer } },
  });
}

/** Every Deployment's pod template in `objects`, by Deployment name. */
export function podTemplates(objects: KubernetesObject[]): Map<string, V1PodTemplateSpec> {
  const out = new Map<string, V1PodTemplateSpec>();
  for (const o of objects)
    if (o.kind === 'Deployment' || o.kind === 'StatefulSet') {
      const d = o as V1Deployment;
      if (d.spec !== undefined) out.set(d.metadata?.name ?? '?', d.spec.template);
    }
  return out;
}

/**
 * Storage and replica shapes: name, spec, and where each pod may write
 * (`<container>:<mountPath>`, by component; the gateway's /tmp is implied).
 */
export const VARIANTS: Array<[string, CrSpec, Record<string, string[]>]> = [
  ['one replica, memory', {}, { optimizer: ['optimizer:/tmp'] }],
  [
    'filesystem storage, default path',
    { imageOptimizer: { storage: { type: 'filesystem' } } },
    { optimizer: ['optimizer:/tmp', 'optimizer:/var/cache/next-image'] },
  ],
  [
    'filesystem storage, own path and bound',
    { imageOptimizer: { storage: { type: 'filesystem', path: '/cache', maxBytes: 104857600 } } },
    { optimizer: ['optimizer:/tmp', 'optimizer:/cache'] },
  ],
  [
    'three replicas, managed Valkey',
    { optimizer: { replicas: 3 } },
    { optimizer: ['optimizer:/tmp'], valkey: ['valkey:/data'] },
  ],
  [
    'autoscaling with redis storage of its own',
    {
      imageOptimizer: { storage: { type: 'redis', url: 'redis://redis.web.svc:6379' } },
      optimizer: { autoscaling: { minReplicas: 2, maxReplicas: 5 } },
    },
    { optimizer: ['optimizer:/tmp'] },
  ],
  [
    'valkey storage without url, two gateways',
    { imageOptimizer: { storage: { type: 'valkey' } }, gateway: { replicas: 2 } },
    { optimizer: ['optimizer:/tmp'], valkey: ['valkey:/data'] },
  ],
];

async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Pod templates of examples/: rendered from each ImageOptimizer, as written for a Deployment. */
export async function examplePods(): Promise<Array<[string, V1PodTemplateSpec]>> {
  const out: Array<[string, V1PodTemplateSpec]> = [];
  for (const file of await yamlFiles(join(ROOT, 'examples'))) {
    const name = relative(ROOT, file);
    for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
      const object = doc.toJS() as KubernetesObject | null;
      if (object?.kind === 'ImageOptimizer') {
        const parsed = ImageOptimizerSchema.parse(object);
        const namespaced = { ...parsed, metadata: { namespace: 'shop', ...parsed.metadata } };
        for (const [deployment, pod] of podTemplates(render(namespaced, RENDER_OPTIONS).objects))
          out.push([`${name} → Deployment ${deployment}`, pod]);
      } else if (object?.kind === 'Deployment') {
        for (const [deployment, pod] of podTemplates([object]))
          out.push([`${name}: Deployment ${deployment}`, pod]);
      }
    }
  }
  return out;
}

/** Every pod template of every variant, named `<variant> → Deployment <name>`. */
export function variantPods(): Array<[string, V1PodTemplateSpec]> {
  return VARIANTS.flatMap(([variant, spec]) =>
    [...podTemplates(render(testCr(spec), RENDER_OPTIONS).objects)].map(
      ([name, pod]): [string, V1PodTemplateSpec] => [`${variant} → Deployment ${name}`, pod],
    ),
  );
}
