import { stringify } from 'yaml';
import { z } from 'zod';
import {
  GROUP,
  ImageOptimizerSpecSchema,
  ImageOptimizerStatusSchema,
  KIND,
  NAME_RULE,
  PERSISTENT_NAME_RULE,
  PLURAL,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
} from '../../api/image-optimizer.ts';
import { type SchemaNode, toStructural } from './structural.ts';

/** Where the generated CRD is checked in. */
export const CRD_PATH = 'crds/imageoptimizers.nextimage.dev.yaml';
/** The command that regenerates CRD_PATH. */
export const CRD_GENERATE_COMMAND = 'npm run generate:crds';

function openapi(schema: z.ZodType, path: string): SchemaNode {
  // io "input": defaults are what the API server fills in, i.e. the input side.
  return toStructural(
    z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0' }) as SchemaNode,
    path,
  );
}

/** The ImageOptimizer CustomResourceDefinition as an object. */
export function buildCrd(): Record<string, unknown> {
  const readyColumn = '.status.conditions[?(@.type=="Ready")]';
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}`, labels: { 'app.kubernetes.io/name': 'next-image' } },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: SHORT_NAMES,
        categories: ['all'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.optimizer.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: `${readyColumn}.status` },
            {
              name: 'Replicas',
              type: 'string',
              description: 'Ready/desired optimizer pods',
              jsonPath: '.status.optimizerReplicas',
            },
            {
              name: 'Mode',
              type: 'string',
              description: 'Routing mode: gateway, httpRoute or ingress',
              jsonPath: '.spec.routing.mode',
            },
            { name: 'Storage', type: 'string', jsonPath: '.status.storage' },
            { name: 'Reason', type: 'string', priority: 1, jsonPath: `${readyColumn}.reason` },
            { name: 'Address', type: 'string', priority: 1, jsonPath: '.status.gatewayAddress' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description:
                'ImageOptimizer runs a dedicated Next.js /_next/image service: a gateway, a pool of optimizer pods and, when shared storage has no url, a Valkey.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: openapi(ImageOptimizerSpecSchema, 'spec'),
                status: openapi(ImageOptimizerStatusSchema, 'status'),
              },
              'x-kubernetes-validations': [
                { rule: NAME_RULE.rule, message: NAME_RULE.message },
                { rule: PERSISTENT_NAME_RULE.rule, message: PERSISTENT_NAME_RULE.message },
              ],
            },
          },
        },
      ],
    },
  };
}

/** The CRD as YAML with the generated-file header. */
export function renderCrdYaml(): string {
  const header = [
    '# generated — do not edit.',
    '# Source: api/image-optimizer.ts (zod) via operator/crd/crd.ts.',
    `# Regenerate with: ${CRD_GENERATE_COMMAND}`,
  ].join('\n');
  return `${header}\n${stringify(buildCrd(), { lineWidth: 0 })}`;
}
