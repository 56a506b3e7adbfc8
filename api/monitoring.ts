import { z } from 'zod';

// `spec.monitoring`: Prometheus Operator objects (monitoring.coreos.com/v1) the operator renders
// next to the workloads. Both need the Prometheus Operator's CRDs in the cluster; without them
// the CR reports Ready=False with reason PrometheusOperatorMissing and the rest still runs.

/** A Prometheus duration as the Prometheus Operator's CRDs accept it (`30s`, `1m30s`). */
const DurationSchema = z
  .string()
  .regex(
    /^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$/,
    'interval must be a Prometheus duration such as 15s, 30s or 1m',
  )
  .max(32);

/** Extra labels, e.g. the ones a Prometheus' podMonitorSelector or ruleSelector matches. */
const LabelsSchema = z.record(z.string().min(1).max(317), z.string().max(63));

export const PodMonitorSpecSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe('Render a PodMonitor that scrapes /metrics of the optimizer and gateway pods.'),
    interval: DurationSchema.optional().describe(
      "Scrape interval, a Prometheus duration (e.g. 30s). Default: the Prometheus' own scrapeInterval.",
    ),
    labels: LabelsSchema.optional().describe(
      "Labels added to the PodMonitor, e.g. those the Prometheus' podMonitorSelector matches (release: kube-prometheus-stack).",
    ),
  })
  .describe(
    'A monitoring.coreos.com/v1 PodMonitor named <name>-next-image scraping the optimizer (port http) and gateway (port admin) pods.',
  );
export type PodMonitorSpec = z.infer<typeof PodMonitorSpecSchema>;

export const PrometheusRuleSpecSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Render a PrometheusRule with the alerts of docs/runbooks.md (errors, miss latency, shedding, hit ratio, storage, restarts).',
      ),
    labels: LabelsSchema.optional().describe(
      "Labels added to the PrometheusRule, e.g. those the Prometheus' ruleSelector matches.",
    ),
  })
  .describe('A monitoring.coreos.com/v1 PrometheusRule named <name>-next-image.');
export type PrometheusRuleSpec = z.infer<typeof PrometheusRuleSpecSchema>;

export const MonitoringSpecSchema = z
  .strictObject({
    podMonitor: PodMonitorSpecSchema.prefault({}),
    prometheusRule: PrometheusRuleSpecSchema.prefault({}),
  })
  .describe(
    'Prometheus Operator objects for this ImageOptimizer; they need the monitoring.coreos.com CRDs. Default: none.',
  );
export type MonitoringSpec = z.infer<typeof MonitoringSpecSchema>;
