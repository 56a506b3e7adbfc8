import { describe, expect, it } from 'vitest';
import { KubeApiError } from './errors.ts';
import { type CrObject, createCr, crPath, imageOptimizer } from './test-support/control-plane.ts';
import { crdTestBed } from './test-support/test-bed.ts';

const { namespace, client } = await crdTestBed('crd');

async function rejection(cr: CrObject): Promise<string> {
  try {
    await createCr(client, cr);
  } catch (error: unknown) {
    if (error instanceof KubeApiError && error.status === 422) return error.message;
    throw error;
  }
  throw new Error(`${cr.metadata?.name} was accepted`);
}

describe('the ImageOptimizer CRD on a real API server', () => {
  it('accepts a minimal resource and fills in the guide and Next.js defaults', async () => {
    const created = await createCr(
      client,
      imageOptimizer(namespace, 'minimal', { imageOptimizer: { fallback: 'frontend' } }),
    );
    expect(created.spec).toMatchObject({
      imageOptimizer: { fallback: 'frontend', timeout: 30000, maxAttempts: 3 },
      images: {
        deviceSizes: [640, 750, 828, 1080, 1200, 1920, 2048, 3840],
        qualities: [75],
        formats: ['image/webp'],
        minimumCacheTTL: 14400,
      },
      gateway: { service: { type: 'ClusterIP', port: 80 } },
      optimizer: { replicas: 1 },
    });
    // No stored default: render picks 1 or 2 from the optimizer's replicas.
    expect((created.spec as { gateway: object }).gateway).not.toHaveProperty('replicas');
  });

  it('accepts a production resource (Valkey, HPA, PDB, routes)', async () => {
    await createCr(
      client,
      imageOptimizer(namespace, 'production', {
        imageOptimizer: { fallback: 'https://shop.example', storage: { type: 'valkey' } },
        images: { remotePatterns: [{ protocol: 'https', hostname: 'cdn.example' }] },
        gateway: {
          replicas: 2,
          service: { type: 'LoadBalancer' },
          applications: [
            { id: 'optimizer', proxy: { prefix: '/', routes: ['/_next/image'], methods: ['GET'] } },
            { id: 'frontend' },
          ],
        },
        optimizer: {
          autoscaling: { minReplicas: 2, maxReplicas: 10 },
          podDisruptionBudget: { maxUnavailable: '50%' },
        },
      }),
    );
  });

  it.each([
    [
      'min above max',
      {
        imageOptimizer: { fallback: 'f' },
        optimizer: { autoscaling: { minReplicas: 5, maxReplicas: 2 } },
      },
      'autoscaling.minReplicas must not exceed autoscaling.maxReplicas',
    ],
    [
      'filesystem with 3 replicas',
      {
        imageOptimizer: { fallback: 'f', storage: { type: 'filesystem' } },
        optimizer: { replicas: 3 },
      },
      'filesystem storage is per pod',
    ],
    [
      'url on memory',
      { imageOptimizer: { fallback: 'f', storage: { type: 'memory', url: 'redis://x:6379' } } },
      'url, prefix and db apply only to storage types redis and valkey',
    ],
    [
      'both PDB fields',
      {
        imageOptimizer: { fallback: 'f' },
        optimizer: { podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 } },
      },
      'podDisruptionBudget needs exactly one of minAvailable and maxUnavailable',
    ],
    [
      'a bad PDB percentage',
      {
        imageOptimizer: { fallback: 'f' },
        optimizer: { podDisruptionBudget: { minAvailable: 'half' } },
      },
      'must be an integer or match',
    ],
    [
      'duplicate routes ids',
      { imageOptimizer: { fallback: 'f' }, gateway: { applications: [{ id: 'a' }, { id: 'a' }] } },
      'gateway.applications ids must be unique',
    ],
    [
      'an unknown storage type',
      { imageOptimizer: { fallback: 'f', storage: { type: 's3' } } },
      'Unsupported value: "s3"',
    ],
    [
      'a quality above 100',
      { imageOptimizer: { fallback: 'f' }, images: { qualities: [101] } },
      'should be less than or equal to 100',
    ],
  ])('rejects %s with the rule message', async (name, spec, message) => {
    const slug = name.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    expect(
      await rejection(imageOptimizer(namespace, `bad-${slug}`, spec as CrObject['spec'])),
    ).toContain(message);
  });

  it('rejects a name too long for the child names', async () => {
    expect(
      await rejection(
        imageOptimizer(namespace, `n${'x'.repeat(60)}`, { imageOptimizer: { fallback: 'f' } }),
      ),
    ).toContain('at most 53 characters');
  });

  it('scales through the scale subresource, as kubectl scale and an HPA do', async () => {
    await client.request(
      'PATCH',
      `${crPath(namespace, 'minimal')}/scale`,
      { spec: { replicas: 3 } },
      'application/merge-patch+json',
    );
    const cr = await client.get<CrObject>(crPath(namespace, 'minimal'));
    expect(cr?.spec.optimizer?.replicas).toBe(3);
  });
});
