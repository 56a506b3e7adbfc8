import { beforeAll, describe, expect, it } from 'vitest';
import {
  ensureMonitoringTools,
  MONITORING_BUILD_TIMEOUT_MS,
  promtool,
} from '../../test/control-plane/monitoring-tools.ts';
import { type AlertRule, alertRules, runbookUrl } from './monitoring.ts';

// The rendered alert rules through the real promtool (built from the Prometheus Go module by
// test/control-plane/build-monitoring.sh): `check rules`, and `test rules` with one unit test
// per alert that it fires on the input series given and stays silent on healthy ones.

const NS = 'web';
const CR = 'shop';
const POD = 'shop-optimizer-7d9c5b8f6-x2x9q';
const S = `namespace="${NS}",pod="${POD}"`;
const groups = alertRules(NS, CR);
const rules = groups.flatMap((g) => g.rules);
const byName = (alert: string): AlertRule => {
  const rule = rules.find((r) => r.alert === alert);
  if (rule === undefined) throw new Error(`no rule ${alert}`);
  return rule;
};

interface AlertCase {
  alert: string;
  /** promtool input_series: series → values in promtool's expanding notation (1m apart). */
  firing: Record<string, string>;
  healthy: Record<string, string>;
  evalTime: string;
  labels?: Record<string, string>;
  summary: string;
  description: string;
}

const histogram = (metric: string, labels: string, le: string): Record<string, string> => {
  const bucket = (bound: string, values: string) => ({
    [`${metric}_bucket{${S},${labels},le="${bound}"}`]: values,
  });
  // Every observation in the bucket ending at `le`, none below it.
  return {
    ...bucket('0.1', le === '0.1' ? '0+6x30' : '0x30'),
    ...bucket(le, '0+6x30'),
    ...bucket('+Inf', '0+6x30'),
  };
};

const CASES: AlertCase[] = [
  {
    alert: 'NextImageErrorRatioHigh',
    firing: {
      [`next_image_requests_total{${S},status="200"}`]: '0+80x30',
      [`next_image_requests_total{${S},status="502"}`]: '0+10x30',
      [`next_image_requests_total{${S},status="503"}`]: '0+10x30',
    },
    healthy: {
      [`next_image_requests_total{${S},status="200"}`]: '0+80x30',
      [`next_image_requests_total{${S},status="503"}`]: '0+20x30',
    },
    evalTime: '20m',
    summary: "More than 5% of web/shop's image requests fail with a 5xx",
    description: '10% of /_next/image responses are 5xx (503 shedding not counted).',
  },
  {
    alert: 'NextImageMissLatencyHigh',
    firing: {
      ...histogram('next_image_fetch_duration_seconds', 'source="internal",outcome="ok"', '2.5'),
      ...histogram('next_image_transform_duration_seconds', 'format="image/webp"', '2.5'),
    },
    healthy: {
      ...histogram('next_image_fetch_duration_seconds', 'source="internal",outcome="ok"', '0.1'),
      ...histogram('next_image_transform_duration_seconds', 'format="image/webp"', '0.1'),
    },
    evalTime: '25m',
    summary: 'Cache misses of web/shop take more than 2s at p95',
    // 0.1 + 0.95 × (2.5 − 0.1) = 2.38 for each stage.
    description: 'p95 source fetch plus p95 transform is 4.76s.',
  },
  {
    alert: 'NextImageShedding',
    firing: {
      [`next_image_requests_total{${S},status="200"}`]: '0+90x30',
      [`next_image_requests_total{${S},status="503"}`]: '0+10x30',
    },
    healthy: {
      [`next_image_requests_total{${S},status="200"}`]: '0+995x30',
      [`next_image_requests_total{${S},status="503"}`]: '0+5x30',
    },
    evalTime: '15m',
    summary: 'web/shop sheds more than 1% of image requests with 503',
    description:
      '10% of /_next/image responses are 503 (transform queue full, storage unavailable or shutting down).',
  },
  {
    alert: 'NextImageQueueSaturated',
    firing: { [`next_image_transform_queue_depth{${S}}`]: '3x30' },
    healthy: {
      [`next_image_transform_queue_depth{${S}}`]:
        '3 3 3 3 3 3 3 3 3 3 3 3 0 3 3 3 3 3 3 3 3 3 3 3 3 3',
    },
    evalTime: '25m',
    labels: { namespace: NS, pod: POD },
    summary: `The transform queue of ${POD} (web/shop) has not been empty for 15 minutes`,
    description: 'At least 3 transforms have been waiting for a slot the whole time.',
  },
  {
    alert: 'NextImageCacheHitRatioCollapsed',
    // A day at 90% hits, then 40 minutes at 20%.
    firing: {
      [`next_image_cache_total{${S},result="HIT"}`]: '0+90x1440 129620+20x39',
      [`next_image_cache_total{${S},result="MISS"}`]: '0+10x1440 14480+80x39',
    },
    healthy: {
      [`next_image_cache_total{${S},result="HIT"}`]: '0+90x1480',
      [`next_image_cache_total{${S},result="MISS"}`]: '0+10x1480',
    },
    evalTime: '1480m',
    summary: 'The cache hit ratio of web/shop fell below half of its daily average',
    description: 'Hits (HIT or STALE) are 20% of cache lookups over the last 15 minutes.',
  },
  {
    alert: 'NextImageValkeyUnreachable',
    firing: { [`next_image_storage_up{${S},type="redis"}`]: '1 1 0x10' },
    healthy: {
      [`next_image_storage_up{${S},type="redis"}`]: '1x12',
      // Not an optimizer pod of this CR.
      [`next_image_storage_up{namespace="${NS}",pod="shop-gateway-7d9c5b8f6-x2x9q",type="redis"}`]:
        '0x12',
    },
    evalTime: '10m',
    labels: { namespace: NS, pod: POD, type: 'redis' },
    summary: `${POD} (web/shop) cannot reach its Redis/Valkey`,
    description:
      'The shared cache is down for this pod: every request is a miss and single-flight is per pod.',
  },
  {
    alert: 'NextImageStorageErrors',
    firing: { [`next_image_storage_errors_total{${S},operation="write"}`]: '0+30x30' },
    healthy: { [`next_image_storage_errors_total{${S},operation="write"}`]: '0+1x30' },
    evalTime: '20m',
    labels: { operation: 'write' },
    summary: 'Storage writes of web/shop fail',
    description: '0.50 storage write operations fail per second.',
  },
  {
    alert: 'NextImagePodRestarting',
    firing: {
      [`kube_pod_container_status_restarts_total{namespace="${NS}",pod="${POD}",container="optimizer"}`]:
        '0+1x30',
    },
    healthy: {
      [`kube_pod_container_status_restarts_total{namespace="${NS}",pod="${POD}",container="optimizer"}`]:
        '0x30',
      // A pod of another CR, named shop-optimizer: not ours.
      [`kube_pod_container_status_restarts_total{namespace="${NS}",pod="shop-optimizer-optimizer-7d9c5b8f6-x2x9q",container="optimizer"}`]:
        '0+1x30',
    },
    evalTime: '20m',
    labels: { namespace: NS, pod: POD, container: 'optimizer' },
    summary: `${POD} (web/shop) restarted more than twice in 15 minutes`,
    description: 'Container optimizer restarted 15 times in 15 minutes.',
  },
];

