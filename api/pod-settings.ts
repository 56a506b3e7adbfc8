import { z } from 'zod';
import { int, rules } from './cel-rules.ts';
import {
  AffinitySchema,
  EnvFromSourceSchema,
  EnvVarSchema,
  LocalObjectReferenceSchema,
  TolerationSchema,
  TopologySpreadConstraintSchema,
} from './k8s/schemas.ts';
import {
  ContainerSecurityContextSchema,
  PodSecurityContextSchema,
} from './pod-security-context.ts';

// `spec.optimizer.pod`, `spec.gateway.pod`, `spec.valkey.pod`: where and how a workload's pods
// run. The Kubernetes-shaped fields reuse Kubernetes' own schemas (api/k8s/), so they read and
// validate as in a Pod spec; what the operator relies on (selector labels, its env, the
// restricted Pod Security Standard) cannot be overridden.

/** The pod labels the Deployments and Services select on; a user label may not replace them. */
export const SELECTOR_LABEL_KEYS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/component',
] as const;
/** Annotation keys under this prefix are the operator's (the config hash that rolls pods). */
export const RESERVED_ANNOTATION_PREFIX = 'nextimage.dev/';
/** Environment variables the operator sets for the config carry this prefix. */
export const RESERVED_ENV_PREFIX = 'NEXT_IMAGE_';
/** The Valkey container's password variable (from the operator's Secret). */
export const RESERVED_ENV_NAMES = ['VALKEY_PASSWORD'] as const;
const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

const MAX_MAP_ENTRIES = 64;
const LABEL_KEY_RE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A string map with Kubernetes label/annotation keys, bounded (that bounds CEL cost too). */
function stringMap(value: z.ZodString, what: string): z.ZodType<Record<string, string>> {
  return z
    .record(
      z
        .string()
        .max(317)
        .regex(
          LABEL_KEY_RE,
          `${what} keys must be Kubernetes qualified names such as team or example.com/team`,
        ),
      value,
    )
    .refine((m) => Object.keys(m).length <= MAX_MAP_ENTRIES, {
      message: `at most ${MAX_MAP_ENTRIES} ${what}`,
    })
    .meta({ maxProperties: MAX_MAP_ENTRIES }) as unknown as z.ZodType<Record<string, string>>;
}

const labelValue = z
  .string()
  .max(63)
  .regex(
    LABEL_VALUE_RE,
    'a label value is at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
  );

const RESERVED_LABELS_CEL = `[${SELECTOR_LABEL_KEYS.map((k) => `'${k}'`).join(', ')}]`;

