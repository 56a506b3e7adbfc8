import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import type { ImageOptimizer } from '../../api/image-optimizer.ts';
import { LABELS, MANAGED_BY, ownerReference, selectorLabels } from './names.ts';

// spec.monitoring → Prometheus Operator objects. The alert expressions name only metrics the
// optimizer exports (optimizer/metrics.ts, optimizer/storage/metrics.ts) and kube-state-metrics'
// restart counter; monitoring.test.ts checks every name against the real registries and
// monitoring.promtool.test.ts runs promtool's checks and unit tests on the rendered groups.

export const MONITORING_API_VERSION = 'monitoring.coreos.com/v1';
/** Where each alert's runbook_url points: a section of docs/runbooks.md. */
export const RUNBOOK_BASE_URL =
  'https://github.com/next-image-operator/next-image-operator/blob/main/docs/runbooks.md';

/** The one name of both monitoring objects of a CR. */
export function monitoringName(cr: string): string {
  return `${cr}-next-image`;
}

/** The runbook section of an alert: docs/runbooks.md has one heading per alert name. */
export function runbookUrl(alert: string): string {
  return `${RUNBOOK_BASE_URL}#${alert.toLowerCase()}`;
}

/** One alerting rule, as a PrometheusRule (and a Prometheus rule file) holds it. */
export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string; runbook_url: string };
}

/** A rule group of a PrometheusRule. */
export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

function meta(cr: ImageOptimizer, extra: Record<string, string> | undefined): V1ObjectMeta {
  const labels: Record<string, string> = {
    ...extra,
    [LABELS.name]: 'next-image',
    [LABELS.instance]: cr.metadata.name,
    [LABELS.managedBy]: MANAGED_BY,
  };
  const m: V1ObjectMeta = { name: monitoringName(cr.metadata.name), labels };
  if (cr.metadata.namespace !== undefined) m.namespace = cr.metadata.namespace;
  const owners = ownerReference(cr);
  if (owners !== undefined) m.ownerReferences = owners;
  return m;
}

/** The PodMonitor of a CR: the optimizer's /metrics on port http, the gateway's on port admin. */
export function podMonitor(cr: ImageOptimizer): KubernetesObject | undefined {
  const spec = cr.spec.monitoring.podMonitor;
  if (!spec.enabled) return undefined;
  const { [LABELS.component]: _component, ...instance } = selectorLabels(
    cr.metadata.name,
    'optimizer',
  );
  const interval = spec.interval === undefined ? {} : { interval: spec.interval };
  // The gateway has a port named http too (traffic, proxied to the frontend): keep only
  // optimizer pods on that endpoint.
  const onlyComponent = (component: string) => [
    {
      sourceLabels: ['__meta_kubernetes_pod_label_app_kubernetes_io_component'],
      regex: component,
      action: 'keep',
    },
  ];
  return {
    apiVersion: MONITORING_API_VERSION,
    kind: 'PodMonitor',
    metadata: meta(cr, spec.labels),
    spec: {
      selector: {
        matchLabels: instance,
        matchExpressions: [
          { key: LABELS.component, operator: 'In', values: ['optimizer', 'gateway'] },
        ],
      },
      podTargetLabels: [LABELS.component, LABELS.instance],
      podMetricsEndpoints: [
        { port: 'http', path: '/metrics', ...interval, relabelings: onlyComponent('optimizer') },
        { port: 'admin', path: '/metrics', ...interval, relabelings: onlyComponent('gateway') },
      ],
    },
  } as KubernetesObject;
}

/** The PromQL selector of one component's pods of a CR (Deployment pods: <name>-<hash>-<id>). */
export function podSelector(namespace: string, cr: string, components: string): string {
  return `namespace="${namespace}",pod=~"${cr}-${components}-[a-z0-9]+-[a-z0-9]+"`;
}

