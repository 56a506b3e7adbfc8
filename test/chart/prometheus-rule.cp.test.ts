import { beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../operator/metrics.ts';
import {
  ensureMonitoringTools,
  MONITORING_BUILD_TIMEOUT_MS,
  promtool,
} from '../control-plane/monitoring-tools.ts';
import { type Manifest, only, template } from './helm.ts';

// The chart's PrometheusRule (metrics.prometheusRule.enabled) for the operator itself: off by
// default, valid for promtool, and its alert fires on reconcile errors of this release only.

interface Rule {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
const groupsOf = (m: Manifest) =>
  (m as unknown as { spec: { groups: Array<{ rules: Rule[] }> } }).spec.groups;

describe('the chart PrometheusRule', () => {
  let manifests: Manifest[];
  beforeAll(async () => {
    await ensureMonitoringTools();
    manifests = await template('nio', 'nio-system', [
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--set',
      'metrics.prometheusRule.labels.release=prom',
    ]);
  }, MONITORING_BUILD_TIMEOUT_MS);

  it('is rendered only when asked, with the extra labels', async () => {
    expect((await template('nio', 'nio-system')).some((m) => m.kind === 'PrometheusRule')).toBe(
      false,
    );
    expect(only(manifests, 'PrometheusRule').metadata.labels?.release).toBe('prom');
  });

  it('names only metrics the operator exports', async () => {
    const exported = (await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
    for (const rule of groupsOf(only(manifests, 'PrometheusRule')).flatMap((g) => g.rules))
      for (const [, name] of rule.expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g))
        expect(exported).toContain(name);
  });

  it('passes promtool check rules and fires on reconcile errors of this release only', async () => {
    const groups = groupsOf(only(manifests, 'PrometheusRule'));
    const service = only(manifests, 'Service', 'nio-next-image-operator-metrics').metadata.name;
    const checked = await promtool(['check', 'rules', 'rules.yaml'], { 'rules.yaml': { groups } });
    expect(checked.code, checked.stderr).toBe(0);
    const rule = groups[0]?.rules[0] as Rule;
    const errors = (svc: string) =>
      `controller_runtime_reconcile_errors_total{controller="imageoptimizer",namespace="nio-system",service="${svc}"}`;
    const tests = {
      rule_files: ['rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: errors(service), values: '0+1x30' },
            { series: errors('other-release-metrics'), values: '0+5x30' },
          ],
          alert_rule_test: [
            {
              eval_time: '25m',
              alertname: rule.alert,
              exp_alerts: [
                {
                  exp_labels: { ...rule.labels, namespace: 'nio-system', service },
                  exp_annotations: rule.annotations,
                },
              ],
            },
          ],
        },
        {
          interval: '1m',
          input_series: [{ series: errors(service), values: '0x30' }],
          alert_rule_test: [{ eval_time: '25m', alertname: rule.alert, exp_alerts: [] }],
        },
      ],
    };
    const tested = await promtool(['test', 'rules', 'tests.yaml'], {
      'rules.yaml': { groups },
      'tests.yaml': tests,
    });
    expect(tested.code, `${tested.stdout}\n${tested.stderr}`).toBe(0);
  });
});