/** Pod settings of one workload. */
export const PodSettingsSchema = rules(
  z
    .strictObject({
      labels: stringMap(labelValue, 'labels')
        .optional()
        .describe(
          `Extra labels on the pods (cost tags, mesh opt-ins). The selector labels ${SELECTOR_LABEL_KEYS.join(', ')} are the operator's and rejected here.`,
        ),
      annotations: stringMap(z.string().max(65536), 'annotations')
        .optional()
        .describe(
          `Extra annotations on the pods (e.g. sidecar.istio.io/inject, prometheus.io/scrape). Keys under ${RESERVED_ANNOTATION_PREFIX} are the operator's and rejected here.`,
        ),
      imagePullSecrets: z
        .array(LocalObjectReferenceSchema)
        .max(16)
        .optional()
        .describe(
          'Secrets (kubernetes.io/dockerconfigjson) in this namespace used to pull the image, as in a Pod spec.',
        ),
      serviceAccountName: z
        .string()
        .max(253)
        .regex(
          DNS_SUBDOMAIN_RE,
          'serviceAccountName must be a DNS subdomain such as image-optimizer',
        )
        .optional()
        .describe(
          "The ServiceAccount the pods run as (default: the namespace's default). Its token is still not mounted (automountServiceAccountToken: false): our processes never call the API server.",
        ),
      nodeSelector: stringMap(labelValue, 'nodeSelector entries')
        .optional()
        .describe('Node labels the pods must be scheduled on, as in a Pod spec.'),
      tolerations: z
        .array(TolerationSchema)
        .max(32)
        .optional()
        .describe('Taints the pods tolerate, as in a Pod spec.'),
      affinity: AffinitySchema.optional().describe(
        'Node affinity, pod affinity and pod anti-affinity, as in a Pod spec (default none).',
      ),
      topologySpreadConstraints: z
        .array(TopologySpreadConstraintSchema)
        .max(8)
        .optional()
        .describe(
          'How the pods spread over topology domains, as in a Pod spec. Default for the optimizer and the gateway: maxSkew 1, whenUnsatisfiable ScheduleAnyway, over kubernetes.io/hostname and topology.kubernetes.io/zone. Setting this replaces the default; [] turns it off.',
        ),
      priorityClassName: z
        .string()
        .max(253)
        .regex(DNS_SUBDOMAIN_RE, 'priorityClassName must be a DNS subdomain such as high-priority')
        .optional()
        .describe("The PriorityClass of the pods (default none: the cluster's global default)."),
      terminationGracePeriodSeconds: int(0, 3600)
        .optional()
        .describe(
          'Seconds a pod has to stop after SIGTERM, including the 5 s preStop sleep of the optimizer and gateway (default 30).',
        ),
      env: z
        .array(EnvVarSchema)
        .max(64)
        .optional()
        .describe(
          `Extra environment variables of the main container, as in a Pod spec. Names starting with ${RESERVED_ENV_PREFIX} and ${RESERVED_ENV_NAMES.join(', ')} are the operator's and rejected here.`,
        ),
      envFrom: z
        .array(EnvFromSourceSchema)
        .max(16)
        .optional()
        .describe(
          'ConfigMaps or Secrets whose keys become environment variables of the main container, as in a Pod spec. Variables the operator sets win over these.',
        ),
      securityContext: PodSecurityContextSchema.optional(),
      containerSecurityContext: ContainerSecurityContextSchema.optional(),
    })
    .describe(
      'Where and how the pods run: scheduling, metadata, identity, environment and security overrides.',
    ),
  [
    {
      rule: `!has(self.labels) || self.labels.all(k, !(k in ${RESERVED_LABELS_CEL}))`,
      message: `pod.labels must not set the selector labels ${SELECTOR_LABEL_KEYS.join(', ')}: the operator's Deployments and Services select on them`,
      fieldPath: '.labels',
      check: (p) =>
        p.labels === undefined ||
        Object.keys(p.labels).every((k) => !(SELECTOR_LABEL_KEYS as readonly string[]).includes(k)),
    },
    {
      rule: `!has(self.annotations) || self.annotations.all(k, !k.startsWith('${RESERVED_ANNOTATION_PREFIX}'))`,
      message: `pod.annotations keys under ${RESERVED_ANNOTATION_PREFIX} are the operator's (the config hash that rolls the pods)`,
      fieldPath: '.annotations',
      check: (p) =>
        p.annotations === undefined ||
        Object.keys(p.annotations).every((k) => !k.startsWith(RESERVED_ANNOTATION_PREFIX)),
    },
    {
      rule: `!has(self.annotations) || self.annotations.all(k, !k.startsWith('${APPARMOR_ANNOTATION_PREFIX}') || self.annotations[k] != 'unconfined')`,
      message: `pod.annotations must not make AppArmor unconfined: the restricted Pod Security Standard forbids it`,
      fieldPath: '.annotations',
      check: (p) =>
        Object.entries(p.annotations ?? {}).every(
          ([k, v]) => !k.startsWith(APPARMOR_ANNOTATION_PREFIX) || v !== 'unconfined',
        ),
    },
    {
      rule: `!has(self.env) || self.env.all(e, !e.name.startsWith('${RESERVED_ENV_PREFIX}') && !(e.name in [${RESERVED_ENV_NAMES.map((n) => `'${n}'`).join(', ')}]))`,
      message: `pod.env must not set ${RESERVED_ENV_PREFIX}* or ${RESERVED_ENV_NAMES.join(', ')}: the operator sets those for the config`,
      fieldPath: '.env',
      check: (p) =>
        (p.env ?? []).every(
          (e) =>
            !e.name.startsWith(RESERVED_ENV_PREFIX) &&
            !(RESERVED_ENV_NAMES as readonly string[]).includes(e.name),
        ),
    },
  ],
);
export type PodSettings = z.infer<typeof PodSettingsSchema>;

/** Fields holding a Kubernetes type: docs/crd-reference.md names the type instead of listing it. */
export const KUBERNETES_TYPED_FIELDS: Record<string, string> = {
  imagePullSecrets: 'LocalObjectReference',
  tolerations: 'Toleration',
  affinity: 'Affinity',
  topologySpreadConstraints: 'TopologySpreadConstraint',
  env: 'EnvVar',
  envFrom: 'EnvFromSource',
};
