import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { buildHealthApp, buildMetricsApp } from './health-server.ts';
import { createMetrics } from './metrics.ts';

describe('health and metrics endpoints', () => {
  it.each([
    ['every informer synced', [], 200],
    ['an informer not synced yet', ['deployments@web'], 503],
  ])('/readyz with %s → %i', async (_name, unsynced, status) => {
    const app = buildHealthApp({ unsynced: () => unsynced });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(status);
    if (status === 503) expect(res.body).toContain('deployments@web');
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await app.close();
  });

  it('serves controller-runtime metric names in the Prometheus format', async () => {
    const metrics = createMetrics();
    metrics.reconcileTotal.inc({ controller: 'imageoptimizer', result: 'success' });
    const app = buildMetricsApp(metrics.registry);
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.headers['content-type']).toContain(Registry.PROMETHEUS_CONTENT_TYPE.split(';')[0]);
    expect(res.body).toContain(
      'controller_runtime_reconcile_total{controller="imageoptimizer",result="success"} 1',
    );
    for (const name of [
      'workqueue_depth',
      'workqueue_adds_total',
      'controller_runtime_reconcile_time_seconds',
      'leader_election_master_status',
    ]) {
      expect(res.body).toContain(`# TYPE ${name}`);
    }
    await app.close();
  });
});
