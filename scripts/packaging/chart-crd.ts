import { stringify } from 'yaml';
import { buildCrd } from '../../operator/crd/crd.ts';
import { type GeneratedFile, generatedHeader } from './generated.ts';

/** Where the chart's templated copy of the CRD lives. */
export const CHART_CRD_PATH =
  'charts/next-image-operator/templates/crds/imageoptimizers.nextimage.dev.yaml';

/**
 * The CRD as a Helm template: the same object as crds/ (built by operator/crd/crd.ts), behind
 * `crds.enabled`, labelled by the release and kept on uninstall when `crds.keep` is set.
 * Templated rather than in the chart's crds/ directory so `helm upgrade` updates it.
 */
export function chartCrd(): GeneratedFile {
  const crd = buildCrd() as {
    metadata: { name: string; labels?: Record<string, string> };
    spec: unknown;
  };
  const body = stringify({ spec: crd.spec }, { lineWidth: 0 });
  if (body.includes('{{') || body.includes('}}')) {
    throw new Error('the CRD holds "{{" or "}}", which Helm would read as template actions');
  }
  const labels = Object.entries(crd.metadata.labels ?? {})
    .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)
    .join('\n');
  const text = [
    generatedHeader(
      'api/image-optimizer.ts via operator/crd/crd.ts and scripts/packaging/chart-crd.ts',
      (l) => `{{- /* ${l} */}}`,
    ),
    '{{- if .Values.crds.enabled }}',
    'apiVersion: apiextensions.k8s.io/v1',
    'kind: CustomResourceDefinition',
    'metadata:',
    `  name: ${crd.metadata.name}`,
    '  labels:',
    labels,
    '    app.kubernetes.io/managed-by: {{ .Release.Service }}',
    '    app.kubernetes.io/instance: {{ .Release.Name }}',
    '    helm.sh/chart: {{ include "next-image-operator.chart" . }}',
    '  {{- if .Values.crds.keep }}',
    '  annotations:',
    '    helm.sh/resource-policy: keep',
    '  {{- end }}',
    `${body.trimEnd()}`,
    '{{- end }}',
    '',
  ].join('\n');
  return { path: CHART_CRD_PATH, text };
}
