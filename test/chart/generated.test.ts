import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, isScalar, type Node, parse, parseDocument } from 'yaml';
import { KUBERNETES_TYPED_FIELDS } from '../../api/pod-settings.ts';
import { buildCrd } from '../../operator/crd/crd.ts';
import { packagingFiles } from '../../scripts/packaging/files.ts';
import { GENERATE_COMMAND } from '../../scripts/packaging/generated.ts';
import { ROOT } from '../package/install.ts';

// Generated files are checked in; these fail when a source changed and nobody ran the
// generator, and check the chart's hand-written values file is fully documented.

const CHART = join(ROOT, 'charts', 'next-image-operator');
/** Values holding Kubernetes objects: their comment documents them; their keys are Kubernetes'. */
const KUBERNETES_VALUES = new Set([
  'resources',
  'podSecurityContext',
  'securityContext',
  'affinity',
]);
type Schema = { [key: string]: unknown };

describe('generated packaging files', () => {
  it.each(packagingFiles().map((f) => [f.path, f] as const))(
    `%s is up to date (run ${GENERATE_COMMAND} when this fails)`,
    async (path, file) => {
      expect(await readFile(join(ROOT, path), 'utf8')).toBe(file.text);
    },
  );

  it('carry the generated-file header with the command that regenerates them', () => {
    for (const file of packagingFiles()) {
      expect(file.text.split('\n').slice(0, 3).join('\n')).toMatch(
        /generated — do not edit[\s\S]*npm run generate:packaging/,
      );
    }
  });

  it('the docs name every field of the CRD spec', () => {
    const reference = packagingFiles().find((f) => f.path === 'docs/crd-reference.md');
    const crd = buildCrd() as {
      spec: { versions: Array<{ schema: { openAPIV3Schema: Schema } }> };
    };
    const spec = (crd.spec.versions[0]!.schema.openAPIV3Schema.properties as Schema).spec as Schema;
    const paths: string[] = [];
    const walk = (node: Schema, path: string): void => {
      paths.push(path);
      // A Kubernetes type (pod.affinity, pod.env, …) is named, its fields left to kubectl explain.
      if (KUBERNETES_TYPED_FIELDS[/\.pod\.(\w+)$/.exec(path)?.[1] ?? ''] !== undefined) return;
      const target = node.type === 'array' ? (node.items as Schema) : node;
      const prefix = node.type === 'array' ? `${path}[]` : path;
      for (const [key, child] of Object.entries((target.properties as Schema | undefined) ?? {})) {
        walk(child as Schema, `${prefix}.${key}`);
      }
    };
    walk(spec, 'spec');
    expect(paths.length).toBeGreaterThan(30);
    for (const path of paths.slice(1)) expect(reference?.text).toContain(`| \`${path}\` |`);
  });
});

describe('charts/next-image-operator', () => {
  it('has the appVersion of package.json, so image.tag defaults to the released image', async () => {
    const chart = parse(await readFile(join(CHART, 'Chart.yaml'), 'utf8')) as {
      appVersion: string;
    };
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(chart.appVersion).toBe(pkg.version);
  });
});

describe('charts/next-image-operator values', () => {
  it('values.schema.json is strict: every object lists its keys or types its map values', async () => {
    const schema = JSON.parse(await readFile(join(CHART, 'values.schema.json'), 'utf8')) as Schema;
    const loose: string[] = [];
    const walk = (node: Schema, path: string): void => {
      if (
        node.type === 'object' &&
        node.additionalProperties === undefined &&
        node.$comment === undefined
      ) {
        loose.push(path);
      }
      for (const [key, child] of Object.entries((node.properties as Schema | undefined) ?? {})) {
        walk(child as Schema, `${path}.${key}`);
      }
      if (typeof node.items === 'object') walk(node.items as Schema, `${path}[]`);
      if (typeof node.additionalProperties === 'object') {
        walk(node.additionalProperties as Schema, `${path}.*`);
      }
    };
    walk(schema, '');
    expect(loose).toEqual([]);
    expect(schema.additionalProperties).toBe(false);
  });

  it('values.yaml documents every key the schema declares with a comment right above it', async () => {
    const text = await readFile(join(CHART, 'values.yaml'), 'utf8');
    const schema = JSON.parse(await readFile(join(CHART, 'values.schema.json'), 'utf8')) as Schema;
    const lines = text.split('\n');
    const lineOf = (offset: number): number => text.slice(0, offset).split('\n').length - 1;
    const undocumented: string[] = [];
    const walk = (node: Node | null, schemaNode: Schema, path: string): void => {
      if (!isMap(node)) return;
      const props = (schemaNode.properties as Schema | undefined) ?? {};
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        const child = props[key] as Schema | undefined;
        if (child === undefined) continue; // a map's own entries (labels, resources) are data
        const above = lines[lineOf(pair.key.range?.[0] ?? 0) - 1]?.trim() ?? '';
        if (!above.startsWith('#')) undocumented.push(`${path}${key}`);
        if (!KUBERNETES_VALUES.has(`${path}${key}`)) {
          walk(pair.value as Node | null, child, `${path}${key}.`);
        }
      }
    };
    walk(parseDocument(text).contents, schema, '');
    expect(undocumented).toEqual([]);
  });
});
