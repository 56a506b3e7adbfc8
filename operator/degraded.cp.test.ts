import { describe, expect, it } from 'vitest';
import {
  type CrObject,
  conditionOf,
  createCr,
  crPath,
  eventually,
  imageOptimizer,
  waitReady,
} from './test-support/control-plane.ts';
import { crdTestBed, operatorForFile } from './test-support/test-bed.ts';

// Failures must show: Degraded=True with a reason, a Warning Event, and recovery once the cause goes.
// ResourceQuotas make the API server and the ReplicaSet controller fail for real. No quota
// controller runs here, so the tests write the quota's usage themselves (as it would).

const { namespace, kc, client } = await crdTestBed('degraded');
operatorForFile(kc, namespace);
const quotas = `/api/v1/namespaces/${namespace}/resourcequotas`;

/** A quota allowing no `resource`, with its usage recorded so admission enforces it. */
async function quota(name: string, resource: string): Promise<void> {
  await client.request('POST', quotas, { metadata: { name }, spec: { hard: { [resource]: '0' } } });
  const status = { hard: { [resource]: '0' }, used: { [resource]: '0' } };
  await client.request(
    'PATCH',
    `${quotas}/${name}/status`,
    { status },
    'application/merge-patch+json',
  );
}

const condition = (name: string, type: string, status: string, reason: string): Promise<CrObject> =>
  eventually(async () => {
    const cr = await client.get<CrObject>(crPath(namespace, name));
    const c = conditionOf(cr, type);
    return c?.status === status && c.reason === reason ? cr : undefined;
  }, `${name} ${type}=${status} (${reason})`);

describe('Degraded', () => {
  it('reports ApplyFailed when the API server refuses a child, and recovers when it no longer does', async () => {
    await quota('no-services', 'services');
    await createCr(
      client,
      imageOptimizer(namespace, 'refused', { imageOptimizer: { fallback: 'frontend' } }),
    );
    const cr = await condition('refused', 'Degraded', 'True', 'ApplyFailed');
    expect(conditionOf(cr, 'Degraded')?.message).toContain('exceeded quota');
    expect(conditionOf(cr, 'Ready')).toMatchObject({ status: 'False', reason: 'ApplyFailed' });
    // kstatus: Stalled, not Reconciling.
    expect(conditionOf(cr, 'Stalled')).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
    expect(conditionOf(cr, 'Reconciling')).toMatchObject({ status: 'False' });
    const events = await client.list<{
      type?: string;
      reason?: string;
      involvedObject?: { name?: string };
    }>(`/api/v1/namespaces/${namespace}/events`);
    expect(
      events.items.some(
        (e) =>
          e.involvedObject?.name === 'refused' &&
          e.type === 'Warning' &&
          e.reason === 'ApplyFailed',
      ),
    ).toBe(true);

    await client.delete(`${quotas}/no-services`);
    const ready = await waitReady(client, namespace, 'refused', 60_000);
    expect(conditionOf(ready, 'Degraded')).toMatchObject({ status: 'False' });
  }, 90_000);

  it('reports DeploymentFailed when pods cannot be created', async () => {
    await quota('no-pods', 'pods');
    await createCr(
      client,
      imageOptimizer(namespace, 'podless', { imageOptimizer: { fallback: 'frontend' } }),
    );
    const cr = await condition('podless', 'Degraded', 'True', 'DeploymentFailed');
    expect(conditionOf(cr, 'Degraded')?.message).toMatch(/FailedCreate/);
    await client.delete(`${quotas}/no-pods`);
  }, 90_000);
});
