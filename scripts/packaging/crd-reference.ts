import { KUBERNETES_TYPED_FIELDS } from '../../api/pod-settings.ts';
import { buildCrd } from '../../operator/crd/crd.ts';
import { type GeneratedFile, generatedHeader } from './generated.ts';

/** Where the CRD configuration reference lives. */
export const CRD_REFERENCE_PATH = 'docs/crd-reference.md';

type Node = { [key: string]: unknown };
interface Row {
  path: string;
  node: Node;
  required: boolean;
}
interface Validation {
  rule: string;
  message: string;
  fieldPath?: string;
}

const MAX_PATTERN = 60;

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Escapes prose for a Markdown table cell. */
function cell(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');
}

/** A code span in a table cell: only the cell separator needs escaping there (GFM). */
const span = (text: string): string => `\`${text.replace(/\|/g, '\\|').replace(/\n/g, ' ')}\``;
const code = (value: unknown): string => span(JSON.stringify(value));

function typeOf(node: Node): string {
  if (node['x-kubernetes-int-or-string'] === true) return 'integer or string';
  if (node.type === 'array' && isNode(node.items)) return `array of ${typeOf(node.items)}`;
  if (node.type === 'object' && isNode(node.additionalProperties)) {
    return `map of ${typeOf(node.additionalProperties)}`;
  }
  return typeof node.type === 'string' ? node.type : 'any';
}

/** Bounds, enums and patterns in words. */
function constraints(node: Node): string[] {
  const out: string[] = [];
  if (Array.isArray(node.enum)) out.push(`one of ${node.enum.map((v) => code(v)).join(', ')}`);
  const range = (min: unknown, max: unknown, unit: string): void => {
    if (min !== undefined && max !== undefined) out.push(`${unit}${String(min)}..${String(max)}`);
    else if (min !== undefined) out.push(`${unit}≥ ${String(min)}`);
    else if (max !== undefined) out.push(`${unit}≤ ${String(max)}`);
  };
  range(node.minimum, node.maximum, '');
  range(node.minLength, node.maxLength, 'length ');
  range(node.minItems, node.maxItems, 'items ');
  if (typeof node.pattern === 'string') {
    out.push(
      node.pattern.length <= MAX_PATTERN
        ? `matches ${span(node.pattern)}`
        : 'matches the pattern in the CRD',
    );
  }
  return out;
}

/** Every field under `node`, depth first, in schema order. */
function rows(node: Node, path: string, required: boolean, out: Row[]): Row[] {
  const k8sType = KUBERNETES_TYPED_FIELDS[/\.pod\.(\w+)$/.exec(path)?.[1] ?? ''];
  if (k8sType !== undefined) {
    // A Kubernetes type: its fields are a Pod's, listed by kubectl explain, not repeated here.
    const note = `Kubernetes core/v1 ${k8sType}; \`kubectl explain imageoptimizer.${path}\` lists its fields.`;
    out.push({
      path,
      node: { ...node, description: `${String(node.description)} ${note}` },
      required,
    });
    return out;
  }
  out.push({ path, node, required });
  const target = node.type === 'array' && isNode(node.items) ? node.items : node;
  const prefix = node.type === 'array' ? `${path}[]` : path;
  if (isNode(target.properties)) {
    const req = new Set(Array.isArray(target.required) ? (target.required as string[]) : []);
    for (const [key, child] of Object.entries(target.properties)) {
      if (isNode(child)) rows(child, `${prefix}.${key}`, req.has(key), out);
    }
  }
  return out;
}

function rowLine(row: Row): string {
  const description = typeof row.node.description === 'string' ? row.node.description : '';
  const notes = [...(row.required ? ['**required**'] : []), ...constraints(row.node)];
  // Constraints are already cell-safe (code spans); only the prose is escaped here.
  const text = [cell(description), notes.join('; ')].filter((t) => t !== '').join(' — ');
  const defaultValue = row.node.default === undefined ? '' : code(row.node.default);
  return `| \`${row.path}\` | ${cell(typeOf(row.node))} | ${defaultValue} | ${text} |`;
}

function table(list: Row[]): string[] {
  return ['| Field | Type | Default | Description |', '|---|---|---|---|', ...list.map(rowLine)];
}

