// The pure half of scripts/k8s-openapi.ts: picks the definitions the ImageOptimizer reuses and
// everything they reference out of Kubernetes' OpenAPI v3 components, as stable JSON.

/** Where the extracted definitions are checked in. */
export const K8S_OPENAPI_PATH = 'api/k8s/core-v1.openapi.json';

/** The definitions the pod settings use directly; their references come along. */
export const K8S_OPENAPI_ROOTS = [
  'io.k8s.api.core.v1.Affinity',
  'io.k8s.api.core.v1.EnvFromSource',
  'io.k8s.api.core.v1.EnvVar',
  'io.k8s.api.core.v1.LocalObjectReference',
  'io.k8s.api.core.v1.Toleration',
  'io.k8s.api.core.v1.TopologySpreadConstraint',
] as const;

const REF_PREFIX = '#/components/schemas/';

function refsOf(node: unknown, out: Set<string>): void {
  if (Array.isArray(node)) for (const n of node) refsOf(n, out);
  else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.add(v.slice(REF_PREFIX.length));
      else refsOf(v, out);
    }
  }
}

/** `default` is dropped: Kubernetes fills those in itself, the CRD must not. */
function strip(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strip);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node).sort(([a], [b]) => a.localeCompare(b))) {
    if (k !== 'default') out[k] = strip(v);
  }
  return out;
}

/** The file's text: the closure of `roots` over `$ref`, keys sorted, with its provenance. */
export function k8sOpenApiFile(
  schemas: Record<string, unknown>,
  roots: readonly string[],
  version: string,
): string {
  const picked = new Map<string, unknown>();
  const todo = [...roots];
  for (let name = todo.pop(); name !== undefined; name = todo.pop()) {
    if (picked.has(name)) continue;
    const schema = schemas[name];
    if (schema === undefined) throw new Error(`no definition ${name} in the OpenAPI document`);
    picked.set(name, strip(schema));
    const refs = new Set<string>();
    refsOf(schema, refs);
    todo.push(...refs);
  }
  const definitions = Object.fromEntries([...picked].sort(([a], [b]) => a.localeCompare(b)));
  const file = {
    '//': `generated — do not edit. Source: k8s.io/kubernetes v${version} api/openapi-spec/v3/api__v1_openapi.json. Regenerate with: npm run generate:k8s-openapi`,
    kubernetesVersion: version,
    definitions,
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}
