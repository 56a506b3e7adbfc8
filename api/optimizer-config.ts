import { z } from 'zod';
import { HttpUrlSchema, nonNegativeInt, positiveInt, ServerConfigSchema } from './common.ts';
import { DiscoveryConfigSchema } from './discovery-config.ts';
import { ImagesConfigSchema } from './images-config.ts';
import { StorageConfigSchema } from './storage-config.ts';

/** Platformatic's defaults for `next.imageOptimizer`. */
export const IMAGE_OPTIMIZER_DEFAULTS = { timeout: 30_000, maxAttempts: 3 } as const;

/** `next.imageOptimizer`, as in Platformatic's optimizer `watt.json`. */
export const ImageOptimizerOptionsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** An application id (→ `http://<id>.plt.local`) or an http(s) URL. */
  fallback: z.union([
    z
      .string()
      .regex(
        /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
        'fallback must be an application id such as "frontend" or an http(s) URL',
      ),
    HttpUrlSchema,
  ]),
  timeout: positiveInt('timeout').default(IMAGE_OPTIMIZER_DEFAULTS.timeout),
  maxAttempts: positiveInt('maxAttempts').default(IMAGE_OPTIMIZER_DEFAULTS.maxAttempts),
  /** Platformatic's job-result TTL; accepted for compatibility, it has no effect here. */
  ttl: nonNegativeInt('ttl').optional(),
  storage: StorageConfigSchema.default({ type: 'memory' }),
});
export type ImageOptimizerOptions = z.infer<typeof ImageOptimizerOptionsSchema>;

/** Our own tuning knobs (not in Platformatic or Next.js). */
export const OptimizerTuningSchema = z.strictObject({
  /** Transforms running at once; default: the CPUs this process may use. */
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(256)
    .optional()
    .describe('Transforms running at once (1–256); default: the CPUs this process may use.'),
  /** Jobs waiting for a transform slot before new ones get 503 + Retry-After. */
  queueSize: z
    .number()
    .int()
    .min(0)
    .max(100_000)
    .default(64)
    .describe(
      'Jobs that may wait for a transform slot; past it a miss gets 503 + Retry-After. Default 64.',
    ),
  /** In-process cache bound in bytes (the memory storage, and the tier in front of the others). */
  memoryCacheBytes: z
    .number()
    .int()
    .min(0)
    .default(256 * 1024 * 1024)
    .describe(
      'Bytes of optimized images kept in process (the memory storage, or the tier in front of the others). Default 268435456 (256 MiB).',
    ),
  /**
   * Bytes that source downloads and decoders may hold at once; a job is admitted against it
   * from its image header, before its body is downloaded. Unset: derived from the container's
   * memory limit (docs/sizing.md).
   */
  memoryBudgetBytes: z
    .number()
    .int()
    .min(1024 * 1024)
    .optional()
    .describe(
      'Memory budget in bytes for source bytes plus decoder working sets of the jobs admitted at once (estimated from each image header before its body is downloaded); a job that does not fit waits in the queue or is shed with 503 + Retry-After. At least 1048576. Default: 75% of (the container memory limit from cgroup v2 memory.max or v1 memory.limit_in_bytes − 192 MiB), at least 64 MiB; 1 GiB or a quarter of the host memory, whichever is less, when there is no limit. See docs/sizing.md.',
    ),
  /** Images declaring more pixels than this are refused before decoding (Next: 268402689). */
  maxInputPixels: z
    .number()
    .int()
    .min(1)
    .default(268_402_689)
    .describe(
      'Sources declaring more pixels are refused before decoding. Default 268402689 (Next.js).',
    ),
  /** Timeout of one fetch attempt (connect, headers and body), as Next's fixed 7 s. */
  fetchTimeoutMs: z
    .number()
    .int()
    .min(1)
    .default(7000)
    .describe(
      'Milliseconds for one source fetch attempt (connect, headers, body); Next.js fixes 7000. Default 7000.',
    ),
  /** sharp's own timeout per transform, as Next's imgOptTimeoutInSeconds. */
  transformTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(7)
    .describe(
      "Seconds one transform may take (sharp's timeout, Next's imgOptTimeoutInSeconds). Default 7.",
    ),
  /**
   * Where transforms run: `process` (child processes that are killed when a job's budget
   * runs out — sharp's own timeout cannot stop an encoder's tail) or `none` (in-process).
   */
  transformIsolation: z
    .enum(['process', 'none'])
    .default('process')
    .describe(
      '"process" (default): transforms run in child processes killed when a job runs out of time; "none": in the server process.',
    ),
  /** Grace period for in-flight work on SIGTERM. */
  shutdownGraceMs: z
    .number()
    .int()
    .min(0)
    .default(25_000)
    .describe('Milliseconds in-flight requests get to finish after SIGTERM. Default 25000.'),
  /** Bearer token that enables the purge endpoint; unset = disabled. */
  purgeToken: z.string().min(16, 'purgeToken must be at least 16 characters').optional(),
  /** Report not-ready while shared storage is unreachable (default: stay ready and serve). */
  readyRequiresStorage: z
    .boolean()
    .default(false)
    .describe(
      'Report not-ready while shared storage is unreachable. Default false: stay ready and serve from memory.',
    ),
  /** Adds a W3C Server-Timing header to `/_next/image` responses (Next.js sends none). */
  serverTiming: z
    .boolean()
    .default(false)
    .describe(
      'Add a W3C Server-Timing header to /_next/image responses: cache;desc="HIT|MISS|STALE|none", then queue, fetch and transform (milliseconds, those that ran for this request) and total. Default false (Next.js sends none; it shows cache results and timings to any client).',
    ),
});
export type OptimizerTuning = z.infer<typeof OptimizerTuningSchema>;

/** The optimizer's config file: Platformatic's optimizer `watt.json` plus `discovery` and our knobs. */
export const OptimizerConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    server: ServerConfigSchema.optional(),
    next: z.strictObject({
      imageOptimizer: ImageOptimizerOptionsSchema,
      images: ImagesConfigSchema.default(ImagesConfigSchema.parse({})),
      imagesFrom: z
        .string()
        .min(1, 'imagesFrom must be a path')
        .optional()
        .describe(
          'A built Next.js app (its directory, its .next, or a custom distDir; relative to this file) whose images config is imported from .next/required-server-files.json. Keys set in images win over the imported ones, key by key. Default: unset (images alone).',
        ),
    }),
    discovery: DiscoveryConfigSchema.optional(),
    optimizer: OptimizerTuningSchema.default(OptimizerTuningSchema.parse({})),
  })
  .superRefine((config, ctx) => {
    const io = config.next.imageOptimizer;
    if (io.enabled === false) {
      ctx.addIssue({
        code: 'custom',
        path: ['next', 'imageOptimizer', 'enabled'],
        message:
          'this process only runs the image optimizer: set enabled to true (or leave it out)',
      });
    }
    const isUrl = /^https?:\/\//.test(io.fallback);
    const discovery = config.discovery;
    if (
      !isUrl &&
      discovery !== undefined &&
      'apps' in discovery &&
      discovery.apps[io.fallback] === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['discovery', 'apps'],
        message: `no entry for the fallback application "${io.fallback}": add "${io.fallback}": "http://host:port"`,
      });
    }
    if (!isUrl && discovery === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['discovery'],
        message: `fallback "${io.fallback}" needs discovery: {"apps": {"${io.fallback}": "http://host:port"}} or {"namespace": "<ns>"}`,
      });
    }
  });
export type OptimizerConfig = z.infer<typeof OptimizerConfigSchema>;