const inputSeries = (series: Record<string, string>) =>
  Object.entries(series).map(([s, values]) => ({ series: s, values }));

function unitTests(): unknown {
  return {
    rule_files: ['rules.yaml'],
    evaluation_interval: '1m',
    tests: CASES.flatMap((c) => {
      const rule = byName(c.alert);
      return [
        {
          name: `${c.alert} fires`,
          interval: '1m',
          input_series: inputSeries(c.firing),
          alert_rule_test: [
            {
              eval_time: c.evalTime,
              alertname: c.alert,
              exp_alerts: [
                {
                  exp_labels: { ...c.labels, ...rule.labels },
                  exp_annotations: {
                    summary: c.summary,
                    description: c.description,
                    runbook_url: runbookUrl(c.alert),
                  },
                },
              ],
            },
          ],
        },
        {
          name: `${c.alert} stays silent`,
          interval: '1m',
          input_series: inputSeries(c.healthy),
          alert_rule_test: [{ eval_time: c.evalTime, alertname: c.alert, exp_alerts: [] }],
        },
      ];
    }),
  };
}

describe('the PrometheusRule alerts through promtool', () => {
  beforeAll(async () => {
    await ensureMonitoringTools();
  }, MONITORING_BUILD_TIMEOUT_MS);

  it('has a unit test for every alert', () => {
    expect(CASES.map((c) => c.alert).sort()).toEqual(rules.map((r) => r.alert).sort());
  });

  it('pass promtool check rules', async () => {
    const result = await promtool(['check', 'rules', 'rules.yaml'], {
      'rules.yaml': { groups },
    });
    expect(result.stderr + result.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(result.code, result.stderr).toBe(0);
  });

  it('fire on their input series and stay silent on healthy ones (promtool test rules)', async () => {
    const result = await promtool(['test', 'rules', 'tests.yaml'], {
      'rules.yaml': { groups },
      'tests.yaml': unitTests(),
    });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain('SUCCESS');
  });

  it('a wrong expectation fails promtool test rules (the tests can fail)', async () => {
    const tests = unitTests() as {
      tests: Array<{ alert_rule_test: Array<{ exp_alerts: unknown[] }> }>;
    };
    const first = tests.tests[1]?.alert_rule_test[0]; // "NextImageErrorRatioHigh stays silent"
    first?.exp_alerts.push({ exp_labels: { severity: 'critical' } });
    const result = await promtool(['test', 'rules', 'tests.yaml'], {
      'rules.yaml': { groups },
      'tests.yaml': tests,
    });
    expect(result.code).not.toBe(0);
  });
});
