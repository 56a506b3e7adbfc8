import { GENERATE_COMMAND, type GeneratedFile } from './generated.ts';

// The Grafana dashboard of next-image, written to docs/ and into the chart (delivered there as
// a ConfigMap with the grafana_dashboard sidecar label). Its queries select by the labels the
// PodMonitor of spec.monitoring.podMonitor adds (namespace, app_kubernetes_io_instance,
// app_kubernetes_io_component); test/chart/dashboard.cp.test.ts parses every query with the
// Prometheus parser and checks each metric against a running optimizer, gateway and operator.

export const DASHBOARD_PATHS = [
  'docs/grafana/next-image.json',
  'charts/next-image-operator/dashboards/next-image.json',
] as const;

const RATE = '$__rate_interval';
const INSTANCE = 'namespace="$namespace",app_kubernetes_io_instance="$instance"';
const OPT = `${INSTANCE},app_kubernetes_io_component="optimizer"`;
const GW = `${INSTANCE},app_kubernetes_io_component="gateway"`;
const OPERATOR = 'controller="imageoptimizer"';

interface Target {
  expr: string;
  legendFormat: string;
}
interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  targets: Target[];
}

const t = (expr: string, legendFormat: string): Target => ({ expr, legendFormat });
const p95 = (metric: string, by: string, selector: string): string =>
  `histogram_quantile(0.95, sum by (le, ${by}) (rate(${metric}_bucket{${selector}}[${RATE}])))`;

/** The panels, in rows of two. */
export const PANELS: PanelSpec[] = [
  {
    title: 'Requests through the gateway',
    description: 'Requests per second by application (optimizer, frontend, none).',
    unit: 'reqps',
    targets: [
      t(`sum by (application) (rate(gateway_requests_total{${GW}}[${RATE}]))`, '{{application}}'),
    ],
  },
  {
    title: 'Image responses by status',
    description: '/_next/image responses per second by HTTP status.',
    unit: 'reqps',
    targets: [
      t(`sum by (status) (rate(next_image_requests_total{${OPT}}[${RATE}]))`, '{{status}}'),
    ],
  },
  {
    title: 'Cache hit ratio',
    description: 'Share of lookups answered from the cache (HIT or STALE).',
    unit: 'percentunit',
    targets: [
      t(
        `sum(rate(next_image_cache_total{${OPT},result=~"HIT|STALE"}[${RATE}])) / sum(rate(next_image_cache_total{${OPT}}[${RATE}]))`,
        'hit ratio',
      ),
    ],
  },
  {
    title: 'Cache results',
    description: 'Lookups per second by result (HIT, STALE, MISS).',
    unit: 'ops',
    targets: [t(`sum by (result) (rate(next_image_cache_total{${OPT}}[${RATE}]))`, '{{result}}')],
  },
  {
    title: 'Source fetch p95',
    description: 'p95 time to fetch a source, all attempts, by source and outcome.',
    unit: 's',
    targets: [
      t(p95('next_image_fetch_duration_seconds', 'source, outcome', OPT), '{{source}} {{outcome}}'),
    ],
  },
  {
    title: 'Transform p95 by format',
    description: 'p95 sharp transform time (decode, resize, encode) by output format.',
    unit: 's',
    targets: [t(p95('next_image_transform_duration_seconds', 'format', OPT), '{{format}}')],
  },
  {
    title: 'Gateway upstream p95',
    description: 'p95 time from forwarding a request to the upstream response headers.',
    unit: 's',
    targets: [t(p95('gateway_upstream_duration_seconds', 'application', GW), '{{application}}')],
  },
  {
    title: 'Transform queue',
    description: 'Transforms waiting for a slot, running, and image jobs in flight (all pods).',
    unit: 'short',
    targets: [
      t(`sum(next_image_transform_queue_depth{${OPT}})`, 'waiting'),
      t(`sum(next_image_transforms_running{${OPT}})`, 'running'),
      t(`sum(next_image_jobs_in_flight{${OPT}})`, 'jobs in flight'),
    ],
  },
  {
    title: 'Shed requests',
    description:
      '/_next/image answered 503 or 429 per second (queue full, storage down, draining).',
    unit: 'reqps',
    targets: [
      t(
        `sum by (status) (rate(next_image_requests_total{${OPT},status=~"503|429"}[${RATE}]))`,
        '{{status}}',
      ),
    ],
  },
  {
    title: 'Transforms by format',
    description: 'Transforms per second by output format.',
    unit: 'ops',
    targets: [
      t(
        `sum by (format) (rate(next_image_transform_duration_seconds_count{${OPT}}[${RATE}]))`,
        '{{format}}',
      ),
    ],
  },
  {
    title: 'Image bytes',
    description: 'Bytes per second fetched from sources and sent to clients.',
    unit: 'Bps',
    targets: [
      t(`sum(rate(next_image_upstream_bytes_total{${OPT}}[${RATE}]))`, 'from sources'),
      t(`sum(rate(next_image_response_bytes_total{${OPT}}[${RATE}]))`, 'to clients'),
    ],
  },
  {
    title: 'Replicas',
    description: 'Running processes scraped, by component.',
    unit: 'short',
    targets: [
      t(
        `count by (app_kubernetes_io_component) (process_start_time_seconds{${INSTANCE}})`,
        '{{app_kubernetes_io_component}}',
      ),
    ],
  },
  {
    title: 'Storage',
    description: 'Storage reachable (1) per pod, and failed storage operations per second.',
    unit: 'short',
    targets: [
      t(`min by (type) (next_image_storage_up{${OPT}})`, 'up ({{type}})'),
      t(
        `sum by (operation) (rate(next_image_storage_errors_total{${OPT}}[${RATE}]))`,
        'errors ({{operation}})',
      ),
    ],
  },
  {
    title: 'Gateway upstream errors and retries',
    description: 'Requests that got no upstream response, and GET/HEAD retries, per second.',
    unit: 'reqps',
    targets: [
      t(
        `sum by (application, code) (rate(gateway_upstream_errors_total{${GW}}[${RATE}]))`,
        'error {{application}} {{code}}',
      ),
      t(
        `sum by (application) (rate(gateway_upstream_retries_total{${GW}}[${RATE}]))`,
        'retry {{application}}',
      ),
    ],
  },
  {
    title: 'Operator reconciles',
    description: 'Reconciles of ImageOptimizers per second by result (all operator replicas).',
    unit: 'ops',
    targets: [
      t(
        `sum by (result) (rate(controller_runtime_reconcile_total{${OPERATOR}}[${RATE}]))`,
        '{{result}}',
      ),
      t(`sum(rate(controller_runtime_reconcile_errors_total{${OPERATOR}}[${RATE}]))`, 'errors'),
    ],
  },
  {
    title: 'Operator work queue',
    description: 'ImageOptimizers waiting to be reconciled, and the leader.',
    unit: 'short',
    targets: [
      t(`sum(workqueue_depth{${OPERATOR}})`, 'queued'),
      t('max(leader_election_master_status)', 'leader'),
    ],
  },
];

