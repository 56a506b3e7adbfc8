import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildCrd, CRD_GENERATE_COMMAND, CRD_PATH, renderCrdYaml } from './crd.ts';
import { StructuralSchemaError, toStructural } from './structural.ts';

type Node = Record<string, unknown>;

function walk(node: unknown, visit: (n: Node, path: string) => void, path = ''): void {
  if (typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) {
    node.forEach((n, i) => {
      walk(n, visit, `${path}[${i}]`);
    });
    return;
  }
  visit(node as Node, path);
  for (const [k, v] of Object.entries(node)) walk(v, visit, `${path}.${k}`);
}

describe('the ImageOptimizer CRD', () => {
  it(`is up to date in ${CRD_PATH} (run ${CRD_GENERATE_COMMAND} when this fails)`, async () => {
    const onDisk = await readFile(new URL(`../../${CRD_PATH}`, import.meta.url), 'utf8');
    expect(onDisk).toBe(renderCrdYaml());
  });

  it('describes every field of spec and status, so kubectl explain shows each one', () => {
    const version = (buildCrd().spec as { versions: Array<{ schema: { openAPIV3Schema: Node } }> })
      .versions[0];
    const root = version?.schema.openAPIV3Schema.properties as Record<string, Node>;
    const undescribed: string[] = [];
    const fields = (node: Node, path: string): void => {
      const properties = (node.properties ?? {}) as Record<string, Node>;
      for (const [name, child] of Object.entries(properties)) {
        if (typeof child.description !== 'string' || child.description.length < 8)
          undescribed.push(`${path}.${name}`);
        fields(child, `${path}.${name}`);
      }
      if (typeof node.items === 'object') fields(node.items as Node, `${path}[]`);
      if (typeof node.additionalProperties === 'object')
        fields(node.additionalProperties as Node, `${path}{}`);
    };
    fields(root.spec as Node, 'spec');
    fields(root.status as Node, 'status');
    expect(undescribed).toEqual([]);
  });

  it('carries the generated-file header with the regenerate command', () => {
    expect(renderCrdYaml().split('\n').slice(0, 3).join('\n')).toMatch(
      /generated — do not edit[\s\S]*npm run generate:crds/,
    );
  });

  it('is structural: every schema node has a type or is int-or-string, nothing forbids extra keys', () => {
    const version = (buildCrd().spec as Node).versions as Node[];
    const schema = (((version[0] as Node).schema as Node).openAPIV3Schema as Node)
      .properties as Node;
    walk(schema.spec, (n, path) => {
      if (
        path.endsWith('.properties') ||
        path.endsWith('.default') ||
        path.includes('.default.') ||
        path.includes('x-kubernetes-validations') ||
        path.endsWith('.anyOf')
      )
        return;
      if (/\.anyOf\[\d\]$/.test(path)) return;
      expect(n.additionalProperties, path).not.toBe(false);
      expect(
        n.type !== undefined || n['x-kubernetes-int-or-string'] === true,
        `${path} has a type`,
      ).toBe(true);
    });
  });

  it('has status and scale subresources and the printer columns Ready, Replicas, Mode, Storage, Age', () => {
    const version = ((buildCrd().spec as Node).versions as Node[])[0] as Node;
    expect(version.subresources).toEqual({
      status: {},
      scale: {
        specReplicasPath: '.spec.optimizer.replicas',
        statusReplicasPath: '.status.replicas',
        labelSelectorPath: '.status.selector',
      },
    });
    const columns = (version.additionalPrinterColumns as Node[])
      .filter((c) => c.priority === undefined)
      .map((c) => c.name);
    expect(columns).toEqual(['Ready', 'Replicas', 'Mode', 'Storage', 'Age']);
    const paths = Object.fromEntries(
      (version.additionalPrinterColumns as Node[]).map((c) => [c.name, c.jsonPath]),
    );
    expect(paths.Replicas).toBe('.status.optimizerReplicas');
    expect(paths.Mode).toBe('.spec.routing.mode');
  });

  it('keeps the guide defaults in the schema and marks conditions as a map keyed by type', () => {
    const crd = parse(renderCrdYaml()) as Node;
    const text = JSON.stringify(crd);
    expect(text).toContain('"timeout":{"default":30000');
    expect(text).toContain('"maxAttempts":{"default":3');
    expect(text).toContain('"x-kubernetes-list-map-keys":["type"]');
  });
});

describe('toStructural', () => {
  it.each([
    ['a string|object union', { anyOf: [{ type: 'string' }, { type: 'object' }] }],
    ['a node without type', { description: 'x' }],
  ])('rejects %s', (_name, node) => {
    expect(() => toStructural(node)).toThrow(StructuralSchemaError);
  });

  it('turns integer|string into int-or-string and keeps the string pattern as CEL', () => {
    const out = toStructural(
      { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^[0-9]+%$' }] },
      'x',
    );
    expect(out['x-kubernetes-int-or-string']).toBe(true);
    expect(JSON.stringify(out['x-kubernetes-validations'])).toContain('self.matches');
  });

  it('drops additionalProperties false and safe-integer bounds', () => {
    const out = toStructural({
      type: 'object',
      additionalProperties: false,
      properties: { n: { type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991 } },
    });
    expect(out).toEqual({ type: 'object', properties: { n: { type: 'integer' } } });
  });
});
