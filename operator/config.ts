import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';

// The operator's settings: flags win over environment variables, which win over defaults.
// The only place in operator/ that reads process.env.

/** Defaults, in one place. */
export const OPERATOR_DEFAULTS = {
  image: 'ghcr.io/next-image-operator/next-image:0.1.0',
  valkeyImage: 'docker.io/valkey/valkey:8.1-alpine',
  clusterDomain: 'cluster.local',
  metricsPort: 8080,
  metricsSecure: true,
  healthPort: 8081,
  bindAddress: '0.0.0.0',
  workers: 4,
  resyncSeconds: 300,
  leaseName: 'next-image-operator',
  leaseDurationSeconds: 15,
  renewDeadlineSeconds: 10,
  retryPeriodSeconds: 2,
  logLevel: 'info',
} as const;

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export const OperatorConfigSchema = z.strictObject({
  /** Namespaces to watch; empty = all. */
  namespaces: z.array(z.string().min(1)),
  image: z.string().min(1),
  valkeyImage: z.string().min(1),
  clusterDomain: z.string().min(1),
  bindAddress: z.string().min(1),
  metricsPort: z.number().int().min(0).max(65535),
  /** HTTPS + TokenReview/SubjectAccessReview on /metrics (controller-runtime's secure metrics). */
  metricsSecure: z.boolean(),
  /** tls.crt and tls.key for /metrics; default: a self-signed certificate made at start-up. */
  metricsCertDir: z.string().min(1).optional(),
  healthPort: z.number().int().min(0).max(65535),
  workers: z.number().int().min(1).max(64),
  resyncSeconds: z.number().int().min(0),
  leaderElection: z.boolean(),
  leaseNamespace: z.string().min(1),
  leaseName: z.string().min(1),
  identity: z.string().min(1),
  leaseDurationSeconds: z.number().int().min(1),
  renewDeadlineSeconds: z.number().int().min(1),
  retryPeriodSeconds: z.number().int().min(1),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  /** A kubeconfig file; default: KUBECONFIG, ~/.kube/config, then the in-cluster ServiceAccount. */
  kubeconfig: z.string().optional(),
});
export type OperatorConfig = z.infer<typeof OperatorConfigSchema>;

/** Flag values as parsed by the CLI (strings/booleans, all optional). */
export type OperatorFlags = Record<string, string | boolean | undefined>;

function podNamespace(env: NodeJS.ProcessEnv): string {
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    return readFileSync(SA_NAMESPACE_FILE, 'utf8').trim();
  } catch {
    return 'default';
  }
}

const str = (flag: string | boolean | undefined): string | undefined =>
  typeof flag === 'string' ? flag : undefined;
const num = (value: string | undefined, fallback: number): number =>
  value === undefined || value === '' ? fallback : Number(value);
// "true"/"false" only: anything else is kept as given, so the schema names it as the problem.
const bool = (value: string | undefined, fallback: boolean): boolean | string =>
  value === undefined || value === ''
    ? fallback
    : value === 'true'
      ? true
      : value === 'false'
        ? false
        : value;

/** The operator's config from flags and the environment; throws a ZodError listing every problem. */
export function loadOperatorConfig(
  flags: OperatorFlags,
  env: NodeJS.ProcessEnv = process.env,
): OperatorConfig {
  const d = OPERATOR_DEFAULTS;
  const namespaces = str(flags.namespaces) ?? env.WATCH_NAMESPACES ?? '';
  const leaderElect = flags['leader-elect'] ?? env.LEADER_ELECT;
  return OperatorConfigSchema.parse({
    namespaces: namespaces
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== ''),
    image: str(flags.image) ?? env.NEXT_IMAGE_IMAGE ?? d.image,
    valkeyImage: str(flags['valkey-image']) ?? env.NEXT_IMAGE_VALKEY_IMAGE ?? d.valkeyImage,
    clusterDomain: str(flags['cluster-domain']) ?? env.CLUSTER_DOMAIN ?? d.clusterDomain,
    bindAddress: str(flags['bind-address']) ?? d.bindAddress,
    metricsPort: num(str(flags['metrics-port']) ?? env.METRICS_PORT, d.metricsPort),
    metricsSecure: bool(str(flags['metrics-secure']) ?? env.METRICS_SECURE, d.metricsSecure),
    metricsCertDir: str(flags['metrics-cert-dir']) ?? env.METRICS_CERT_DIR,
    healthPort: num(str(flags['health-port']) ?? env.HEALTH_PORT, d.healthPort),
    workers: num(str(flags.workers), d.workers),
    resyncSeconds: num(str(flags['resync-seconds']), d.resyncSeconds),
    leaderElection: leaderElect === true || leaderElect === 'true',
    leaseNamespace: str(flags['lease-namespace']) ?? podNamespace(env),
    leaseName: str(flags['lease-name']) ?? d.leaseName,
    identity: str(flags.identity) ?? env.POD_NAME ?? hostname(),
    leaseDurationSeconds: num(str(flags['lease-duration-seconds']), d.leaseDurationSeconds),
    renewDeadlineSeconds: num(str(flags['renew-deadline-seconds']), d.renewDeadlineSeconds),
    retryPeriodSeconds: num(str(flags['retry-period-seconds']), d.retryPeriodSeconds),
    logLevel: str(flags['log-level']) ?? env.LOG_LEVEL ?? d.logLevel,
    kubeconfig: str(flags.kubeconfig),
  });
}

/** The flags `next-image operator` accepts (for node:util parseArgs). */
export const OPERATOR_FLAGS = {
  namespaces: { type: 'string' },
  image: { type: 'string' },
  'valkey-image': { type: 'string' },
  'cluster-domain': { type: 'string' },
  'bind-address': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-secure': { type: 'string' },
  'metrics-cert-dir': { type: 'string' },
  'health-port': { type: 'string' },
  workers: { type: 'string' },
  'resync-seconds': { type: 'string' },
  'leader-elect': { type: 'boolean' },
  'lease-namespace': { type: 'string' },
  'lease-name': { type: 'string' },
  identity: { type: 'string' },
  'lease-duration-seconds': { type: 'string' },
  'renew-deadline-seconds': { type: 'string' },
  'retry-period-seconds': { type: 'string' },
  'log-level': { type: 'string' },
  kubeconfig: { type: 'string' },
} as const;