/** The alert rules of one CR, in the order of docs/runbooks.md. */
export function alertRules(namespace: string, cr: string): RuleGroup[] {
  const s = podSelector(namespace, cr, 'optimizer');
  const of = `${namespace}/${cr}`;
  const rate = (metric: string, filter = '', range = '5m'): string =>
    `sum(rate(${metric}{${s}${filter}}[${range}]))`;
  const requests = rate('next_image_requests_total');
  const p95 = (metric: string): string =>
    `histogram_quantile(0.95, sum by (le) (rate(${metric}_bucket{${s}}[5m])))`;
  const hitRatio = (range: string): string =>
    `(${rate('next_image_cache_total', ',result=~"HIT|STALE"', range)} / ${rate('next_image_cache_total', '', range)})`;
  const rule = (
    alert: string,
    severity: string,
    forDuration: string | undefined,
    expr: string,
    summary: string,
    description: string,
  ): AlertRule => ({
    alert,
    expr,
    ...(forDuration === undefined ? {} : { for: forDuration }),
    labels: { severity },
    annotations: { summary, description, runbook_url: runbookUrl(alert) },
  });
  return [
    {
      name: `next-image.${namespace}.${cr}`,
      rules: [
        rule(
          'NextImageErrorRatioHigh',
          'critical',
          '10m',
          `(${rate('next_image_requests_total', ',status=~"5..",status!="503"')} / ${requests}) > 0.05`,
          `More than 5% of ${of}'s image requests fail with a 5xx`,
          '{{ $value | humanizePercentage }} of /_next/image responses are 5xx (503 shedding not counted).',
        ),
        rule(
          'NextImageMissLatencyHigh',
          'warning',
          '15m',
          `(${p95('next_image_fetch_duration_seconds')} + ${p95('next_image_transform_duration_seconds')}) > 2`,
          `Cache misses of ${of} take more than 2s at p95`,
          'p95 source fetch plus p95 transform is {{ $value | humanizeDuration }}.',
        ),
        rule(
          'NextImageShedding',
          'warning',
          '5m',
          `(${rate('next_image_requests_total', ',status="503"')} / ${requests}) > 0.01`,
          `${of} sheds more than 1% of image requests with 503`,
          '{{ $value | humanizePercentage }} of /_next/image responses are 503 (transform queue full, storage unavailable or shutting down).',
        ),
        rule(
          'NextImageQueueSaturated',
          'warning',
          '5m',
          `min_over_time(next_image_transform_queue_depth{${s}}[10m]) > 0`,
          `The transform queue of {{ $labels.pod }} (${of}) has not been empty for 15 minutes`,
          'At least {{ $value }} transforms have been waiting for a slot the whole time.',
        ),
        rule(
          'NextImageCacheHitRatioCollapsed',
          'warning',
          '15m',
          `(${hitRatio('15m')} < 0.5 * ${hitRatio('1d')}) and ${rate('next_image_cache_total', '', '15m')} > 0.1`,
          `The cache hit ratio of ${of} fell below half of its daily average`,
          'Hits (HIT or STALE) are {{ $value | humanizePercentage }} of cache lookups over the last 15 minutes.',
        ),
        rule(
          'NextImageValkeyUnreachable',
          'critical',
          '2m',
          `next_image_storage_up{${s},type="redis"} == 0`,
          `{{ $labels.pod }} (${of}) cannot reach its Redis/Valkey`,
          'The shared cache is down for this pod: every request is a miss and single-flight is per pod.',
        ),
        rule(
          'NextImageStorageErrors',
          'warning',
          '10m',
          `sum by (operation) (rate(next_image_storage_errors_total{${s}}[5m])) > 0.1`,
          `Storage {{ $labels.operation }}s of ${of} fail`,
          '{{ printf "%.2f" $value }} storage {{ $labels.operation }} operations fail per second.',
        ),
        rule(
          'NextImagePodRestarting',
          'warning',
          undefined,
          `increase(kube_pod_container_status_restarts_total{${podSelector(namespace, cr, '(optimizer|gateway)')}}[15m]) > 2`,
          `{{ $labels.pod }} (${of}) restarted more than twice in 15 minutes`,
          'Container {{ $labels.container }} restarted {{ printf "%.0f" $value }} times in 15 minutes.',
        ),
      ],
    },
  ];
}

/** The PrometheusRule of a CR. */
export function prometheusRule(cr: ImageOptimizer): KubernetesObject | undefined {
  const spec = cr.spec.monitoring.prometheusRule;
  if (!spec.enabled) return undefined;
  return {
    apiVersion: MONITORING_API_VERSION,
    kind: 'PrometheusRule',
    metadata: meta(cr, spec.labels),
    spec: { groups: alertRules(cr.metadata.namespace ?? 'default', cr.metadata.name) },
  } as KubernetesObject;
}
