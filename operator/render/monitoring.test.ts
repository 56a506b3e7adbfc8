import { readFile } from 'node:fs/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImageOptimizer, ImageOptimizerSchema } from '../../api/image-optimizer.ts';
import { createLogger } from '../../lib/logger.ts';
import type { RunningServer } from '../../lib/server.ts';
import { resolveOptimizerConfig } from '../../optimizer/config.ts';
import { startOptimizer } from '../../optimizer/server.ts';
import { alertRules, RUNBOOK_BASE_URL } from './monitoring.ts';
import { type RenderOptions, render } from './render.ts';

const options: RenderOptions = {
  image: 'example.test/next-image:1.0.0',
  valkeyImage: 'example.test/valkey:8',
  clusterDomain: 'cluster.local',
  valkeyPassword: 'p4ssw0rd-kept',
};

function cr(monitoring: Record<string, unknown> | undefined): ImageOptimizer {
  return ImageOptimizerSchema.parse({
    apiVersion: 'nextimage.dev/v1alpha1',
    kind: 'ImageOptimizer',
    metadata: { name: 'shop', namespace: 'web', uid: 'uid-1' },
    spec: { imageOptimizer: { fallback: 'frontend' }, ...(monitoring ? { monitoring } : {}) },
  });
}

const ofKind = (objects: KubernetesObject[], kind: string): Array<Record<string, unknown>> =>
  objects.filter((o) => o.kind === kind) as unknown as Array<Record<string, unknown>>;

/** Metric names in a PromQL expression: identifiers followed by a label matcher. */
const metricNames = (expr: string): string[] =>
  [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1] ?? '');

/** Sample names a real exposition offers: `# TYPE` lines, histograms with their three series. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (name === undefined) continue;
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  return names;
}

describe('spec.monitoring', () => {
  it('renders neither object by default', () => {
    const { objects } = render(cr(undefined), options);
    expect(ofKind(objects, 'PodMonitor')).toEqual([]);
    expect(ofKind(objects, 'PrometheusRule')).toEqual([]);
  });

  it('renders a PodMonitor on the optimizer http and gateway admin ports, with labels and interval', () => {
    const { objects } = render(
      cr({ podMonitor: { enabled: true, interval: '15s', labels: { release: 'prom' } } }),
      options,
    );
    const [monitor] = ofKind(objects, 'PodMonitor');
    expect(monitor).toMatchObject({
      apiVersion: 'monitoring.coreos.com/v1',
      metadata: {
        name: 'shop-next-image',
        namespace: 'web',
        labels: { release: 'prom', 'app.kubernetes.io/managed-by': 'next-image-operator' },
        ownerReferences: [{ uid: 'uid-1', controller: true }],
      },
      spec: {
        selector: {
          matchLabels: { 'app.kubernetes.io/instance': 'shop' },
          matchExpressions: [{ values: ['optimizer', 'gateway'] }],
        },
        podMetricsEndpoints: [
          {
            port: 'http',
            path: '/metrics',
            interval: '15s',
            relabelings: [{ regex: 'optimizer' }],
          },
          { port: 'admin', path: '/metrics', interval: '15s', relabelings: [{ regex: 'gateway' }] },
        ],
      },
    });
    expect(ofKind(objects, 'PrometheusRule')).toEqual([]);
  });

  it("keeps the operator's own labels over user labels of the same key", () => {
    const { objects } = render(
      cr({ prometheusRule: { enabled: true, labels: { 'app.kubernetes.io/managed-by': 'me' } } }),
      options,
    );
    const [rule] = ofKind(objects, 'PrometheusRule') as Array<{
      metadata: { labels: Record<string, string> };
    }>;
    expect(rule?.metadata.labels['app.kubernetes.io/managed-by']).toBe('next-image-operator');
  });

  it('rejects an interval that is not a Prometheus duration, saying what to write', () => {
    expect(() => cr({ podMonitor: { enabled: true, interval: '30 seconds' } })).toThrow(
      /Prometheus duration/,
    );
  });

  it('gives every alert a runbook section of docs/runbooks.md', async () => {
    const doc = await readFile(new URL('../../docs/runbooks.md', import.meta.url), 'utf8');
    const anchors = new Set(
      [...doc.matchAll(/^## (\S+)$/gm)].map((m) => `${RUNBOOK_BASE_URL}#${m[1]?.toLowerCase()}`),
    );
    const rules = alertRules('web', 'shop').flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThanOrEqual(7);
    for (const rule of rules) expect(anchors).toContain(rule.annotations.runbook_url);
  });

  it('selects only the pods of its own CR, not those of a CR named like its children', () => {
    const expr = alertRules('web', 'shop')[0]?.rules[0]?.expr ?? '';
    const regex = new RegExp(`^${/pod=~"([^"]+)"/.exec(expr)?.[1]}$`);
    expect(regex.test('shop-optimizer-7d9c5b8f6-x2x9q')).toBe(true);
    expect(regex.test('shop-optimizer-optimizer-7d9c5b8f6-x2x9q')).toBe(false);
    expect(regex.test('shop-gateway-7d9c5b8f6-x2x9q')).toBe(false);
  });
});

describe('the alert expressions', () => {
  let optimizer: RunningServer;
  beforeAll(async () => {
    const config = resolveOptimizerConfig({
      next: { imageOptimizer: { fallback: 'fallback' } },
      discovery: { apps: { fallback: 'http://127.0.0.1:9' } },
    });
    optimizer = await startOptimizer(config, {
      host: '127.0.0.1',
      port: 0,
      logger: createLogger('test', 'silent'),
    });
  });
  afterAll(async () => {
    await optimizer.close();
  });

  it('name only metrics a running optimizer exports (and kube-state-metrics restarts)', async () => {
    const res = await request(`${optimizer.url}/metrics`);
    const exposed = exposedNames(await res.body.text());
    const external = new Set(['kube_pod_container_status_restarts_total']);
    const named = alertRules('web', 'shop').flatMap((g) =>
      g.rules.flatMap((r) => metricNames(r.expr)),
    );
    expect(named.length).toBeGreaterThan(10);
    const missing = named.filter((n) => !exposed.has(n) && !external.has(n));
    expect(missing).toEqual([]);
  });
});
