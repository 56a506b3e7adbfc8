import { stringify } from 'yaml';
import {
  LEADER_ELECTION_RULES,
  METRICS_AUTH_RULES,
  METRICS_READER_RULES,
  OPERATOR_RULES,
  type PolicyRule,
} from '../../operator/rbac.ts';
import { type GeneratedFile, generatedHeader } from './generated.ts';

/** Where the chart's RBAC rules live, as named templates the Role templates include. */
export const CHART_RBAC_PATH = 'charts/next-image-operator/templates/_rbac-rules.tpl';

function define(name: string, rules: readonly PolicyRule[] | typeof METRICS_READER_RULES): string {
  const yaml = stringify(rules, { lineWidth: 0 }).trimEnd();
  if (yaml.includes('{{')) throw new Error(`RBAC rules for ${name} hold "{{"`);
  return `{{- define "next-image-operator.rbac.${name}" -}}\n${yaml}\n{{- end -}}`;
}

/**
 * The operator's RBAC rules (operator/rbac.ts) as Helm named templates: managerRules go in
 * the ClusterRole (cluster-wide) or a Role per watched namespace, leaderElectionRules in a
 * Role in the release namespace. The control-plane tests run the operator with exactly these.
 */
export function chartRbac(): GeneratedFile {
  const text = [
    generatedHeader(
      'operator/rbac.ts via scripts/packaging/chart-rbac.ts',
      (l) => `{{- /* ${l} */}}`,
    ),
    define('managerRules', OPERATOR_RULES),
    '',
    define('leaderElectionRules', LEADER_ELECTION_RULES),
    '',
    define('metricsAuthRules', METRICS_AUTH_RULES),
    '',
    define('metricsReaderRules', METRICS_READER_RULES),
    '',
  ].join('\n');
  return { path: CHART_RBAC_PATH, text };
}