/** Every query of the dashboard, as Grafana sends it before variable interpolation. */
export function dashboardQueries(): string[] {
  return PANELS.flatMap((panel) => panel.targets.map((target) => target.expr));
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template.
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

function variable(name: string, label: string, query: string): Record<string, unknown> {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query: { query, refId: `${name}-variable` },
    definition: query,
    refresh: 2,
    sort: 1,
    current: {},
  };
}

/** The Grafana dashboard model (schemaVersion 39). */
export function dashboard(): Record<string, unknown> {
  return {
    // First, so the file's first lines say what a comment would: JSON has none.
    description: `generated — do not edit. Source: scripts/packaging/dashboard.ts. Regenerate with: ${GENERATE_COMMAND}`,
    title: 'next-image',
    uid: 'next-image',
    tags: ['next-image'],
    schemaVersion: 39,
    editable: true,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: {},
        },
        variable('namespace', 'Namespace', 'label_values(next_image_requests_total, namespace)'),
        variable(
          'instance',
          'ImageOptimizer',
          'label_values(next_image_requests_total{namespace="$namespace"}, app_kubernetes_io_instance)',
        ),
      ],
    },
    panels: PANELS.map((panel, i) => ({
      id: i + 1,
      type: 'timeseries',
      title: panel.title,
      description: panel.description,
      datasource: DATASOURCE,
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
      options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
      targets: panel.targets.map((target, j) => ({
        datasource: DATASOURCE,
        expr: target.expr,
        legendFormat: target.legendFormat,
        refId: String.fromCharCode(65 + j),
      })),
    })),
  };
}

/** The dashboard JSON at each of its places. */
export function dashboardFiles(): GeneratedFile[] {
  const text = `${JSON.stringify(dashboard(), null, 2)}\n`;
  return DASHBOARD_PATHS.map((path) => ({ path, text }));
}
