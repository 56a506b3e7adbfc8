// Turns zod's OpenAPI 3.0 output into a Kubernetes *structural* schema: every node typed,
// no `additionalProperties: false` (the API server prunes unknown fields instead), no
// type-mixing unions except int-or-string. Anything else is a schema the CRD cannot hold,
// so it fails here, at generation time, rather than at `kubectl apply`.

/** A JSON Schema node (loosely typed: it is data on its way to YAML). */
export type SchemaNode = { [key: string]: unknown };

/** Raised when a zod schema has no structural CRD equivalent. */
export class StructuralSchemaError extends Error {
  readonly code = 'CRD_NOT_STRUCTURAL';
}

const SAFE_INT = 9007199254740991;
const DROPPED = new Set(['$schema', 'propertyNames', 'id', '$id']);

function isNode(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function intOrString(node: SchemaNode, path: string): SchemaNode | undefined {
  const branches = node.anyOf;
  if (!Array.isArray(branches) || branches.length !== 2) return undefined;
  const types = branches.map((b) => (isNode(b) ? b.type : undefined)).sort();
  if (types[0] !== 'integer' || types[1] !== 'string') return undefined;
  const out: SchemaNode = {
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
  };
  const str = branches.find((b): b is SchemaNode => isNode(b) && b.type === 'string');
  // The branch's pattern cannot live inside anyOf with a type, so it becomes a CEL rule.
  if (typeof str?.pattern === 'string') {
    out['x-kubernetes-validations'] = [
      {
        rule: `type(self) == int || self.matches(${JSON.stringify(str.pattern)})`,
        message: `${path} must be an integer or match ${str.pattern}`,
      },
    ];
  }
  for (const key of ['description', 'default']) if (node[key] !== undefined) out[key] = node[key];
  return out;
}

/** Returns a structural copy of `node`; `path` names the field in error messages. */
export function toStructural(node: SchemaNode, path = 'spec'): SchemaNode {
  if (node.anyOf !== undefined || node.oneOf !== undefined || node.allOf !== undefined) {
    const converted = intOrString(node, path);
    if (converted === undefined) {
      throw new StructuralSchemaError(
        `${path}: unions other than integer|string have no structural form`,
      );
    }
    return converted;
  }
  if (node.type === undefined) throw new StructuralSchemaError(`${path}: every node needs a type`);
  const out: SchemaNode = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED.has(key)) continue;
    if (key === 'additionalProperties') {
      if (isNode(value)) out[key] = toStructural(value, `${path}[*]`);
      continue;
    }
    if ((key === 'minimum' && value === -SAFE_INT) || (key === 'maximum' && value === SAFE_INT))
      continue;
    if (key === 'properties' && isNode(value)) {
      const props: SchemaNode = {};
      for (const [name, child] of Object.entries(value)) {
        if (!isNode(child)) throw new StructuralSchemaError(`${path}.${name}: not a schema`);
        props[name] = toStructural(child, `${path}.${name}`);
      }
      out[key] = props;
      continue;
    }
    if (key === 'items' && isNode(value)) {
      out[key] = toStructural(value, `${path}[]`);
      continue;
    }
    out[key] = value;
  }
  return out;
}