function validations(node: Node, path: string, out: Array<Validation & { at: string }>): void {
  if (Array.isArray(node['x-kubernetes-validations'])) {
    for (const v of node['x-kubernetes-validations'] as Validation[]) out.push({ ...v, at: path });
  }
  const target = node.type === 'array' && isNode(node.items) ? node.items : node;
  if (isNode(target.properties)) {
    for (const [key, child] of Object.entries(target.properties)) {
      if (isNode(child))
        validations(child, `${path}${node.type === 'array' ? '[]' : ''}.${key}`, out);
    }
  }
}

/** docs/crd-reference.md: every field of the ImageOptimizer CRD, from the generated schema. */
export function crdReference(): GeneratedFile {
  const crd = buildCrd() as {
    metadata: { name: string };
    spec: {
      group: string;
      scope: string;
      names: { kind: string; plural: string; shortNames?: string[] };
      versions: Array<{
        name: string;
        additionalPrinterColumns?: Array<{ name: string; jsonPath: string; priority?: number }>;
        schema: { openAPIV3Schema: Node };
      }>;
    };
  };
  const version = crd.spec.versions[0];
  if (version === undefined) throw new Error('the CRD has no version');
  const root = version.schema.openAPIV3Schema;
  const props = root.properties as Node;
  const spec = props.spec as Node;
  const status = props.status as Node;
  const { kind, plural, shortNames = [] } = crd.spec.names;

  const rules: Array<Validation & { at: string }> = [];
  validations(root, '', rules);
  const specSections = Object.entries(spec.properties as Node).filter((e): e is [string, Node] =>
    isNode(e[1]),
  );
  const specRequired = new Set((spec.required as string[] | undefined) ?? []);

  const lines = [
    generatedHeader(
      'api/image-optimizer.ts via operator/crd/crd.ts and scripts/packaging/crd-reference.ts',
      (l) => `<!-- ${l} -->`,
    ),
    '',
    `# ${kind} reference`,
    '',
    `\`apiVersion: ${crd.spec.group}/${version.name}\`, \`kind: ${kind}\` — ${crd.spec.scope.toLowerCase()}; ` +
      `\`kubectl get ${plural}\` or \`kubectl get ${shortNames.join(', ')}\`. ` +
      '`kubectl explain imageoptimizer.spec` prints the same descriptions.',
    '',
    typeof root.description === 'string' ? root.description : '',
    '',
    'Defaults live in the CRD schema, so the API server fills them in: what you apply is what ' +
      'Argo CD and `kubectl diff` compare, and the operator never writes `spec`.',
    '',
    '## Contents',
    '',
    ...specSections.map(([key]) => `- [spec.${key}](#spec${key.toLowerCase()})`),
    '- [status](#status)',
    '- [Validation rules](#validation-rules)',
    '- [Columns](#columns)',
    '',
  ];
  for (const [key, node] of specSections) {
    lines.push(`## spec.${key}`, '');
    lines.push(...table(rows(node, `spec.${key}`, specRequired.has(key), [])), '');
  }
  lines.push('## status', '', 'Written by the operator only.', '');
  lines.push(...table(rows(status, 'status', false, []).slice(1)), '');
  lines.push(
    '## Validation rules',
    '',
    'Checked by the API server (CEL `x-kubernetes-validations`); a violating object is ' +
      'rejected with the message shown.',
    '',
    '| On | Rule | Message |',
    '|---|---|---|',
    ...rules.map(
      (r) => `| \`${r.at === '' ? kind : r.at.slice(1)}\` | ${span(r.rule)} | ${cell(r.message)} |`,
    ),
    '',
    '## Columns',
    '',
    `\`kubectl get ${plural}\` shows these (\`-o wide\` adds those with priority 1).`,
    '',
    '| Column | From | Priority |',
    '|---|---|---|',
    ...(version.additionalPrinterColumns ?? []).map(
      (c) => `| ${c.name} | ${span(c.jsonPath)} | ${c.priority ?? 0} |`,
    ),
    '',
  );
  return { path: CRD_REFERENCE_PATH, text: lines.join('\n') };
}
