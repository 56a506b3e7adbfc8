import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/logger.ts';
import type { RunningServer } from '../../lib/server.ts';
import type { RunningOperator } from '../../operator/manager.ts';
import {
  installCrd,
  KubeClient,
  startTestOperator,
  testOperatorConfig,
} from '../../operator/test-support/control-plane.ts';
import { resolveOptimizerConfig } from '../../optimizer/config.ts';
import { startOptimizer } from '../../optimizer/server.ts';
import { resolveGatewayConfig } from '../../proxy/config.ts';
import { type RunningGateway, startGateway } from '../../proxy/server.ts';
import { dashboard, dashboardQueries } from '../../scripts/packaging/dashboard.ts';
import {
  ensureMonitoringTools,
  MONITORING_BUILD_TIMEOUT_MS,
  promqlMetricNames,
} from '../control-plane/monitoring-tools.ts';
import { freshNamespace, testKubeConfig } from '../control-plane/test-cluster.ts';
import { ROOT } from '../package/install.ts';
import { only, template } from './helm.ts';

// No dead panels: every query of the Grafana dashboard is parsed by the Prometheus parser
// (promql-metrics, built with promtool) and each metric it names must be in the /metrics of a
// running optimizer, gateway or operator (the operator on the test control plane).

const namespace = await freshNamespace('dashboard');
const logger = createLogger('dashboard-test', 'silent');
let optimizer: RunningServer;
let gateway: RunningGateway;
let operator: RunningOperator;

/** Sample names an exposition offers: each `# TYPE`, histograms with their three series. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (name === undefined) continue;
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  return names;
}

const scrape = async (url: string): Promise<Set<string>> =>
  exposedNames(await (await request(`${url}/metrics`)).body.text());

/** The queries as Grafana sends them: its interval variable replaced, label variables kept. */
function promql(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m');
}

/** The selector inside each `label_values(selector, label)` variable query. */
function variableSelectors(): string[] {
  const list = (dashboard().templating as { list: Array<{ definition?: string }> }).list;
  return list.flatMap((v) => {
    const match = /^label_values\((.+),\s*\w+\)$/.exec(v.definition ?? '');
    return match?.[1] === undefined ? [] : [match[1]];
  });
}

beforeAll(async () => {
  await ensureMonitoringTools();
  optimizer = await startOptimizer(
    resolveOptimizerConfig({
      next: { imageOptimizer: { fallback: 'fallback' } },
      discovery: { apps: { fallback: 'http://127.0.0.1:9' } },
    }),
    { host: '127.0.0.1', port: 0, logger },
  );
  gateway = await startGateway(
    resolveGatewayConfig({
      gateway: {
        applications: [
          { id: 'optimizer', proxy: { prefix: '/', routes: ['/_next/image'], methods: ['GET'] } },
          { id: 'frontend', proxy: { prefix: '/', routes: ['/*'] } },
        ],
      },
      discovery: { apps: { optimizer: optimizer.url, frontend: 'http://127.0.0.1:9' } },
    }),
    { host: '127.0.0.1', port: 0, adminPort: 0, logger },
  );
  const kc = testKubeConfig();
  await installCrd(new KubeClient(kc));
  operator = await startTestOperator(kc, testOperatorConfig([namespace]));
}, MONITORING_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([optimizer?.close(), gateway?.close(), operator?.stop()]);
});

describe('the Grafana dashboard', () => {
  it('has the panels the issue lists', () => {
    const titles = (dashboard().panels as Array<{ title: string }>).map((p) => p.title);
    for (const wanted of [/Requests/, /hit ratio/, /p95/, /queue/, /Shed/, /format/, /Replicas/])
      expect(
        titles.some((t) => wanted.test(t)),
        String(wanted),
      ).toBe(true);
  });

  it('queries only metrics a running optimizer, gateway or operator exports', async () => {
    const exported = new Set([
      ...(await scrape(optimizer.url)),
      ...(await scrape(gateway.adminUrl)),
      ...(await scrape(operator.metrics.url)),
    ]);
    const queries = [...dashboardQueries(), ...variableSelectors()].map(promql);
    const names = await promqlMetricNames(queries);
    expect(names.flat().length).toBeGreaterThan(queries.length - 1);
    const dead = queries.flatMap((q, i) =>
      (names[i] ?? []).filter((n) => !exported.has(n)).map((n) => `${n} in ${q}`),
    );
    expect(dead).toEqual([]);
  });

  it('a query naming an unexported metric would be caught', async () => {
    const [names] = await promqlMetricNames(['sum(rate(next_image_no_such_total{a="b"}[5m]))']);
    expect(names).toEqual(['next_image_no_such_total']);
    await expect(promqlMetricNames(['sum(rate(x[$__rate_interval]))'])).rejects.toThrow(
      /does not parse/,
    );
  });

  it('is the same JSON in docs/ and in the chart ConfigMap, which carries the sidecar label', async () => {
    const docs = await readFile(join(ROOT, 'docs', 'grafana', 'next-image.json'), 'utf8');
    expect(JSON.parse(docs)).toEqual(dashboard());
    const manifests = await template('nio', 'nio-system', [
      '--set',
      'grafanaDashboard.enabled=true',
    ]);
    const configMap = only(
      manifests,
      'ConfigMap',
      'nio-next-image-operator-dashboard',
    ) as unknown as {
      metadata: { labels: Record<string, string> };
      data: Record<string, string>;
    };
    expect(configMap.metadata.labels.grafana_dashboard).toBe('1');
    expect(JSON.parse(configMap.data['next-image.json'] ?? '')).toEqual(dashboard());
    expect(
      (await template('nio', 'nio-system')).some((m) => m.metadata.name.endsWith('-dashboard')),
    ).toBe(false);
  });
});
