import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { K8S_OPENAPI_ROOTS, k8sOpenApiFile } from '../../scripts/packaging/k8s-openapi.ts';
import openapi from './core-v1.openapi.json' with { type: 'json' };
import {
  AffinitySchema,
  EnvVarSchema,
  KUBERNETES_VERSION,
  TolerationSchema,
  TopologySpreadConstraintSchema,
} from './schemas.ts';

// The Kubernetes definitions the pod settings reuse: extracted from the pinned release, turned
// into zod with Kubernetes' own descriptions, and validating as the API server does.

describe('api/k8s/core-v1.openapi.json', () => {
  it('comes from the Kubernetes release the control-plane tier pins (npm run generate:k8s-openapi)', async () => {
    const versions = await readFile(
      new URL('../../test/control-plane/versions.env', import.meta.url),
      'utf8',
    );
    expect(KUBERNETES_VERSION).toBe(/^K8S_VERSION=(.+)$/m.exec(versions)?.[1]);
  });

  it('is exactly what the extractor makes of its own definitions (nothing hand-edited)', async () => {
    const text = await readFile(new URL('./core-v1.openapi.json', import.meta.url), 'utf8');
    expect(k8sOpenApiFile(openapi.definitions, K8S_OPENAPI_ROOTS, openapi.kubernetesVersion)).toBe(
      text,
    );
  });
});

describe('k8sOpenApiFile', () => {
  const schemas = {
    A: { type: 'object', properties: { b: { allOf: [{ $ref: '#/components/schemas/B' }] } } },
    B: { type: 'object', properties: { n: { type: 'integer', default: 0 } } },
    C: { type: 'string' },
  };

  it('takes the roots and what they reference, and drops Kubernetes-side defaults', () => {
    const file = JSON.parse(k8sOpenApiFile(schemas, ['A'], '1.0.0')) as {
      definitions: Record<string, unknown>;
    };
    expect(Object.keys(file.definitions)).toEqual(['A', 'B']);
    expect(file.definitions.B).toEqual({ properties: { n: { type: 'integer' } }, type: 'object' });
  });

  it('names a definition it cannot find', () => {
    expect(() => k8sOpenApiFile(schemas, ['Z'], '1.0.0')).toThrow('no definition Z');
  });
});

describe('the zod forms of Kubernetes types', () => {
  it('carry Kubernetes descriptions into the JSON schema the CRD is made of', () => {
    const json = z.toJSONSchema(TolerationSchema, { target: 'openapi-3.0' }) as {
      description?: string;
      properties: Record<string, { description?: string }>;
    };
    expect(json.description).toMatch(/tolerates any taint/);
    for (const key of ['key', 'operator', 'value', 'effect', 'tolerationSeconds'])
      expect(json.properties[key]?.description, key).toMatch(/\w/);
  });

  it.each([
    [
      'an affinity with every kind',
      AffinitySchema,
      {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] },
            ],
          },
        },
        podAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { topologyKey: 'kubernetes.io/hostname' },
          ],
        },
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 1, podAffinityTerm: { topologyKey: 'zone', matchLabelKeys: ['x'] } },
          ],
        },
      },
    ],
    [
      'an env var from a resource',
      EnvVarSchema,
      {
        name: 'MEM',
        valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } },
      },
    ],
    [
      'an integer divisor',
      EnvVarSchema,
      {
        name: 'CPU',
        valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: 1 } },
      },
    ],
  ])('accepts %s', (_name, schema, value) => {
    expect(schema.safeParse(value).error?.issues).toBeUndefined();
  });

  it.each([
    ['a misspelt field', TolerationSchema, { key: 'a', efect: 'NoSchedule' }, 'efect'],
    ['a missing required field', TopologySpreadConstraintSchema, { maxSkew: 1 }, 'topologyKey'],
    [
      'a weight of the wrong type',
      AffinitySchema,
      {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 'high', podAffinityTerm: { topologyKey: 'zone' } },
          ],
        },
      },
      'weight',
    ],
    [
      'an int32 out of range',
      TopologySpreadConstraintSchema,
      {
        maxSkew: 2 ** 31,
        topologyKey: 'zone',
        whenUnsatisfiable: 'ScheduleAnyway',
      },
      'maxSkew',
    ],
  ])('rejects %s', (_name, schema, value, field) => {
    const issues = schema.safeParse(value).error?.issues ?? [];
    expect(JSON.stringify(issues)).toContain(field);
  });
});
