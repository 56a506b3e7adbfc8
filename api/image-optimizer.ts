import { z } from 'zod';
import { int, rules } from './cel-rules.ts';
import { AppIdSchema } from './discovery-config.ts';
import { GATEWAY_METHODS, PROXY_DEFAULTS } from './gateway-config.ts';
import { ImageOptimizerStatusSchema } from './image-optimizer-status.ts';
import { ImagesConfigSchema, RemotePatternSchema } from './images-config.ts';
import { MonitoringSpecSchema } from './monitoring.ts';
import { IMAGE_OPTIMIZER_DEFAULTS, OptimizerTuningSchema } from './optimizer-config.ts';
import { PodSettingsSchema } from './pod-settings.ts';
import { RoutingSchema } from './routing.ts';
import { SecretKeyRefSchema, URL_WITH_PASSWORD, urlHasPassword } from './secret-ref.ts';
import { PERSISTENT_NAME_RULE, ValkeyPersistenceSchema } from './valkey-persistence.ts';
import {
  AutoscalingSchema,
  DEFAULT_GATEWAY_RESOURCES,
  DEFAULT_OPTIMIZER_RESOURCES,
  DEFAULT_VALKEY_RESOURCES,
  PodDisruptionBudgetSchema,
  ResourcesSchema,
  ServiceSpecSchema,
} from './workload.ts';

export * from './image-optimizer-status.ts';
export * from './monitoring.ts';
export * from './pod-settings.ts';
export * from './routing.ts';
export * from './valkey-persistence.ts';
export * from './workload.ts';

// The ImageOptimizer custom resource (nextimage.dev/v1alpha1), defined once: the CRD in
// crds/ is generated from these schemas (`npm run generate:crds`) and `render` reads the
// parsed types. Only shapes a structural CRD schema can express are used here (no
// transforms, no object|string unions); every cross-field rule is written once as a CEL
// rule plus the same check in TypeScript (api/cel-rules.ts), so `next-image render` rejects
// what the API server rejects.

export const GROUP = 'nextimage.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'ImageOptimizer';
export const PLURAL = 'imageoptimizers';
export const SINGULAR = 'imageoptimizer';
export const SHORT_NAMES = ['imgopt'];
/** Where filesystem storage lives in a pod (the guide's relative default means nothing there). */
export const CR_FILESYSTEM_PATH = '/var/cache/next-image';

type StorageSecrets = {
  type: string;
  url?: string | undefined;
  urlSecretRef?: unknown;
  passwordSecretRef?: unknown;
};
/** Exactly one source per secret: inline or a Secret, never both. */
const STORAGE_SECRET_RULES = [
  {
    rule: "self.type == 'redis' || self.type == 'valkey' || (!has(self.urlSecretRef) && !has(self.passwordSecretRef))",
    message: 'urlSecretRef and passwordSecretRef apply only to storage types redis and valkey',
    check: (s: StorageSecrets) =>
      s.type === 'redis' ||
      s.type === 'valkey' ||
      (s.urlSecretRef === undefined && s.passwordSecretRef === undefined),
  },
  {
    rule: '!has(self.url) || !has(self.urlSecretRef)',
    message: 'set url or urlSecretRef, not both',
    check: (s: StorageSecrets) => s.url === undefined || s.urlSecretRef === undefined,
  },
  {
    rule: '!has(self.passwordSecretRef) || has(self.url) || has(self.urlSecretRef)',
    message:
      'passwordSecretRef needs url or urlSecretRef (a provisioned Valkey makes its own password)',
    check: (s: StorageSecrets) =>
      s.passwordSecretRef === undefined || s.url !== undefined || s.urlSecretRef !== undefined,
  },
  {
    rule: `!has(self.passwordSecretRef) || !has(self.url) || !self.url.matches('${URL_WITH_PASSWORD}')`,
    message:
      'url has a password and passwordSecretRef is set: keep one (remove the password from url)',
    check: (s: StorageSecrets) =>
      s.passwordSecretRef === undefined || s.url === undefined || !urlHasPassword(s.url),
  },
];

