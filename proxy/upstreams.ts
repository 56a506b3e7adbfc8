import type { GatewayConfig } from '../api/gateway-config.ts';
import { appUrl, type Discovery } from '../lib/discovery.ts';
import { normalizePrefix } from './routes.ts';

/** Where one application's requests go. */
export interface Upstream {
  application: string;
  /** Scheme, host and port, e.g. http://10.0.0.7:3000 */
  origin: string;
  /** Path that replaces the application's prefix ("" or e.g. "/base"). */
  basePath: string;
}

/**
 * Resolves every proxied application to a concrete upstream: `proxy.upstream`, else `origin`,
 * else `http://<id>.plt.local` through discovery (which throws for an unknown application).
 * `proxy.rewritePrefix`, else the upstream URL's own path, replaces the prefix, as in
 * @fastify/http-proxy.
 */
export function resolveUpstreams(
  config: GatewayConfig,
  discovery: Discovery,
): Map<string, Upstream> {
  const out = new Map<string, Upstream>();
  for (const app of config.gateway.applications) {
    if (app.proxy === false) continue;
    const declared = app.proxy?.upstream ?? app.origin;
    const url = discovery.resolve(declared === undefined ? appUrl(app.id) : new URL(declared));
    const rewrite = app.proxy?.rewritePrefix ?? url.pathname;
    out.set(app.id, {
      application: app.id,
      origin: url.origin,
      basePath: normalizePrefix(rewrite),
    });
  }
  return out;
}
