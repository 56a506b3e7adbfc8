import type { z } from 'zod';
import type { GatewayApplicationSchema, GatewayConfigInput } from '../../api/gateway-config.ts';
import type { ImageOptimizer } from '../../api/image-optimizer.ts';
import type { OptimizerConfigSchema } from '../../api/optimizer-config.ts';
import { childNames, PORTS } from './names.ts';
import type { StoragePlan } from './storage.ts';

export type OptimizerConfigInput = z.input<typeof OptimizerConfigSchema>;
type GatewayApplication = z.input<typeof GatewayApplicationSchema>;

/** `<app>.plt.local` → `<app>.<namespace>.svc.<clusterDomain>`: the CR's own namespace. */
function discovery(
  cr: ImageOptimizer,
  clusterDomain: string,
): { namespace: string; clusterDomain: string } {
  return { namespace: cr.metadata.namespace ?? 'default', clusterDomain };
}

/** The optimizer's config file (same shape as the guide's optimizer watt.json). */
export function optimizerConfig(
  cr: ImageOptimizer,
  storage: StoragePlan,
  clusterDomain: string,
): OptimizerConfigInput {
  const io = cr.spec.imageOptimizer;
  const imageOptimizer: OptimizerConfigInput['next']['imageOptimizer'] = {
    enabled: true,
    fallback: io.fallback,
    timeout: io.timeout,
    maxAttempts: io.maxAttempts,
    // Without url when it comes from a Secret: the optimizer merges it in from its environment.
    storage: storage.config as OptimizerConfigInput['next']['imageOptimizer']['storage'],
  };
  if (io.ttl !== undefined) imageOptimizer.ttl = io.ttl;
  const config: OptimizerConfigInput = {
    next: { imageOptimizer, images: cr.spec.images },
    discovery: discovery(cr, clusterDomain),
  };
  if (cr.spec.optimizer.tuning !== undefined) config.optimizer = cr.spec.optimizer.tuning;
  return config;
}

/** The in-cluster URL of this resource's optimizer Service. */
export function optimizerOrigin(cr: ImageOptimizer, clusterDomain: string): string {
  const ns = cr.metadata.namespace ?? 'default';
  return `http://${childNames(cr.metadata.name).optimizer}.${ns}.svc.${clusterDomain}:${PORTS.optimizer}`;
}

/** The guide's two routes: GET /_next/image → optimizer, everything else → the fallback. */
export function defaultApplications(cr: ImageOptimizer): GatewayApplication[] {
  const fallback = cr.spec.imageOptimizer.fallback;
  const fallbackApp: GatewayApplication = /^https?:\/\//.test(fallback)
    ? { id: 'fallback', origin: fallback, proxy: { prefix: '/', routes: ['/*'] } }
    : { id: fallback, proxy: { prefix: '/', routes: ['/*'] } };
  return [
    { id: 'optimizer', proxy: { prefix: '/', routes: ['/_next/image'], methods: ['GET'] } },
    fallbackApp,
  ];
}

/** The gateway's config file (same shape as the guide's gateway watt.json). */
export function gatewayConfig(cr: ImageOptimizer, clusterDomain: string): GatewayConfigInput {
  const apps: GatewayApplication[] = cr.spec.gateway.applications ?? defaultApplications(cr);
  // "optimizer" is this resource's optimizer, whose Service is <name>-optimizer, not "optimizer".
  const applications = apps.map((app) =>
    app.id === 'optimizer' &&
    app.origin === undefined &&
    (app.proxy === undefined || app.proxy === false || app.proxy.upstream === undefined)
      ? { ...app, origin: optimizerOrigin(cr, clusterDomain) }
      : app,
  );
  return {
    gateway: { applications },
    discovery: discovery(cr, clusterDomain),
    admin: { hostname: '0.0.0.0', port: PORTS.gatewayAdmin },
  };
}