/** `next.imageOptimizer.storage`, flattened into one object so the CRD schema stays structural. */
export const CrStorageSchema = rules(
  z
    .strictObject({
      type: z
        .enum(['memory', 'filesystem', 'redis', 'valkey'])
        .describe(
          'memory (per pod), filesystem (per pod, on an emptyDir), redis or valkey (shared).',
        ),
      path: z
        .string()
        .regex(/^\//, 'path must be absolute')
        .max(4096)
        .optional()
        .describe(
          `filesystem: where the cache lives; an emptyDir is mounted there (default ${CR_FILESYSTEM_PATH}).`,
        ),
      maxBytes: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe('filesystem: bound of the cache in bytes.'),
      url: z
        .string()
        .regex(
          /^(redis|rediss|valkey|valkeys):\/\/.+/,
          'url must be a redis://, rediss://, valkey:// or valkeys:// URL',
        )
        .max(2048)
        .optional()
        .describe(
          'redis/valkey: the server. Without url (or urlSecretRef) the operator provisions a Valkey for this resource. A password written here is accepted but warned about: use passwordSecretRef or urlSecretRef.',
        ),
      urlSecretRef: SecretKeyRefSchema.optional().describe(
        'redis/valkey: a Secret key holding the whole server URL (instead of url).',
      ),
      passwordSecretRef: SecretKeyRefSchema.optional().describe(
        'redis/valkey: a Secret key holding the server password, used with url or urlSecretRef (whose URL then has no password).',
      ),
      prefix: z
        .string()
        .max(256)
        .optional()
        .describe('redis/valkey: key prefix (default next-image:).'),
      db: int(0, 15).optional().describe('redis/valkey: database number (overrides the URL).'),
    })
    .describe(
      'Where optimized images are cached and how replicas share work. Default: memory for one replica, a provisioned Valkey for more.',
    ),
  [
    {
      rule: "self.type == 'filesystem' || (!has(self.path) && !has(self.maxBytes))",
      message: 'path and maxBytes apply only to storage type filesystem',
      check: (s) => s.type === 'filesystem' || (s.path === undefined && s.maxBytes === undefined),
    },
    {
      rule: "self.type == 'redis' || self.type == 'valkey' || (!has(self.url) && !has(self.prefix) && !has(self.db))",
      message: 'url, prefix and db apply only to storage types redis and valkey',
      check: (s) =>
        s.type === 'redis' ||
        s.type === 'valkey' ||
        (s.url === undefined && s.prefix === undefined && s.db === undefined),
    },
    ...STORAGE_SECRET_RULES,
  ],
);
export type CrStorage = z.infer<typeof CrStorageSchema>;

/** `spec.imageOptimizer`: the optimizer watt.json's `next.imageOptimizer`, same keys and defaults. */
export const CrImageOptimizerSchema = z
  .strictObject({
    fallback: z
      .string()
      .max(2048)
      .regex(
        /^([a-z0-9]([-a-z0-9]*[a-z0-9])?|https?:\/\/.+)$/,
        'fallback must be a Service name in this namespace such as "frontend" or an http(s) URL',
      )
      .describe(
        'Where relative image URLs are fetched: a Service in this namespace (frontend → frontend.<ns>.svc) or an http(s) URL.',
      ),
    timeout: z
      .number()
      .int()
      .min(1)
      .max(600_000)
      .default(IMAGE_OPTIMIZER_DEFAULTS.timeout)
      .describe(
        'Milliseconds one image job may take: every fetch attempt plus the transform. When it runs out the answer is 504.',
      ),
    maxAttempts: int(1, 10)
      .default(IMAGE_OPTIMIZER_DEFAULTS.maxAttempts)
      .describe(
        'Fetch attempts per source image; retried only where it can help (connection errors, 5xx, 429, an attempt timing out), never on 4xx.',
      ),
    ttl: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Platformatic's job-result TTL; accepted for compatibility, no effect."),
    storage: CrStorageSchema.optional(),
  })
  .describe("The optimizer watt.json's next.imageOptimizer block.");

/** `spec.images`: next.config `images`; remote patterns in their object form only. */
export const CrImagesSchema = ImagesConfigSchema.extend({
  remotePatterns: z
    .array(RemotePatternSchema.options[0])
    .max(50)
    .default([])
    .describe(
      'Absolute source URLs allowed, each {protocol, hostname, port, pathname, search}. Default none.',
    ),
}).describe(
  'next.config images (deviceSizes, imageSizes, qualities, formats, remotePatterns, …) with Next.js 16 defaults.',
);
export type CrImages = z.infer<typeof CrImagesSchema>;

/** `spec.optimizer`: the optimizer workload. */
export const CrOptimizerSchema = z
  .strictObject({
    replicas: int(0, 1000)
      .default(1)
      .describe('Optimizer pods (ignored while autoscaling is set).'),
    resources: ResourcesSchema.default(DEFAULT_OPTIMIZER_RESOURCES).describe(
      'Compute resources of an optimizer container. Default requests cpu 250m, memory 512Mi; limits memory 1Gi.',
    ),
    autoscaling: AutoscalingSchema.optional(),
    podDisruptionBudget: PodDisruptionBudgetSchema.optional(),
    tuning: OptimizerTuningSchema.omit({ purgeToken: true })
      .partial()
      .optional()
      .describe('The optimizer config file\'s "optimizer" block.'),
    purgeTokenSecretRef: SecretKeyRefSchema.optional().describe(
      'A Secret key holding the bearer token (16+ characters) that enables POST/DELETE /__admin/purge on the optimizer pods. Unset: no purge endpoint.',
    ),
    pod: PodSettingsSchema.optional(),
  })
  .describe('The optimizer pods.');
export type CrOptimizer = z.infer<typeof CrOptimizerSchema>;

/** `gateway.applications[]` in a form a structural schema can hold (no `proxy: false`). */
export const CrGatewayApplicationSchema = z.strictObject({
  id: AppIdSchema.describe(
    'Application id; without origin it is the Service <id> in this namespace ("optimizer" means this resource\'s optimizer).',
  ),
  origin: z
    .string()
    .regex(/^https?:\/\/.+/, 'origin must be an http(s) URL')
    .max(2048)
    .optional()
    .describe('Where the application answers (http(s) URL); overrides the Service named by id.'),
  proxy: z
    .strictObject({
      prefix: z
        .string()
        .max(1024)
        .optional()
        .describe('Mount point such as "/shop"; default "/<id>" (Platformatic\'s rule).'),
      routes: z
        .array(
          z
            .string()
            .max(1024)
            .regex(
              /^\/[^*?#]*\*?$/,
              'a route starts with "/" and may end with one "*" (for example "/_next/image" or "/*")',
            ),
        )
        .min(1)
        .max(64)
        .default([...PROXY_DEFAULTS.routes])
        .describe('Paths below prefix, each may end with one "*". Default ["/", "/*"].'),
      methods: z
        .array(z.enum(GATEWAY_METHODS))
        .min(1)
        .max(GATEWAY_METHODS.length)
        .default([...PROXY_DEFAULTS.methods])
        .describe(
          'Methods routed (GET, POST, PUT, DELETE, PATCH, OPTIONS); HEAD follows GET. Default all.',
        ),
      upstream: z
        .string()
        .regex(/^https?:\/\/.+/, 'upstream must be an http(s) URL')
        .max(2048)
        .optional()
        .describe('Where to send these requests (http(s) URL); overrides origin.'),
      rewritePrefix: z
        .string()
        .max(1024)
        .optional()
        .describe("Replaces prefix in the forwarded path; default: the upstream's own path."),
    })
    .optional()
    .describe("How the gateway routes to the application, as in Platformatic's watt.json."),
});
export type CrGatewayApplication = z.infer<typeof CrGatewayApplicationSchema>;

/** `spec.gateway`: the gateway watt.json's `gateway` block plus its workload. */
export const CrGatewaySchema = rules(
  z
    .strictObject({
      applications: z
        .array(CrGatewayApplicationSchema)
        .max(32)
        .optional()
        .describe(
          "Routes, first match wins. Default: the guide's two: GET /_next/image → optimizer, everything else → the fallback.",
        ),
      replicas: int(0, 1000)
        .optional()
        .describe(
          'Gateway pods (ignored while autoscaling is set). Default 1, or 2 when the optimizer can run more than one replica (replicas > 1 or autoscaling.maxReplicas > 1).',
        ),
      service: ServiceSpecSchema.prefault({}),
      resources: ResourcesSchema.default(DEFAULT_GATEWAY_RESOURCES).describe(
        'Compute resources of a gateway container. Default requests cpu 50m, memory 64Mi; limits memory 256Mi.',
      ),
      autoscaling: AutoscalingSchema.optional().describe(
        'When present, a HorizontalPodAutoscaler owns the gateway replicas (same shape as optimizer.autoscaling).',
      ),
      podDisruptionBudget: PodDisruptionBudgetSchema.optional().describe(
        'When present, a PodDisruptionBudget for the gateway pods (set one of minAvailable and maxUnavailable).',
      ),
      pod: PodSettingsSchema.optional(),
    })
    .describe(
      'The gateway: the entrypoint that sends /_next/image to the optimizer and the rest to the fallback.',
    ),
  [
    {
      rule: '!has(self.applications) || self.applications.all(a, self.applications.exists_one(b, b.id == a.id))',
      message: 'gateway.applications ids must be unique',
      check: (g) =>
        g.applications === undefined ||
        new Set(g.applications.map((a) => a.id)).size === g.applications.length,
    },
  ],
);
export type CrGateway = z.infer<typeof CrGatewaySchema>;

/** `spec.valkey`: the Valkey the operator provisions when shared storage has no url. */
export const CrValkeySchema = z
  .strictObject({
    image: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe("Overrides the operator's --valkey-image."),
    resources: ResourcesSchema.default(DEFAULT_VALKEY_RESOURCES).describe(
      'Compute resources of the Valkey container. Default requests cpu 50m, memory 64Mi; limits memory 320Mi.',
    ),
    maxMemory: z
      .string()
      .regex(
        /^[0-9]+(k|M|G|Ki|Mi|Gi)?$/,
        'maxMemory must be a whole number with k, M, G, Ki, Mi or Gi',
      )
      .default('256Mi')
      .describe('Valkey maxmemory; keys are evicted LRU beyond it.'),
    persistence: ValkeyPersistenceSchema.optional(),
    pod: PodSettingsSchema.optional(),
  })
  .describe(
    'The Valkey provisioned for redis/valkey storage without url, or for replicas > 1 without storage.',
  );

const isFilesystem = (s: CrStorage | undefined): boolean => s?.type === 'filesystem';

/** `spec` of an ImageOptimizer. */
export const ImageOptimizerSpecSchema = rules(
  z.strictObject({
    image: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe("The next-image container image; overrides the operator's --image."),
    imageOptimizer: CrImageOptimizerSchema,
    images: CrImagesSchema.prefault({}),
    gateway: CrGatewaySchema.prefault({}),
    optimizer: CrOptimizerSchema.prefault({}),
    valkey: CrValkeySchema.prefault({}),
    routing: RoutingSchema.prefault({ mode: 'gateway' }),
    monitoring: MonitoringSpecSchema.prefault({}),
  }),
  [
    {
      rule: "!has(self.imageOptimizer.storage) || self.imageOptimizer.storage.type != 'filesystem' || (self.optimizer.replicas <= 1 && !has(self.optimizer.autoscaling))",
      message:
        'filesystem storage is per pod: use one optimizer replica without autoscaling, or storage redis/valkey',
      fieldPath: '.imageOptimizer.storage.type',
      check: (s) =>
        !isFilesystem(s.imageOptimizer.storage) ||
        (s.optimizer.replicas <= 1 && s.optimizer.autoscaling === undefined),
    },
    {
      rule: "self.routing.mode == 'gateway' || !has(self.gateway.applications)",
      message:
        'gateway.applications applies only to routing.mode gateway (httpRoute and ingress run no gateway of ours)',
      fieldPath: '.gateway.applications',
      check: (s) => s.routing.mode === 'gateway' || s.gateway.applications === undefined,
    },
  ],
);
export type ImageOptimizerSpec = z.infer<typeof ImageOptimizerSpecSchema>;
export type ImageOptimizerSpecInput = z.input<typeof ImageOptimizerSpecSchema>;

/** Child names are `<name>-optimizer` etc., and Service names must be DNS-1035 labels. */
export const NAME_RULE = {
  rule: "self.metadata.name.size() <= 53 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",
  message:
    'metadata.name must start with a letter, hold only a-z, 0-9 and "-", and be at most 53 characters',
} as const;
const NAME_RE = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export const ObjectMetaSchema = z.looseObject({
  name: z.string().max(53).regex(NAME_RE, NAME_RULE.message),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  generation: z.number().int().optional(),
  resourceVersion: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** A whole ImageOptimizer object as read from YAML or the API server. */
export const ImageOptimizerSchema = z
  .strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(KIND),
    metadata: ObjectMetaSchema,
    spec: ImageOptimizerSpecSchema,
    status: ImageOptimizerStatusSchema.optional(),
  })
  .superRefine((cr, ctx) => {
    if (!PERSISTENT_NAME_RULE.check(cr.metadata.name, cr.spec.valkey.persistence?.enabled === true))
      ctx.addIssue({
        code: 'custom',
        message: PERSISTENT_NAME_RULE.message,
        path: ['metadata', 'name'],
      });
  });
export type ImageOptimizer = z.infer<typeof ImageOptimizerSchema>;
